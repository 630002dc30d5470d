package chart

import (
	"log/slog"
	"sync"
	"time"

	"github.com/dlexp/dlexp/mlx/logs"
	"github.com/dlexp/dlexp/mlx/notebook"
)

// minFileInterval is the shortest time between two rewrites of a Live chart's HTML file.
const minFileInterval = 2 * time.Second

// Live is a line chart that redraws in place as points are appended, e.g. once per epoch
// while a model trains in the same cell. In a notebook it is one output block updated in place
// (the saved notebook keeps its last state); outside a notebook it is an HTML file under out/,
// rewritten every few seconds. Its methods are safe for concurrent use.
type Live struct {
	mu sync.Mutex

	// The chart and where it is shown.
	line      *Line
	displayID string
	divID     string

	// Redraw pacing: last redraw, and a timer for the redraw of points added since.
	lastDraw time.Time
	lastFile time.Time
	timer    *time.Timer
	dirty    bool

	// File output, and the first error met (Append has no error result).
	path   string
	logged bool
	err    error
}

// NewLive returns a live line chart with the given title; nothing is shown until the first
// Append.
func NewLive(title string, opts ...Option) *Live {
	return &Live{
		line:      NewLine(title, opts...),
		displayID: notebook.NewID("dlexp-live-"),
		divID:     notebook.NewID("dlexp-chart-"),
	}
}

// Append adds the point (x, y) to the named series and redraws the chart, at most once per
// WithInterval; a point that arrives sooner is drawn shortly after, and always by Close.
func (l *Live) Append(series string, x, y float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.line.Append(series, x, y)
	l.dirty = true

	wait := l.line.interval
	last := l.lastDraw
	if !notebook.Active() {
		wait, last = max(wait, minFileInterval), l.lastFile
	}
	if since := time.Since(last); since >= wait {
		l.drawLocked(false)
		return
	}
	if l.timer == nil {
		l.timer = time.AfterFunc(wait-time.Since(last), func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.timer = nil
			if l.dirty {
				l.drawLocked(false)
			}
		})
	}
}

// Flush redraws the chart now with every point appended so far and returns the first error
// met while drawing or writing.
func (l *Live) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopTimerLocked()
	l.drawLocked(false)
	return l.err
}

// Close draws the final state: in a notebook it waits until the update has reached the
// front-end; outside one (or with WithFile) it writes the HTML file and logs its path.
// It returns the first error met. Appending after Close redraws again.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopTimerLocked()
	l.drawLocked(true)
	if notebook.Active() {
		notebook.Sync()
	}
	return l.err
}

// drawn reports whether the notebook block already shows every point.
func (l *Live) drawn() bool {
	return !l.dirty && !l.lastDraw.IsZero()
}

// Path returns the HTML file the chart was last written to, or "" if none yet.
func (l *Live) Path() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.path
}

// Line returns a copy of the chart as it is now, e.g. to save it as PNG.
func (l *Live) Line() *Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.line.Clone()
}

func (l *Live) stopTimerLocked() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// drawLocked shows the current state in the notebook block, and writes the file outside a
// notebook or, at the end, when one was asked for.
func (l *Live) drawLocked(final bool) {
	redundant := final && l.drawn()
	l.dirty = false
	now := time.Now()
	if notebook.Active() {
		if !redundant {
			l.lastDraw = now
			snip, err := l.line.snippet(l.divID, false)
			if err != nil {
				l.fail(err)
				return
			}
			EnsureLibrary()
			notebook.UpdateHTML(l.displayID, snip)
		}
		if !final || l.line.file == "" {
			return
		}
	}
	l.lastFile = now
	p, err := l.line.SaveHTML(l.line.fileName(".html"))
	if err != nil {
		l.fail(err)
		return
	}
	l.path = p
	if !l.logged || final {
		l.logged = true
		logs.Setup()
		slog.Info("chart: live chart written", "title", l.line.title, "path", p)
	}
}

func (l *Live) fail(err error) {
	if l.err == nil {
		l.err = err
		logs.Setup()
		slog.Warn("chart: live chart not drawn", "title", l.line.title, "err", err)
	}
}
