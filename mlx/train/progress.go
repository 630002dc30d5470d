package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// isTerminal reports whether f is a character device (a terminal), where a progress bar that
// rewrites its line is welcome; in a notebook or a log file it is not.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progressBar draws one line, rewritten in place at most every refresh: the epoch, a bar of
// the steps done in it, the running mean loss and the seconds per step.
type progressBar struct {
	w       io.Writer
	refresh time.Duration
	last    time.Time
	width   int
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, refresh: 250 * time.Millisecond, width: 30}
}

// step redraws the line if enough time has passed (or force is set).
func (p *progressBar) step(epoch, epochs, step, steps int, loss float64, perStep time.Duration,
	force bool) {
	now := time.Now()
	if !force && now.Sub(p.last) < p.refresh {
		return
	}
	p.last = now
	done := p.width * step / max(steps, 1)
	bar := strings.Repeat("=", done) + strings.Repeat(" ", p.width-done)
	fmt.Fprintf(p.w, "\repoch %d/%d [%s] %d/%d loss %.4g %.3gs/step ",
		epoch, epochs, bar, step, steps, loss, perStep.Seconds())
}

// line ends the bar's line with a summary.
func (p *progressBar) line(format string, args ...any) {
	fmt.Fprintf(p.w, "\r\033[K"+format+"\n", args...)
}
