// Package notebook says where output is displayed and puts it there: the cell output of a GoNB
// notebook when the program runs inside one, files under out/ otherwise.
//
// It is the small layer shared by the display helpers (mlx/chart, mlx/gif): rich output goes
// through GoNB's display protocol, files are written atomically, and a kernel-wide "once" lets a
// helper send a large asset (a JavaScript library) a single time per kernel.
package notebook

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// EnvOut is the environment variable naming the folder for output files; "out" when unset.
const EnvOut = "DLEXP_OUT"

// Output receives rich cell output. The GoNB kernel is the real one; a Recorder stands in for
// it in tests.
type Output interface {
	// HTML adds a final HTML output to the cell.
	HTML(html string)
	// UpdateHTML creates, or replaces in place, the output block with the given display id.
	UpdateHTML(id, html string)
	// PNG adds a PNG image output to the cell.
	PNG(png []byte)
	// Sync waits until everything sent has reached the front-end.
	Sync()
}

// gonbOutput sends output to the GoNB kernel that started this program.
type gonbOutput struct{}

func (gonbOutput) HTML(html string)           { gonbui.DisplayHTML(html) }
func (gonbOutput) UpdateHTML(id, html string) { gonbui.UpdateHTML(id, html) }
func (gonbOutput) PNG(png []byte)             { gonbui.DisplayPng(png) }
func (gonbOutput) Sync()                      { gonbui.Sync() }

var (
	// mu guards the capture state below.
	mu sync.Mutex
	// captured replaces the kernel output while a Capture is active.
	captured *Recorder
	// sessionOverride replaces the kernel session folder while a Capture is active.
	sessionOverride string
	// onceInProcess remembers Once keys when there is no session folder.
	onceInProcess = map[string]bool{}
)

// Active reports whether rich output has somewhere to go: a GoNB kernel runs this program, or
// a Capture is active.
func Active() bool {
	return Current() != nil
}

// InGoNB reports whether this program was started by a GoNB kernel.
func InGoNB() bool {
	return gonbui.IsNotebook
}

// Current returns where rich output goes now: the active Capture's Recorder, the GoNB kernel,
// or nil outside a notebook.
func Current() Output {
	mu.Lock()
	defer mu.Unlock()
	if captured != nil {
		return captured
	}
	if gonbui.IsNotebook {
		return gonbOutput{}
	}
	return nil
}

// DisplayHTML shows html as a final output of the running cell and reports whether it was shown.
func DisplayHTML(html string) bool {
	out := Current()
	if out == nil {
		return false
	}
	out.HTML(html)
	return true
}

// UpdateHTML creates or replaces in place the output block named id and reports whether it was
// shown. GoNB sends the first call as display_data and later ones as update_display_data; the
// saved notebook keeps the block with its last content.
func UpdateHTML(id, html string) bool {
	out := Current()
	if out == nil {
		return false
	}
	out.UpdateHTML(id, html)
	return true
}

// DisplayPNG shows an encoded PNG image in the running cell and reports whether it was shown.
func DisplayPNG(png []byte) bool {
	out := Current()
	if out == nil {
		return false
	}
	out.PNG(png)
	return true
}

// Sync waits until all output sent so far has reached the notebook; call it before a cell
// program ends. It does nothing outside a notebook.
func Sync() {
	if out := Current(); out != nil {
		out.Sync()
	}
}

// NewID returns a random identifier for display blocks and DOM elements, starting with prefix.
func NewID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; keep ids unique within the process.
		return fmt.Sprintf("%s%p", prefix, &b)
	}
	return prefix + hex.EncodeToString(b[:])
}

// SessionDir returns a folder that lives as long as the GoNB kernel (its build folder), or ""
// outside a notebook. Each cell runs as a new process; files here are shared by all of them.
func SessionDir() string {
	mu.Lock()
	defer mu.Unlock()
	if captured != nil {
		return sessionOverride
	}
	if !gonbui.IsNotebook {
		return ""
	}
	return os.Getenv(protocol.GONB_TMP_DIR_ENV)
}

// Once reports whether this is the first call with key in the current kernel session: the first
// call leaves a marker file in SessionDir and returns true, later calls (from any cell) return
// false. Without a session folder, the marker is kept in memory for this process.
func Once(key string) bool {
	dir := SessionDir()
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		seen := onceInProcess
		if captured != nil {
			seen = captured.once
		}
		if seen[key] {
			return false
		}
		seen[key] = true
		return true
	}
	marker := filepath.Join(dir, ".dlexp-once-"+sanitize(key))
	f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		// Exists already, or the folder is unusable: either way do not send again from here,
		// unless the folder is gone, where sending again is the safe choice.
		return errors.Is(err, os.ErrNotExist)
	}
	_ = f.Close()
	return true
}

// ForgetOnce removes the marker of key so the next Once(key) returns true again, e.g. after
// the browser page was reloaded and lost what had been sent.
func ForgetOnce(key string) {
	dir := SessionDir()
	mu.Lock()
	defer mu.Unlock()
	delete(onceInProcess, key)
	if captured != nil {
		delete(captured.once, key)
	}
	if dir != "" {
		_ = os.Remove(filepath.Join(dir, ".dlexp-once-"+sanitize(key)))
	}
}

// sanitize keeps letters, digits, '-' and '_' of key so it can be part of a file name.
func sanitize(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, key)
}
