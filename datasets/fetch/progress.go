package fetch

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// EnvProgress is the environment variable that forces progress lines on ("1")
// or off ("0") whatever standard error is.
const EnvProgress = "DLEXP_PROGRESS"

// ProgressOutput returns where progress lines should go by default: standard
// error when it is a terminal or $DLEXP_PROGRESS is "1", nil (no lines) when it
// is not a terminal or $DLEXP_PROGRESS is "0".
func ProgressOutput() io.Writer {
	switch os.Getenv(EnvProgress) {
	case "1":
		return os.Stderr
	case "0":
		return nil
	}
	if isTerminal(os.Stderr) {
		return os.Stderr
	}
	return nil
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Progress writes a throttled progress line for a long copy: the label, bytes
// done, the share of the total when known, and the rate. On a terminal the line
// is redrawn in place; elsewhere a new line is written at most every Interval.
// A Progress with a nil writer counts silently. It is safe for concurrent use.
type Progress struct {
	// Interval is the least time between two lines.
	Interval time.Duration

	mu      sync.Mutex
	w       io.Writer
	items   bool
	inPlace bool
	label   string
	total   int64
	done    int64
	start   time.Time
	last    time.Time
	shown   bool
}

// NewProgress returns a Progress that writes to w (nil: nowhere) about label,
// out of total bytes (total <= 0: unknown).
func NewProgress(w io.Writer, label string, total int64) *Progress {
	p := &Progress{w: w, label: label, total: total, start: time.Now()}
	p.Interval = 5 * time.Second
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		p.inPlace = true
		p.Interval = 200 * time.Millisecond
	}
	return p
}

// NewCounter returns a Progress that counts items (such as images) instead of
// bytes: Add(1) per item done, out of total.
func NewCounter(w io.Writer, label string, total int64) *Progress {
	p := NewProgress(w, label, total)
	p.items = true
	return p
}

// Write counts len(b) bytes as done, so a Progress can sit in an io.MultiWriter
// or io.TeeReader. It never fails.
func (p *Progress) Write(b []byte) (int, error) {
	p.Add(int64(len(b)))
	return len(b), nil
}

// Add counts n more bytes as done and writes a line when one is due.
func (p *Progress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.done += n
	if p.w == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.Interval || now.Sub(p.start) < p.Interval {
		return
	}
	p.last = now
	p.show(now, false)
}

// Done returns the number of bytes counted so far.
func (p *Progress) Done() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Finish writes the closing line when any line was written before, or when the
// work took longer than Interval.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.w == nil {
		return
	}
	now := time.Now()
	if !p.shown && now.Sub(p.start) < p.Interval {
		return
	}
	p.show(now, true)
}

// show writes one line; the caller holds p.mu.
func (p *Progress) show(now time.Time, final bool) {
	p.shown = true
	secs := now.Sub(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.done) / secs
	}
	format := formatBytes
	if p.items {
		format = func(n int64) string { return fmt.Sprint(n) }
	}
	line := p.label + " " + format(p.done)
	if p.total > 0 {
		line += fmt.Sprintf(" of %s (%d%%)", format(p.total), p.done*100/p.total)
	}
	if p.items {
		line += fmt.Sprintf(", %.1f/s", rate)
	} else {
		line += fmt.Sprintf(", %s/s", formatBytes(int64(rate)))
	}
	if final {
		line += fmt.Sprintf(", done in %.1fs", secs)
	}
	switch {
	case !p.inPlace:
		fmt.Fprintln(p.w, line)
	case final:
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", line)
	default:
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	}
}

// formatBytes writes n with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
