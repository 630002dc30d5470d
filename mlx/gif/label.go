package gif

import (
	"fmt"
	"image/color"
	"math"
)

// Label is the type of class maps Colorize accepts.
type Label interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32
}

// Colorize turns a class map of h x w labels into an RGB image: class k gets palette[k].
// Labels outside the palette (void, ignore labels such as 255 or -1) are drawn black.
func Colorize[L Label](labels []L, h, w int, palette []color.RGBA) (Image, error) {
	if h <= 0 || w <= 0 || len(labels) != h*w {
		return Image{}, fmt.Errorf("gif: class map of %dx%d needs %d labels, has %d",
			h, w, h*w, len(labels))
	}
	pix := make([]float32, 0, 3*h*w)
	for _, l := range labels {
		var c color.RGBA
		if k := int64(l); k >= 0 && k < int64(len(palette)) {
			c = palette[k]
		}
		pix = append(pix, float32(c.R)/255, float32(c.G)/255, float32(c.B)/255)
	}
	return NewImage(h, w, 3, pix)
}

// DefaultPalette returns n well separated colours (hues spread by the golden angle), for
// class maps without a palette of their own.
func DefaultPalette(n int) []color.RGBA {
	p := make([]color.RGBA, n)
	for i := range p {
		hue := math.Mod(float64(i)*137.508, 360)
		val := 0.95 - 0.25*float64(i%3)/2
		p[i] = hsv(hue, 0.75, val)
	}
	return p
}

// hsv converts a hue in degrees, saturation and value in [0, 1] to RGB.
func hsv(h, s, v float64) color.RGBA {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	to := func(f float64) uint8 { return uint8(math.Round((f + m) * 255)) }
	return color.RGBA{to(r), to(g), to(b), 0xff}
}

// ErrorColors are the tints of an error map; each colour's alpha is how strongly it covers the
// input (0 leaves the input as is, 255 paints over it).
type ErrorColors struct {
	TP, FP, FN, TN color.NRGBA
}

// DefaultErrorColors tint true positives green, false positives red, false negatives blue and
// leave true negatives as they are.
var DefaultErrorColors = ErrorColors{
	TP: color.NRGBA{0x00, 0xc8, 0x00, 0x90},
	FP: color.NRGBA{0xe6, 0x00, 0x00, 0xa0},
	FN: color.NRGBA{0x00, 0x5a, 0xff, 0xa0},
	TN: color.NRGBA{0x00, 0x00, 0x00, 0x00},
}

// ErrorMap blends the true/false positive/negative colours of a binary prediction (e.g.
// walkable) over the input picture. pred and truth hold one value per pixel; valid, when not
// nil, marks the pixels that count (void pixels keep the input untinted).
func ErrorMap(input Image, pred, truth, valid []bool, colors ErrorColors) (Image, error) {
	if err := input.check(); err != nil {
		return Image{}, err
	}
	n := input.H * input.W
	if len(pred) != n || len(truth) != n || (valid != nil && len(valid) != n) {
		return Image{}, fmt.Errorf("gif: error map of %dx%d needs %d values each, "+
			"have pred %d, truth %d, valid %d", input.H, input.W, n, len(pred), len(truth),
			len(valid))
	}
	pix := make([]float32, 0, 3*n)
	for i := 0; i < n; i++ {
		r, g, b := input.rgb(i/input.W, i%input.W)
		out := [3]float32{float32(r) / 255, float32(g) / 255, float32(b) / 255}
		if valid == nil || valid[i] {
			var t color.NRGBA
			switch {
			case pred[i] && truth[i]:
				t = colors.TP
			case pred[i]:
				t = colors.FP
			case truth[i]:
				t = colors.FN
			default:
				t = colors.TN
			}
			a := float32(t.A) / 255
			out[0] = out[0]*(1-a) + float32(t.R)/255*a
			out[1] = out[1]*(1-a) + float32(t.G)/255*a
			out[2] = out[2]*(1-a) + float32(t.B)/255*a
		}
		pix = append(pix, out[:]...)
	}
	return NewImage(input.H, input.W, 3, pix)
}
