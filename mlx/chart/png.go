package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log/slog"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/dlexp/dlexp/mlx/logs"
	"github.com/dlexp/dlexp/mlx/notebook"
)

// Palette is the colour of each series, in order (ECharts' default palette, so the PNG and
// the interactive chart agree).
var Palette = []color.RGBA{
	{0x54, 0x70, 0xc6, 0xff}, {0x91, 0xcc, 0x75, 0xff}, {0xfa, 0xc8, 0x58, 0xff},
	{0xee, 0x66, 0x66, 0xff}, {0x73, 0xc0, 0xde, 0xff}, {0x3b, 0xa2, 0x72, 0xff},
	{0xfc, 0x84, 0x52, 0xff}, {0x9a, 0x60, 0xb4, 0xff}, {0xea, 0x7c, 0xcc, 0xff},
}

// Colours and sizes of the raster drawing.
var (
	colBackground = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colTitle      = color.RGBA{0x33, 0x33, 0x33, 0xff}
	colText       = color.RGBA{0x6e, 0x70, 0x79, 0xff}
	colAxis       = color.RGBA{0x6e, 0x70, 0x79, 0xff}
	colGrid       = color.RGBA{0xe0, 0xe6, 0xf1, 0xff}
)

const (
	lineHeight = 16  // text line height in pixels (the 7x13 font plus spacing)
	charWidth  = 7   // advance of one character of the 7x13 font
	lineWidth  = 2.0 // width of series lines in pixels
	dotRadius  = 2.6 // radius of point markers in pixels
)

// plotRect maps data coordinates to pixels inside the plot area.
type plotRect struct {
	area           image.Rectangle
	x0, x1, y0, y1 float64 // data range; y in log10 units on a log axis
	logY           bool
}

func (p plotRect) px(x float64) float64 {
	return float64(p.area.Min.X) + (x-p.x0)/(p.x1-p.x0)*float64(p.area.Dx())
}

func (p plotRect) py(y float64) float64 {
	if p.logY {
		y = math.Log10(y)
	}
	return float64(p.area.Max.Y) - (y-p.y0)/(p.y1-p.y0)*float64(p.area.Dy())
}

// Image rasterises the chart in pure Go: title, axes with ticks, grid lines, one anti-aliased
// line per series (markers when there are few points), gaps at NaN, and a legend.
func (c *Line) Image() *image.RGBA {
	w, h := c.width, c.height
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(colBackground), image.Point{}, draw.Src)

	// Title block.
	top := 6
	if c.title != "" {
		drawText(img, 10, top, c.title, colTitle)
		drawText(img, 11, top, c.title, colTitle) // twice, shifted: a bold title
		top += lineHeight + 2
	}
	if c.subtitle != "" {
		drawText(img, 10, top, c.subtitle, colText)
		top += lineHeight
	}
	top += lineHeight + 4 // room for the y axis name

	// Legend rows at the bottom.
	legend := c.legendRows(w - 20)
	bottom := h - 6 - len(legend)*lineHeight - 6 - lineHeight - 6 // legend, x tick labels
	if c.xName != "" {
		bottom -= lineHeight
	}

	// Scales and the left margin that the y labels need.
	xs, ys := c.ranges()
	yTicks, yLabels := ys.ticks(max(2, (bottom-top)/60))
	left := 10
	for _, s := range yLabels {
		left = max(left, len(s)*charWidth+16)
	}
	area := image.Rect(left, top, w-24, bottom)
	if area.Dx() < 20 || area.Dy() < 20 {
		return img
	}
	xTicks, xLabels := xs.ticks(max(2, area.Dx()/90))
	p := plotRect{area: area, x0: xs.lo, x1: xs.hi, y0: ys.lo, y1: ys.hi, logY: c.logY}

	// Grid, axes, tick labels, axis names.
	for i, t := range yTicks {
		y := int(math.Round(float64(area.Max.Y) - (t-ys.lo)/(ys.hi-ys.lo)*float64(area.Dy())))
		hline(img, area.Min.X, area.Max.X, y, colGrid)
		drawText(img, area.Min.X-8-len(yLabels[i])*charWidth, y-7, yLabels[i], colText)
	}
	hline(img, area.Min.X, area.Max.X, area.Max.Y, colAxis)
	for i, t := range xTicks {
		x := int(math.Round(p.px(t)))
		vline(img, x, area.Max.Y, area.Max.Y+4, colAxis)
		drawText(img, x-len(xLabels[i])*charWidth/2, area.Max.Y+6, xLabels[i], colText)
	}
	if c.yName != "" {
		drawText(img, max(2, area.Min.X-len(c.yName)*charWidth/2), top-lineHeight-2,
			c.yName, colText)
	}
	if c.xName != "" {
		drawText(img, area.Min.X+(area.Dx()-len(c.xName)*charWidth)/2,
			area.Max.Y+6+lineHeight, c.xName, colText)
	}

	// Series, then the legend.
	cov := make([]float32, area.Dx()*area.Dy())
	for i, s := range c.series {
		clear(cov)
		c.coverSeries(cov, p, s)
		fillCoverage(img, area, cov, Palette[i%len(Palette)])
	}
	y := h - 6 - len(legend)*lineHeight
	for _, row := range legend {
		x := (w - row.width) / 2
		for _, k := range row.items {
			col := Palette[k%len(Palette)]
			for dy := 0; dy < 2; dy++ {
				hline(img, x, x+18, y+6+dy, col)
			}
			drawText(img, x+22, y, c.series[k].Name, colTitle)
			x += legendItemWidth(c.series[k].Name)
		}
		y += lineHeight
	}
	return img
}

// PNG returns Image encoded as PNG.
func (c *Line) PNG() ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, c.Image()); err != nil {
		return nil, fmt.Errorf("chart: encoding %q as PNG: %w", c.title, err)
	}
	return b.Bytes(), nil
}

// SavePNG writes the chart as a PNG file atomically to name (under out/ unless absolute) and
// returns the path.
func (c *Line) SavePNG(name string) (string, error) {
	b, err := c.PNG()
	if err != nil {
		return "", err
	}
	return notebook.SaveFile(name, b)
}

// ShowPNG displays the chart as a PNG image in the notebook cell; outside a notebook it saves
// the PNG under out/ (named after the title) and logs where.
func (c *Line) ShowPNG() error {
	b, err := c.PNG()
	if err != nil {
		return err
	}
	if notebook.DisplayPNG(b) {
		return nil
	}
	p, err := notebook.SaveFile(c.fileName(".png"), b)
	if err != nil {
		return err
	}
	logs.Setup()
	slog.Info("chart: saved", "title", c.title, "path", p)
	return nil
}

// coverSeries accumulates into cov (one value per pixel of the plot area) how much each pixel
// is covered by the series' line segments and markers.
func (c *Line) coverSeries(cov []float32, p plotRect, s *Series) {
	type pt struct{ x, y float64 }
	var prev *pt
	n := 0
	for i := range s.Y {
		if c.plotted(s.Y[i]) {
			n++
		}
	}
	for i, y := range s.Y {
		if !c.plotted(y) || math.IsNaN(s.X[i]) || math.IsInf(s.X[i], 0) {
			prev = nil
			continue
		}
		cur := pt{p.px(s.X[i]), p.py(y)}
		if prev != nil {
			coverSegment(cov, p.area, prev.x, prev.y, cur.x, cur.y, lineWidth/2)
		}
		isolated := prev == nil && (i+1 == len(s.Y) || !c.plotted(s.Y[i+1]))
		if n <= maxSymbols || isolated {
			coverSegment(cov, p.area, cur.x, cur.y, cur.x, cur.y, dotRadius)
		}
		prev = &cur
	}
}

// coverSegment raises cov to the coverage of a segment of half-width r from (ax, ay) to
// (bx, by) with round ends, anti-aliased over one pixel, clipped to area.
func coverSegment(cov []float32, area image.Rectangle, ax, ay, bx, by, r float64) {
	ox, oy := float64(area.Min.X), float64(area.Min.Y)
	x0 := max(int(math.Floor(min(ax, bx)-r-1)), area.Min.X)
	x1 := min(int(math.Ceil(max(ax, bx)+r+1)), area.Max.X-1)
	y0 := max(int(math.Floor(min(ay, by)-r-1)), area.Min.Y)
	y1 := min(int(math.Ceil(max(ay, by)+r+1)), area.Max.Y-1)
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	stride := area.Dx()
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			cx, cy := float64(x)+0.5, float64(y)+0.5
			t := 0.0
			if l2 > 0 {
				t = min(max(((cx-ax)*dx+(cy-ay)*dy)/l2, 0), 1)
			}
			ex, ey := cx-(ax+t*dx), cy-(ay+t*dy)
			a := float32(min(max(r+0.5-math.Sqrt(ex*ex+ey*ey), 0), 1))
			i := (y-int(oy))*stride + x - int(ox)
			if a > cov[i] {
				cov[i] = a
			}
		}
	}
}

// fillCoverage blends col over img inside area in proportion to cov.
func fillCoverage(img *image.RGBA, area image.Rectangle, cov []float32, col color.RGBA) {
	stride := area.Dx()
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			a := cov[(y-area.Min.Y)*stride+x-area.Min.X]
			if a <= 0 {
				continue
			}
			o := img.PixOffset(x, y)
			px := img.Pix[o : o+3 : o+3]
			px[0] = mix(px[0], col.R, a)
			px[1] = mix(px[1], col.G, a)
			px[2] = mix(px[2], col.B, a)
		}
	}
}

func mix(dst, src uint8, a float32) uint8 {
	return uint8(float32(dst)*(1-a) + float32(src)*a + 0.5)
}

func hline(img *image.RGBA, x0, x1, y int, col color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y, col)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, col color.RGBA) {
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x, y, col)
	}
}

// drawText writes s with the 7x13 font, its top-left corner at (x, y).
func drawText(img *image.RGBA, x, y int, s string, col color.RGBA) {
	d := font.Drawer{
		Dst:  img,
		Src:  image.NewUniform(col),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, y+basicfont.Face7x13.Ascent),
	}
	d.DrawString(s)
}

// legendRow is one line of the legend: series indices and its width in pixels.
type legendRow struct {
	items []int
	width int
}

func legendItemWidth(name string) int { return 22 + len(name)*charWidth + 16 }

// legendRows lays the series names out in rows no wider than width.
func (c *Line) legendRows(width int) []legendRow {
	var rows []legendRow
	var cur legendRow
	for i, s := range c.series {
		iw := legendItemWidth(s.Name)
		if len(cur.items) > 0 && cur.width+iw > width {
			rows = append(rows, cur)
			cur = legendRow{}
		}
		cur.items = append(cur.items, i)
		cur.width += iw
	}
	if len(cur.items) > 0 {
		rows = append(rows, cur)
	}
	return rows
}

// axisRange is the extent of one axis; lo and hi are in log10 units on a log axis.
type axisRange struct {
	lo, hi  float64
	log     bool
	integer bool
}

// ranges returns the x and y extents of the plotted points, widened to whole ticks.
func (c *Line) ranges() (axisRange, axisRange) {
	xs := axisRange{lo: math.Inf(1), hi: math.Inf(-1), integer: c.integerX()}
	ys := axisRange{lo: math.Inf(1), hi: math.Inf(-1), log: c.logY}
	for _, s := range c.series {
		for i, y := range s.Y {
			x := s.X[i]
			if !c.plotted(y) || math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			if c.logY {
				y = math.Log10(y)
			}
			xs.lo, xs.hi = min(xs.lo, x), max(xs.hi, x)
			ys.lo, ys.hi = min(ys.lo, y), max(ys.hi, y)
		}
	}
	if !math.IsNaN(c.yMin) && !math.IsNaN(c.yMax) && c.yMax > c.yMin {
		ys.lo, ys.hi = c.yMin, c.yMax
		if c.logY && c.yMin > 0 {
			ys.lo, ys.hi = math.Log10(c.yMin), math.Log10(c.yMax)
		}
	}
	xs.settle()
	ys.settle()
	return xs, ys
}

// settle gives the range a width and extends it to whole ticks.
func (r *axisRange) settle() {
	if math.IsInf(r.lo, 0) || math.IsInf(r.hi, 0) {
		r.lo, r.hi = 0, 1
	}
	if r.hi == r.lo {
		d := max(math.Abs(r.lo)*0.1, 1)
		if r.log {
			d = 1
		}
		r.lo, r.hi = r.lo-d, r.hi+d
	}
	if r.log {
		r.lo, r.hi = math.Floor(r.lo), math.Ceil(r.hi)
		return
	}
	step := r.step(5)
	r.lo = math.Floor(r.lo/step+1e-9) * step
	r.hi = math.Ceil(r.hi/step-1e-9) * step
}

// step returns a round tick step (1, 2 or 5 times a power of ten) giving about n intervals.
func (r axisRange) step(n int) float64 {
	raw := (r.hi - r.lo) / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 5, 10} {
		if raw/mag > m*0.75 {
			step = m * mag
		}
	}
	if r.integer {
		step = max(step, 1)
	}
	return step
}

// ticks returns about n tick positions inside the range (in axis units) and their labels.
func (r axisRange) ticks(n int) ([]float64, []string) {
	var ts []float64
	var labels []string
	if r.log {
		decades := int(r.hi - r.lo)
		every := max(1, (decades+n-1)/max(n, 1))
		for e := r.lo; e <= r.hi+1e-9; e += float64(every) {
			ts = append(ts, e)
			labels = append(labels, strconv.FormatFloat(math.Pow(10, e), 'g', 3, 64))
			if decades <= 2 && e < r.hi {
				for _, m := range []float64{2, 5} {
					ts = append(ts, e+math.Log10(m))
					labels = append(labels, strconv.FormatFloat(m*math.Pow(10, e), 'g', 3, 64))
				}
			}
		}
		return ts, labels
	}
	step := r.step(n)
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	first := math.Ceil(r.lo/step-1e-9) * step
	for t := first; t <= r.hi+step*1e-9; t += step {
		v := math.Round(t/step) * step
		if v == 0 {
			v = 0 // no "-0"
		}
		ts = append(ts, v)
		if math.Abs(v) >= 1e6 || (decimals > 6 && v != 0) {
			labels = append(labels, strconv.FormatFloat(v, 'g', 4, 64))
		} else {
			labels = append(labels, strconv.FormatFloat(v, 'f', decimals, 64))
		}
	}
	return ts, labels
}
