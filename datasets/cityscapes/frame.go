package cityscapes

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// DefaultFactor is the downscaling factor of the experiments: 2048 x 1024
// becomes 256 x 128.
const DefaultFactor = 8

// MaxSide bounds the width and height of an image accepted for decoding.
const MaxSide = 8192

// maxPNGBytes bounds the length of a PNG file read into memory.
const maxPNGBytes = 256 << 20

// Options say what to read for each frame.
type Options struct {
	HDR         bool // color from leftImg16bit (16-bit) instead of leftImg8bit
	NoDisparity bool // skip the disparity maps
	Factor      int  // downscaling factor; 0 means DefaultFactor
}

func (o Options) factor() int {
	if o.Factor <= 0 {
		return DefaultFactor
	}
	return o.Factor
}

func (o Options) colorKind() string {
	if o.HDR {
		return Color16
	}
	return Color8
}

// Sample is one frame, downscaled: color, disparity and label ids of H x W
// pixels.
type Sample struct {
	Frame Frame
	H, W  int

	Color     []float32 // H*W*3 values in [0, 1], channels last
	Disparity []float32 // H*W disparities in full-size pixels, 0 where invalid; nil if not read
	Labels    []uint8   // H*W label ids, 0 to 33
}

// LoadFrame reads the files of frame f (color, disparity unless opt says not,
// label ids), checks their format and size, and downscales them.
func (d *Dataset) LoadFrame(f Frame, opt Options) (*Sample, error) {
	factor := opt.factor()

	lab, err := d.readPNG(GtFine, f.file(GtFine), color.GrayModel, factor)
	if err != nil {
		return nil, err
	}
	labels := lab.(*image.Gray)
	h, w := labels.Rect.Dy(), labels.Rect.Dx()
	s := &Sample{Frame: f, H: h / factor, W: w / factor}
	s.Labels, err = DownscaleLabels(grayPix(labels), h, w, factor)
	if err != nil {
		return nil, fmt.Errorf("cityscapes: %s: %w", d.where(GtFine, f.file(GtFine)), err)
	}

	kind := opt.colorKind()
	model := color.Model(color.RGBAModel)
	if opt.HDR {
		model = color.RGBA64Model
	}
	img, err := d.readPNG(kind, f.file(kind), model, factor)
	if err != nil {
		return nil, err
	}
	if err := sameSize(img, h, w, d.where(kind, f.file(kind))); err != nil {
		return nil, err
	}
	if opt.HDR {
		s.Color = DownscaleColor16(rgba64Pix(img.(*image.RGBA64)), h, w, factor)
	} else {
		s.Color = DownscaleColor8(rgbaPix(img.(*image.RGBA)), h, w, factor)
	}

	if !opt.NoDisparity {
		img, err := d.readPNG(Disparity, f.file(Disparity), color.Gray16Model, factor)
		if err != nil {
			return nil, err
		}
		if err := sameSize(img, h, w, d.where(Disparity, f.file(Disparity))); err != nil {
			return nil, err
		}
		s.Disparity = DownscaleDisparity(gray16Pix(img.(*image.Gray16)), h, w, factor)
	}
	return s, nil
}

func sameSize(img image.Image, h, w int, where string) error {
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		return fmt.Errorf("cityscapes: %s: image is %dx%d, but its label image is %dx%d",
			where, b.Dx(), b.Dy(), w, h)
	}
	return nil
}

// readPNG reads one PNG of kind, checking its color type and bit depth against
// model and its size against MaxSide and factor before decoding the pixels.
func (d *Dataset) readPNG(kind, file string, model color.Model, factor int) (image.Image, error) {
	where := d.where(kind, file)
	fsys, ok := d.kinds[kind]
	if !ok {
		return nil, fmt.Errorf("cityscapes: %s holds neither %s/ nor %s_trainvaltest.zip "+
			"(needed for %s)", d.Root, kind, kind, where)
	}
	f, err := fsys.Open(file)
	if err != nil {
		return nil, fmt.Errorf("cityscapes: missing file %s: %w", where, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPNGBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cityscapes: %s: %w", where, err)
	}
	if len(b) > maxPNGBytes {
		return nil, fmt.Errorf("cityscapes: %s: larger than %d bytes", where, maxPNGBytes)
	}

	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cityscapes: %s: not a PNG image: %w", where, err)
	}
	if cfg.ColorModel != model {
		return nil, fmt.Errorf("cityscapes: %s: %s image, want %s",
			where, modelName(cfg.ColorModel), modelName(model))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide {
		return nil, fmt.Errorf("cityscapes: %s: size %dx%d outside 1..%d",
			where, cfg.Width, cfg.Height, MaxSide)
	}
	if cfg.Width%factor != 0 || cfg.Height%factor != 0 {
		return nil, fmt.Errorf("cityscapes: %s: size %dx%d is not a multiple of %d",
			where, cfg.Width, cfg.Height, factor)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cityscapes: %s: %w", where, err)
	}
	return img, nil
}

// modelName says which PNG color type and bit depth a decoder model stands for.
func modelName(m color.Model) string {
	switch m {
	case color.RGBAModel:
		return "8-bit RGB"
	case color.RGBA64Model:
		return "16-bit RGB"
	case color.NRGBAModel:
		return "8-bit RGBA"
	case color.NRGBA64Model:
		return "16-bit RGBA"
	case color.GrayModel:
		return "8-bit gray"
	case color.Gray16Model:
		return "16-bit gray"
	}
	if _, ok := m.(color.Palette); ok {
		return "paletted"
	}
	return "unknown color type"
}

// The pixel helpers below return an image's pixels without row padding.

func grayPix(img *image.Gray) []uint8 {
	return packRows(img.Pix, img.Stride, img.Rect.Dx(), img.Rect.Dy())
}

func gray16Pix(img *image.Gray16) []uint16 {
	p := packRows(img.Pix, img.Stride, 2*img.Rect.Dx(), img.Rect.Dy())
	out := make([]uint16, len(p)/2)
	for i := range out {
		out[i] = uint16(p[2*i])<<8 | uint16(p[2*i+1])
	}
	return out
}

// rgbaPix returns the R, G, B bytes of each pixel, dropping alpha.
func rgbaPix(img *image.RGBA) []uint8 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]uint8, 0, 3*w*h)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			out = append(out, row[4*x], row[4*x+1], row[4*x+2])
		}
	}
	return out
}

// rgba64Pix returns the R, G, B values of each pixel, dropping alpha.
func rgba64Pix(img *image.RGBA64) []uint16 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]uint16, 0, 3*w*h)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+8*w]
		for x := range w {
			p := row[8*x:]
			out = append(out, uint16(p[0])<<8|uint16(p[1]), uint16(p[2])<<8|uint16(p[3]),
				uint16(p[4])<<8|uint16(p[5]))
		}
	}
	return out
}

func packRows(pix []uint8, stride, rowBytes, h int) []uint8 {
	if stride == rowBytes {
		return pix[:rowBytes*h]
	}
	out := make([]uint8, 0, rowBytes*h)
	for y := range h {
		out = append(out, pix[y*stride:y*stride+rowBytes]...)
	}
	return out
}

// DownscaleColor8 shrinks an h x w RGB image of bytes by factor, each output
// value the mean of its factor x factor block, scaled to [0, 1].
func DownscaleColor8(rgb []uint8, h, w, factor int) []float32 {
	sums := blockSums(h, w, 3, factor, func(i int) float32 { return float32(rgb[i]) })
	return scale(sums, 1/(255*float32(factor*factor)))
}

// DownscaleColor16 is DownscaleColor8 for 16-bit values, scaled by 1/65535.
func DownscaleColor16(rgb []uint16, h, w, factor int) []float32 {
	sums := blockSums(h, w, 3, factor, func(i int) float32 { return float32(rgb[i]) })
	return scale(sums, 1/(65535*float32(factor*factor)))
}

func scale(x []float32, k float32) []float32 {
	for i := range x {
		x[i] *= k
	}
	return x
}

// blockSums adds up the values of each factor x factor block of an h x w image
// with c channels, reading value i (row-major, channels last) with at.
func blockSums(h, w, c, factor int, at func(i int) float32) []float32 {
	ow := w / factor
	out := make([]float32, (h/factor)*ow*c)
	for y := range h {
		orow := out[(y/factor)*ow*c:]
		for x := range w {
			o := (x / factor) * c
			for k := range c {
				orow[o+k] += at((y*w+x)*c + k)
			}
		}
	}
	return out
}

// DownscaleDisparity shrinks an h x w disparity map of stored 16-bit values by
// factor: each output is the mean disparity (v-1)/256 of the block's valid
// pixels (v > 0), or 0 when the block has none.
func DownscaleDisparity(v []uint16, h, w, factor int) []float32 {
	ow := w / factor
	sums := make([]float64, (h/factor)*ow)
	counts := make([]int32, len(sums))
	for y := range h {
		o := (y / factor) * ow
		for x := range w {
			if p := v[y*w+x]; p > 0 {
				sums[o+x/factor] += float64(p - 1)
				counts[o+x/factor]++
			}
		}
	}
	out := make([]float32, len(sums))
	for i, s := range sums {
		if counts[i] > 0 {
			out[i] = float32(s / float64(counts[i]) / 256)
		}
	}
	return out
}

// DownscaleLabels shrinks an h x w image of label ids by factor, each output
// the most frequent id of its block (the smaller id on ties), so no class is
// mixed with another. Ids must be below NumLabels.
func DownscaleLabels(ids []uint8, h, w, factor int) ([]uint8, error) {
	for i, id := range ids[:h*w] {
		if int(id) >= NumLabels {
			return nil, fmt.Errorf("pixel (%d, %d): label id %d out of range [0, %d)",
				i%w, i/w, id, NumLabels)
		}
	}
	oh, ow := h/factor, w/factor
	out := make([]uint8, oh*ow)
	var counts [NumLabels]int
	for by := range oh {
		for bx := range ow {
			counts = [NumLabels]int{}
			for y := by * factor; y < (by+1)*factor; y++ {
				for _, id := range ids[y*w+bx*factor : y*w+(bx+1)*factor] {
					counts[id]++
				}
			}
			best := 0
			for id := 1; id < NumLabels; id++ {
				if counts[id] > counts[best] {
					best = id
				}
			}
			out[by*ow+bx] = uint8(best)
		}
	}
	return out, nil
}
