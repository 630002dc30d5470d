// Package gif makes pictures of model samples for notebooks: grids of images (rows of e.g.
// noisy input | prediction | clean), animated GIFs with one frame per epoch and the epoch drawn
// on each frame, label maps coloured by class, and true/false positive/negative error maps.
//
// Images are float32 values in [0, 1] with a height, width and channel count (1 for gray, 3
// for RGB), as they come out of a model. GIFs and grids are shown inline in GoNB and saved
// atomically under out/.
package gif

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Image is a picture as float32 values in [0, 1], row-major H x W x C, C being 1 (gray) or
// 3 (RGB). Values outside [0, 1] are clamped when drawn, NaN draws as 0.
type Image struct {
	H, W, C int
	Pix     []float32
}

// NewImage returns the image of size h x w with c channels over pix, checking the sizes.
func NewImage(h, w, c int, pix []float32) (Image, error) {
	m := Image{H: h, W: w, C: c, Pix: pix}
	return m, m.check()
}

// FromHW returns a gray image from rows of values.
func FromHW(rows [][]float32) (Image, error) {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return Image{}, fmt.Errorf("gif: empty image")
	}
	h, w := len(rows), len(rows[0])
	pix := make([]float32, 0, h*w)
	for y, r := range rows {
		if len(r) != w {
			return Image{}, fmt.Errorf("gif: row %d has %d values, row 0 has %d", y, len(r), w)
		}
		pix = append(pix, r...)
	}
	return NewImage(h, w, 1, pix)
}

// FromHWC returns an image from rows of pixels of 1 or 3 channels.
func FromHWC(rows [][][]float32) (Image, error) {
	if len(rows) == 0 || len(rows[0]) == 0 || len(rows[0][0]) == 0 {
		return Image{}, fmt.Errorf("gif: empty image")
	}
	h, w, c := len(rows), len(rows[0]), len(rows[0][0])
	pix := make([]float32, 0, h*w*c)
	for y, r := range rows {
		if len(r) != w {
			return Image{}, fmt.Errorf("gif: row %d has %d pixels, row 0 has %d", y, len(r), w)
		}
		for x, p := range r {
			if len(p) != c {
				return Image{}, fmt.Errorf("gif: pixel (%d, %d) has %d channels, want %d",
					y, x, len(p), c)
			}
			pix = append(pix, p...)
		}
	}
	return NewImage(h, w, c, pix)
}

// Split cuts a flat batch of n images of h x w x c values (NHWC order, as a tensor's flat
// data) into images sharing the batch's memory.
func Split(batch []float32, n, h, w, c int) ([]Image, error) {
	if n < 0 || len(batch) != n*h*w*c {
		return nil, fmt.Errorf("gif: batch has %d values, want %d images of %dx%dx%d = %d",
			len(batch), n, h, w, c, n*h*w*c)
	}
	size := h * w * c
	out := make([]Image, n)
	for i := range out {
		m, err := NewImage(h, w, c, batch[i*size:(i+1)*size:(i+1)*size])
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// check reports a size that does not match the pixels.
func (m Image) check() error {
	if m.H <= 0 || m.W <= 0 {
		return fmt.Errorf("gif: image size %dx%d is empty", m.H, m.W)
	}
	if m.C != 1 && m.C != 3 {
		return fmt.Errorf("gif: image has %d channels, want 1 (gray) or 3 (RGB)", m.C)
	}
	if len(m.Pix) != m.H*m.W*m.C {
		return fmt.Errorf("gif: image %dx%dx%d needs %d values, has %d",
			m.H, m.W, m.C, m.H*m.W*m.C, len(m.Pix))
	}
	return nil
}

// rgb returns the 8-bit colour of pixel (y, x).
func (m Image) rgb(y, x int) (r, g, b uint8) {
	i := (y*m.W + x) * m.C
	if m.C == 1 {
		v := to8(m.Pix[i])
		return v, v, v
	}
	return to8(m.Pix[i]), to8(m.Pix[i+1]), to8(m.Pix[i+2])
}

// to8 maps [0, 1] to 0..255, clamping, with NaN as 0.
func to8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(math.Round(float64(v) * 255))
}

// RGBA returns the image as an 8-bit image.RGBA.
func (m Image) RGBA() (*image.RGBA, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			r, g, b := m.rgb(y, x)
			img.SetRGBA(x, y, color.RGBA{r, g, b, 0xff})
		}
	}
	return img, nil
}
