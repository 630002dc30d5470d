// Package chart draws line charts for notebooks and files: interactive Apache ECharts charts
// (built with go-echarts) shown in a GoNB cell, updated in place while a model trains, saved
// as standalone HTML, and rasterised in pure Go to PNG.
//
// ECharts itself is read from a local file and sent to the notebook once per kernel, so charts
// draw without internet; see LibraryPath.
//
//	live := chart.NewLive("loss", chart.WithAxes("epoch", "loss"))
//	defer live.Close()
//	for epoch := 1; epoch <= 10; epoch++ {
//		live.Append("train", float64(epoch), trainLoss)
//	}
package chart

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Default sizes of a chart, in CSS pixels for HTML and in pixels for PNG.
const (
	DefaultWidth  = 860
	DefaultHeight = 400
)

// Series is one named line: points (X[i], Y[i]). A NaN or infinite Y leaves a gap.
type Series struct {
	Name string
	X, Y []float64
}

// Line is a line chart of one or more series sharing numeric x and y axes.
// A Line is not safe for concurrent use; Live wraps one for that.
type Line struct {
	// Texts.
	title, subtitle string
	xName, yName    string

	// Layout and scales.
	width, height int
	logY          bool
	yMin, yMax    float64 // both NaN: automatic
	interval      time.Duration
	file          string

	series []*Series
}

// Option configures a Line or a Live chart.
type Option func(*Line)

// WithAxes names the x and y axes.
func WithAxes(x, y string) Option {
	return func(c *Line) { c.xName, c.yName = x, y }
}

// WithSubtitle sets a second, smaller title line.
func WithSubtitle(s string) Option {
	return func(c *Line) { c.subtitle = s }
}

// WithSize sets the chart size in pixels; values under 120x100 are raised to that.
func WithSize(width, height int) Option {
	return func(c *Line) { c.width, c.height = max(width, 120), max(height, 100) }
}

// WithLogY uses a logarithmic y axis (for losses); points with y <= 0 are left out.
func WithLogY() Option {
	return func(c *Line) { c.logY = true }
}

// WithYRange fixes the y axis to [min, max], e.g. [0, 1] for accuracies.
func WithYRange(min, max float64) Option {
	return func(c *Line) { c.yMin, c.yMax = min, max }
}

// WithFile names the HTML file a Live chart writes (under out/ unless absolute). Outside a
// notebook a Live chart always writes one, named after its title by default; in a notebook
// only when this option is given.
func WithFile(name string) Option {
	return func(c *Line) { c.file = name }
}

// WithInterval sets the shortest time between two redraws of a Live chart (default 250ms);
// points appended in between are drawn by the next redraw.
func WithInterval(d time.Duration) Option {
	return func(c *Line) { c.interval = max(d, 0) }
}

// NewLine returns an empty line chart with the given title.
func NewLine(title string, opts ...Option) *Line {
	c := &Line{
		title:    title,
		width:    DefaultWidth,
		height:   DefaultHeight,
		yMin:     math.NaN(),
		yMax:     math.NaN(),
		interval: 250 * time.Millisecond,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Title returns the chart's title.
func (c *Line) Title() string { return c.title }

// Add adds a series named name with points (x[i], y[i]); a nil x means 1, 2, ..., len(y)
// (epochs). Adding to an existing name appends the points to that series.
func (c *Line) Add(name string, x, y []float64) error {
	if x == nil {
		x = make([]float64, len(y))
		for i := range x {
			x[i] = float64(i + 1)
		}
	}
	if len(x) != len(y) {
		return fmt.Errorf("chart: series %q has %d x values but %d y values", name, len(x), len(y))
	}
	s := c.find(name)
	s.X = append(s.X, x...)
	s.Y = append(s.Y, y...)
	return nil
}

// Append adds the point (x, y) to the series named name, creating it if needed.
func (c *Line) Append(name string, x, y float64) {
	s := c.find(name)
	s.X = append(s.X, x)
	s.Y = append(s.Y, y)
}

// Series returns a copy of the chart's series, in the order they were added.
func (c *Line) Series() []Series {
	out := make([]Series, len(c.series))
	for i, s := range c.series {
		out[i] = Series{
			Name: s.Name,
			X:    append([]float64(nil), s.X...),
			Y:    append([]float64(nil), s.Y...),
		}
	}
	return out
}

// Clone returns an independent copy of the chart.
func (c *Line) Clone() *Line {
	d := *c
	d.series = nil
	for _, s := range c.Series() {
		d.series = append(d.series, &s)
	}
	return &d
}

// find returns the series named name, adding an empty one if there is none.
func (c *Line) find(name string) *Series {
	for _, s := range c.series {
		if s.Name == name {
			return s
		}
	}
	s := &Series{Name: name}
	c.series = append(c.series, s)
	return s
}

// plotted reports whether the point y can be drawn on the chart's y axis.
func (c *Line) plotted(y float64) bool {
	if math.IsNaN(y) || math.IsInf(y, 0) {
		return false
	}
	return !c.logY || y > 0
}

// integerX reports whether every x value is a whole number (epochs), so axes tick on integers.
func (c *Line) integerX() bool {
	for _, s := range c.series {
		for _, x := range s.X {
			if x != math.Trunc(x) {
				return false
			}
		}
	}
	return true
}

// fileName returns the name of the chart's HTML file: the WithFile name, or one made from
// the title.
func (c *Line) fileName(ext string) string {
	if c.file != "" {
		if ext == ".html" || !strings.HasSuffix(c.file, ".html") {
			return c.file
		}
		return strings.TrimSuffix(c.file, ".html") + ext
	}
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, strings.TrimSpace(c.title))
	if strings.Trim(base, "_") == "" {
		base = "chart"
	}
	return base + ext
}
