package gif

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/draw"
	stdgif "image/gif"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/dlexp/dlexp/mlx/logs"
	"github.com/dlexp/dlexp/mlx/notebook"
)

// Animation collects one frame per epoch of a fixed set of samples and encodes them as a
// looping GIF. Frames are kept at native resolution and enlarged when encoded. Its methods are
// safe for concurrent use.
type Animation struct {
	mu sync.Mutex

	opts      Options
	frames    []frame
	lay       layout // of the first frame; later frames must match it
	displayID string // in-place notebook block used by Update
	updated   bool   // Update has shown the block, so Show replaces it
}

// frame is one composed grid, before scaling, and its caption.
type frame struct {
	img     *image.RGBA
	caption string
}

// New returns an empty animation drawn with the given options.
func New(o Options) *Animation {
	return &Animation{opts: o, displayID: notebook.NewID("dlexp-gif-")}
}

// AddFrame adds a frame showing rows of images with a caption in the band on top. Every frame
// must have the same grid shape and image sizes as the first.
func (a *Animation) AddFrame(caption string, rows [][]Image) error {
	l, err := newLayout(rows, a.opts)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.frames) > 0 && l != a.lay {
		return fmt.Errorf("gif: frame %d is a %dx%d grid of %dx%d tiles, frame 0 is %dx%d of %dx%d",
			len(a.frames), l.rows, l.cols, l.cellH, l.cellW,
			a.lay.rows, a.lay.cols, a.lay.cellH, a.lay.cellW)
	}
	a.lay = l
	a.frames = append(a.frames, frame{img: l.compose(rows), caption: caption})
	return nil
}

// AddEpoch adds a frame captioned "epoch N".
func (a *Animation) AddEpoch(epoch int, rows [][]Image) error {
	return a.AddFrame(fmt.Sprintf("epoch %d", epoch), rows)
}

// Len returns the number of frames.
func (a *Animation) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.frames)
}

// GIF returns the animation as an image/gif value: frames enlarged, captioned and mapped to
// one palette (256 grays for gray pictures, a median-cut palette for colour ones), looping.
func (a *Animation) GIF() (*stdgif.GIF, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.frames) == 0 {
		return nil, fmt.Errorf("gif: animation has no frames")
	}

	h := newHistogram()
	for _, f := range a.frames {
		h.add(f.img)
	}
	q := newQuantizer(h)

	delay := hundredths(a.opts.Delay, 500*time.Millisecond)
	last := hundredths(a.opts.LastDelay, 2*time.Second)
	band := 0
	for _, f := range a.frames {
		band = max(band, bandHeight(f.caption, a.opts.Columns))
	}
	g := &stdgif.GIF{LoopCount: 0}
	for i, f := range a.frames {
		g.Image = append(g.Image, a.finish(q.paletted(f.img), band, f.caption))
		if i == len(a.frames)-1 {
			g.Delay = append(g.Delay, last)
		} else {
			g.Delay = append(g.Delay, delay)
		}
		g.Disposal = append(g.Disposal, stdgif.DisposalNone)
	}
	b := g.Image[0].Bounds()
	g.Config.ColorModel, g.Config.Width, g.Config.Height = q.palette, b.Dx(), b.Dy()
	return g, nil
}

// finish enlarges a native frame and adds the text band on top.
func (a *Animation) finish(p *image.Paletted, band int, caption string) *image.Paletted {
	s := a.lay.scale
	w, h := p.Rect.Dx(), p.Rect.Dy()
	out := image.NewPaletted(image.Rect(0, 0, w*s, h*s+band), p.Palette)
	black := uint8(p.Palette.Index(colBand))
	for i := 0; i < band*w*s; i++ {
		out.Pix[i] = black
	}
	for y := 0; y < h*s; y++ {
		src := p.Pix[(y/s)*p.Stride : (y/s)*p.Stride+w]
		dst := out.Pix[(y+band)*out.Stride : (y+band+1)*out.Stride]
		for x := range dst {
			dst[x] = src[x/s]
		}
	}
	if band > 0 {
		top := out.SubImage(image.Rect(0, 0, w*s, band)).(*image.Paletted)
		drawBand(draw.Image(top), a.lay, caption, a.opts.Columns)
	}
	return out
}

// hundredths converts d (or def when d is 0) to GIF delay units.
func hundredths(d, def time.Duration) int {
	if d <= 0 {
		d = def
	}
	return max(int(d/(10*time.Millisecond)), 1)
}

// Encode writes the animation as a GIF file.
func (a *Animation) Encode(w io.Writer) error {
	g, err := a.GIF()
	if err != nil {
		return err
	}
	if err := stdgif.EncodeAll(w, g); err != nil {
		return fmt.Errorf("gif: encoding animation: %w", err)
	}
	return nil
}

// Bytes returns the encoded GIF.
func (a *Animation) Bytes() ([]byte, error) {
	var b bytes.Buffer
	if err := a.Encode(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// HTML returns an <img> element holding the GIF as a data URL, for a notebook cell or a page.
func (a *Animation) HTML() (string, error) {
	b, err := a.Bytes()
	if err != nil {
		return "", err
	}
	alt := "animation"
	a.mu.Lock()
	if n := len(a.frames); n > 0 {
		alt = fmt.Sprintf("animation of %d frames, last: %s", n, a.frames[n-1].caption)
	}
	a.mu.Unlock()
	return fmt.Sprintf(`<img src="data:image/gif;base64,%s" alt="%s" style="image-rendering:pixelated">`,
		base64.StdEncoding.EncodeToString(b), html.EscapeString(alt)), nil
}

// Show displays the GIF inline in the notebook cell; after Update it replaces the block that
// Update shows, so the cell holds the animation once. Outside a notebook it saves it as
// out/animation.gif and logs where.
func (a *Animation) Show() error {
	if !notebook.Active() {
		p, err := a.Save("animation.gif")
		if err != nil {
			return err
		}
		logs.Setup()
		slog.Info("gif: animation saved", "path", p)
		return nil
	}
	s, err := a.HTML()
	if err != nil {
		return err
	}
	a.mu.Lock()
	updated := a.updated
	a.mu.Unlock()
	if updated {
		notebook.UpdateHTML(a.displayID, s)
	} else {
		notebook.DisplayHTML(s)
	}
	notebook.Sync()
	return nil
}

// Update shows the animation so far in one notebook block that each call replaces, e.g. after
// every epoch; the saved notebook keeps its last state. It does nothing outside a notebook.
func (a *Animation) Update() error {
	if !notebook.Active() {
		return nil
	}
	s, err := a.HTML()
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.updated = true
	a.mu.Unlock()
	notebook.UpdateHTML(a.displayID, s)
	return nil
}

// Save writes the GIF atomically to name (under out/ unless absolute) and returns the path.
func (a *Animation) Save(name string) (string, error) {
	b, err := a.Bytes()
	if err != nil {
		return "", err
	}
	return notebook.SaveFile(name, b)
}
