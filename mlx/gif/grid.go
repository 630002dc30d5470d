package gif

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log/slog"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/dlexp/dlexp/mlx/logs"
	"github.com/dlexp/dlexp/mlx/notebook"
)

// Options sets how grids and animations are drawn; the zero value picks sensible defaults.
type Options struct {
	// Scale enlarges every pixel to Scale x Scale (nearest neighbour); 0 picks 1 to 4 so that
	// a tile is about 96 pixels.
	Scale int
	// Gap is the space between tiles in output pixels; 0 means 4, negative means none.
	Gap int
	// Columns are optional titles drawn above the columns ("noisy", "prediction", "clean").
	Columns []string
	// Title is a caption drawn above a static grid (animations use each frame's caption).
	Title string

	// Delay is how long each frame shows (default 500ms); LastDelay is for the last frame
	// (default 2s), so the final result stays a moment before the loop restarts.
	Delay, LastDelay time.Duration
}

// Colours of the parts that are not images.
var (
	colGap  = color.RGBA{0x40, 0x40, 0x40, 0xff}
	colBand = color.RGBA{0x00, 0x00, 0x00, 0xff}
	colText = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

const (
	textHeight = 16 // one line of the 7x13 font with spacing
	charWidth  = 7
)

// layout is where tiles go in a grid at native resolution (before scaling).
type layout struct {
	rows, cols   int
	cellH, cellW int // largest image of the grid
	gap          int // native pixels between tiles
	scale        int
}

// newLayout checks the rows and measures the grid.
func newLayout(rows [][]Image, o Options) (layout, error) {
	var l layout
	if len(rows) == 0 {
		return l, fmt.Errorf("gif: no rows of images")
	}
	for r, row := range rows {
		if len(row) == 0 {
			return l, fmt.Errorf("gif: row %d has no images", r)
		}
		l.cols = max(l.cols, len(row))
		for c, m := range row {
			if err := m.check(); err != nil {
				return l, fmt.Errorf("gif: row %d, column %d: %w", r, c, err)
			}
			l.cellH, l.cellW = max(l.cellH, m.H), max(l.cellW, m.W)
		}
	}
	l.rows = len(rows)
	l.scale = o.Scale
	if l.scale <= 0 {
		l.scale = min(max(96/max(l.cellH, l.cellW), 1), 4)
	}
	gap := o.Gap
	if gap == 0 {
		gap = 4
	}
	if gap > 0 {
		l.gap = (gap + l.scale - 1) / l.scale
	}
	return l, nil
}

// size is the native size of the composed grid.
func (l layout) size() (w, h int) {
	return l.cols*l.cellW + (l.cols-1)*l.gap, l.rows*l.cellH + (l.rows-1)*l.gap
}

// compose draws the tiles at native resolution. An image smaller than the cell is enlarged by
// the largest whole factor that fits (a 2x low-resolution input beside its 2x output), and
// centred.
func (l layout) compose(rows [][]Image) *image.RGBA {
	w, h := l.size()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(colGap), image.Point{}, draw.Src)
	for r, row := range rows {
		for c, m := range row {
			f := max(min(l.cellH/m.H, l.cellW/m.W), 1)
			x0 := c*(l.cellW+l.gap) + (l.cellW-m.W*f)/2
			y0 := r*(l.cellH+l.gap) + (l.cellH-m.H*f)/2
			for y := 0; y < m.H*f; y++ {
				for x := 0; x < m.W*f; x++ {
					cr, cg, cb := m.rgb(y/f, x/f)
					o := img.PixOffset(x0+x, y0+y)
					img.Pix[o], img.Pix[o+1], img.Pix[o+2] = cr, cg, cb
				}
			}
		}
	}
	return img
}

// bandHeight is the height in output pixels of the text band above the grid.
func bandHeight(caption string, columns []string) int {
	n := 0
	if caption != "" {
		n++
	}
	if len(columns) > 0 {
		n++
	}
	if n == 0 {
		return 0
	}
	return n*textHeight + 4
}

// drawBand writes the caption and column titles in the band at the top of dst, whose grid
// below has the given layout.
func drawBand(dst draw.Image, l layout, caption string, columns []string) {
	y := 2
	if caption != "" {
		drawText(dst, 4, y, caption)
		y += textHeight
	}
	colW := l.cellW * l.scale
	step := (l.cellW + l.gap) * l.scale
	for c, title := range columns {
		if c >= l.cols {
			break
		}
		if n := colW / charWidth; len(title) > n {
			title = title[:max(n, 0)]
		}
		drawText(dst, c*step+(colW-len(title)*charWidth)/2, y, title)
	}
}

// drawText writes s in white with the 7x13 font, its top-left corner at (x, y).
func drawText(dst draw.Image, x, y int, s string) {
	d := font.Drawer{
		Dst:  dst,
		Src:  image.NewUniform(colText),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, y+basicfont.Face7x13.Ascent),
	}
	d.DrawString(s)
}

// Grid draws rows of images as one picture: tiles enlarged by o.Scale, separated by o.Gap,
// with o.Title and o.Columns in a black band on top.
func Grid(rows [][]Image, o Options) (*image.RGBA, error) {
	l, err := newLayout(rows, o)
	if err != nil {
		return nil, err
	}
	native := l.compose(rows)
	band := bandHeight(o.Title, o.Columns)
	w, h := l.size()
	out := image.NewRGBA(image.Rect(0, 0, w*l.scale, h*l.scale+band))
	draw.Draw(out, image.Rect(0, 0, w*l.scale, band), image.NewUniform(colBand),
		image.Point{}, draw.Src)
	for y := 0; y < h*l.scale; y++ {
		for x := 0; x < w*l.scale; x++ {
			s := native.PixOffset(x/l.scale, y/l.scale)
			d := out.PixOffset(x, y+band)
			copy(out.Pix[d:d+4], native.Pix[s:s+4])
		}
	}
	drawBand(out, l, o.Title, o.Columns)
	return out, nil
}

// GridPNG returns Grid encoded as PNG.
func GridPNG(rows [][]Image, o Options) ([]byte, error) {
	img, err := Grid(rows, o)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("gif: encoding grid as PNG: %w", err)
	}
	return b.Bytes(), nil
}

// ShowGrid displays Grid as a PNG in the notebook cell; outside a notebook it saves it as
// out/grid.png and logs where.
func ShowGrid(rows [][]Image, o Options) error {
	b, err := GridPNG(rows, o)
	if err != nil {
		return err
	}
	if notebook.DisplayPNG(b) {
		return nil
	}
	p, err := notebook.SaveFile("grid.png", b)
	if err != nil {
		return err
	}
	logs.Setup()
	slog.Info("gif: grid saved", "path", p)
	return nil
}

// SaveGrid writes Grid as a PNG file atomically to name (under out/ unless absolute) and
// returns the path.
func SaveGrid(name string, rows [][]Image, o Options) (string, error) {
	b, err := GridPNG(rows, o)
	if err != nil {
		return "", err
	}
	return notebook.SaveFile(name, b)
}
