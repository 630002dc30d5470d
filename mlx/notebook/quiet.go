package notebook

import "github.com/dlexp/dlexp/mlx/logs"

// In a notebook, every package of the zoo logs through one quiet logger (warnings and errors
// only, everything with DLEXP_VERBOSE=1), whichever package logs first.
func init() {
	if InGoNB() {
		logs.Setup()
	}
}
