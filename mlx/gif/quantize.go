package gif

import (
	"image"
	"image/color"
	"slices"
)

// A GIF frame holds at most 256 colours. Gray pictures get all 256 gray levels (exact); colour
// pictures get black and white (for the captions) plus up to 254 colours chosen by median cut
// over a 15-bit histogram of every frame, so one palette serves the whole animation and
// colours do not flicker between frames. Pixels map to the nearest palette colour without
// dithering, which keeps flat label colours flat.

// bins is the number of 15-bit colour bins (5 bits per channel).
const bins = 1 << 15

func binOf(r, g, b uint8) int { return int(r>>3)<<10 | int(g>>3)<<5 | int(b>>3) }

// histogram counts pixels per 15-bit bin and sums their exact colours.
type histogram struct {
	count            []int
	sumR, sumG, sumB []int
	gray             bool // every pixel seen has r == g == b
}

func newHistogram() *histogram {
	return &histogram{
		count: make([]int, bins),
		sumR:  make([]int, bins), sumG: make([]int, bins), sumB: make([]int, bins),
		gray: true,
	}
}

func (h *histogram) add(img *image.RGBA) {
	for i := 0; i+3 < len(img.Pix); i += 4 {
		r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]
		if r != g || g != b {
			h.gray = false
		}
		k := binOf(r, g, b)
		h.count[k]++
		h.sumR[k] += int(r)
		h.sumG[k] += int(g)
		h.sumB[k] += int(b)
	}
}

// quantizer maps the colours of a histogram to palette indices.
type quantizer struct {
	palette color.Palette
	gray    bool
	lut     []uint8 // bin -> palette index, colour pictures only
}

// grayPalette has the 256 gray levels, index = level.
func grayPalette() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.RGBA{uint8(i), uint8(i), uint8(i), 0xff}
	}
	return p
}

// newQuantizer chooses the palette for the pixels counted in h.
func newQuantizer(h *histogram) *quantizer {
	if h.gray {
		return &quantizer{palette: grayPalette(), gray: true}
	}
	q := &quantizer{palette: color.Palette{colBand, colText}, lut: make([]uint8, bins)}
	var used []int
	for k, n := range h.count {
		if n > 0 {
			used = append(used, k)
		}
	}
	for _, box := range medianCut(h, used, 256-len(q.palette)) {
		q.palette = append(q.palette, box.mean(h))
	}
	for _, k := range used {
		q.lut[k] = uint8(q.palette.Index(meanOf(h, []int{k})))
	}
	return q
}

// index returns the palette index of a colour seen by the histogram.
func (q *quantizer) index(r, g, b uint8) uint8 {
	if q.gray {
		return r
	}
	return q.lut[binOf(r, g, b)]
}

// paletted maps img to the palette.
func (q *quantizer) paletted(img *image.RGBA) *image.Paletted {
	out := image.NewPaletted(img.Bounds(), q.palette)
	for i, j := 0, 0; i+3 < len(img.Pix); i, j = i+4, j+1 {
		out.Pix[j] = q.index(img.Pix[i], img.Pix[i+1], img.Pix[i+2])
	}
	return out
}

// box is a set of histogram bins.
type box []int

func meanOf(h *histogram, ks []int) color.RGBA {
	var n, r, g, b int
	for _, k := range ks {
		n += h.count[k]
		r += h.sumR[k]
		g += h.sumG[k]
		b += h.sumB[k]
	}
	if n == 0 {
		return color.RGBA{A: 0xff}
	}
	return color.RGBA{uint8((r + n/2) / n), uint8((g + n/2) / n), uint8((b + n/2) / n), 0xff}
}

func (bx box) mean(h *histogram) color.RGBA { return meanOf(h, bx) }

// channel returns the 5-bit value of channel c (0 red, 1 green, 2 blue) of bin k.
func channel(k, c int) int { return (k >> (10 - 5*c)) & 31 }

// widest returns the channel with the largest spread in the box and that spread.
func (bx box) widest() (int, int) {
	best, spread := 0, -1
	for c := 0; c < 3; c++ {
		lo, hi := 31, 0
		for _, k := range bx {
			v := channel(k, c)
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi-lo > spread {
			best, spread = c, hi-lo
		}
	}
	return best, spread
}

// medianCut splits the used bins into at most n boxes: it repeatedly halves, by pixel count,
// the box with the largest spread times population along its widest channel.
func medianCut(h *histogram, used []int, n int) []box {
	boxes := []box{slices.Clone(used)}
	if len(used) <= n {
		boxes = boxes[:0]
		for _, k := range used {
			boxes = append(boxes, box{k})
		}
		return boxes
	}
	for len(boxes) < n {
		pick, score := -1, 0
		for i, bx := range boxes {
			if len(bx) < 2 {
				continue
			}
			_, spread := bx.widest()
			pop := 0
			for _, k := range bx {
				pop += h.count[k]
			}
			if s := spread * pop; spread > 0 && s > score {
				pick, score = i, s
			}
		}
		if pick < 0 {
			break
		}
		bx := boxes[pick]
		c, _ := bx.widest()
		slices.SortFunc(bx, func(a, b int) int { return channel(a, c) - channel(b, c) })
		total := 0
		for _, k := range bx {
			total += h.count[k]
		}
		cut, acc := 1, 0
		for i, k := range bx[:len(bx)-1] {
			acc += h.count[k]
			cut = i + 1
			if acc*2 >= total {
				break
			}
		}
		boxes[pick] = bx[:cut:cut]
		boxes = append(boxes, bx[cut:])
	}
	return boxes
}
