package gif

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	stdgif "image/gif"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlexp/dlexp/mlx/notebook"
)

// ramp returns an h x w gray image whose values rise along x, shifted by off.
func ramp(h, w int, off float32) Image {
	pix := make([]float32, h*w)
	for i := range pix {
		pix[i] = off + float32(i%w)/float32(w)
	}
	m, _ := NewImage(h, w, 1, pix)
	return m
}

// sampleRows returns rows of noisy | prediction | clean for n samples at the given epoch.
func sampleRows(n, epoch int) [][]Image {
	rows := make([][]Image, n)
	for i := range rows {
		rows[i] = []Image{ramp(8, 8, 0.3), ramp(8, 8, float32(epoch)*0.05), ramp(8, 8, 0)}
	}
	return rows
}

func decodeGIF(t *testing.T, a *Animation) *stdgif.GIF {
	t.Helper()
	b, err := a.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	g, err := stdgif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAnimationHasOneFramePerEpochOfTheExpectedSize(t *testing.T) {
	a := New(Options{Scale: 3, Gap: 3, Columns: []string{"noisy", "pred", "clean"}})
	for e := 1; e <= 4; e++ {
		if err := a.AddEpoch(e, sampleRows(2, e)); err != nil {
			t.Fatal(err)
		}
	}
	g := decodeGIF(t, a)
	if len(g.Image) != 4 {
		t.Fatalf("%d frames, want 4", len(g.Image))
	}
	// 3 tiles of 8 px and 2 gaps of 1 native px, times 3; band of caption + column titles.
	wantW, wantH := (3*8+2)*3, (2*8+1)*3+2*textHeight+4
	for i, f := range g.Image {
		if f.Bounds() != image.Rect(0, 0, wantW, wantH) {
			t.Errorf("frame %d is %v, want %dx%d", i, f.Bounds(), wantW, wantH)
		}
	}
	if g.Config.Width != wantW || g.Config.Height != wantH {
		t.Errorf("GIF is %dx%d, want %dx%d", g.Config.Width, g.Config.Height, wantW, wantH)
	}
	if g.LoopCount != 0 || g.Delay[0] != 50 || g.Delay[3] != 200 {
		t.Errorf("loop %d delays %v", g.LoopCount, g.Delay)
	}
}

func TestCaptionPixelsPresent(t *testing.T) {
	a := New(Options{Scale: 3})
	for e := 1; e <= 2; e++ {
		if err := a.AddEpoch(e, sampleRows(1, e)); err != nil {
			t.Fatal(err)
		}
	}
	g := decodeGIF(t, a)
	band := bandHeight("epoch 1", nil)
	white := func(f *image.Paletted, y0, y1 int) (n int) {
		for y := y0; y < y1; y++ {
			for x := 0; x < f.Rect.Dx(); x++ {
				r, gg, b, _ := f.At(x, y).RGBA()
				if r == 0xffff && gg == 0xffff && b == 0xffff {
					n++
				}
			}
		}
		return n
	}
	if n := white(g.Image[0], 0, band); n < 20 {
		t.Errorf("caption band has %d white pixels", n)
	}
	differ := false
	for i := 0; i < band*g.Image[0].Stride; i++ {
		if g.Image[0].Pix[i] != g.Image[1].Pix[i] {
			differ = true
		}
	}
	if !differ {
		t.Error("captions of epoch 1 and epoch 2 are drawn the same")
	}
}

func TestGrayFramesKeepExactGrayLevels(t *testing.T) {
	m, _ := NewImage(2, 2, 1, []float32{0, 0.5, 1, 0.25})
	a := New(Options{Scale: 1, Gap: -1})
	if err := a.AddFrame("", [][]Image{{m}}); err != nil {
		t.Fatal(err)
	}
	f := decodeGIF(t, a).Image[0]
	for i, want := range []uint8{0, 128, 255, 64} {
		r, _, _, _ := f.At(i%2, i/2).RGBA()
		if uint8(r>>8) != want {
			t.Errorf("pixel %d is gray %d, want %d", i, r>>8, want)
		}
	}
}

func TestColorFramesKeepLabelColours(t *testing.T) {
	pal := DefaultPalette(6)
	labels := make([]uint8, 16*16)
	for i := range labels {
		labels[i] = uint8((i / 16) * 6 / 16)
	}
	lm, err := Colorize(labels, 16, 16, pal)
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{Scale: 2})
	for e := 1; e <= 3; e++ {
		// A colour photo-like ramp beside the label map forces a median-cut palette.
		photo := make([]float32, 16*16*3)
		for i := range photo {
			photo[i] = float32((i*7+e*13)%256) / 255
		}
		pm, _ := NewImage(16, 16, 3, photo)
		if err := a.AddEpoch(e, [][]Image{{pm, lm}}); err != nil {
			t.Fatal(err)
		}
	}
	g := decodeGIF(t, a)
	f := g.Image[2]
	x0 := (16 + 2) * 2 // second tile: 16 px, a 2-px native gap, scale 2
	for row := 0; row < 16; row++ {
		want := pal[row*6/16]
		r, gg, b, _ := f.At(x0+8, 2*row+1+bandHeight("epoch 3", nil)).RGBA()
		got := color.RGBA{uint8(r >> 8), uint8(gg >> 8), uint8(b >> 8), 0xff}
		if got != want {
			t.Errorf("label row %d drawn %v, want %v", row, got, want)
		}
	}
}

func TestAddFrameRejectsAnotherGrid(t *testing.T) {
	a := New(Options{})
	if err := a.AddEpoch(1, sampleRows(2, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.AddEpoch(2, sampleRows(3, 2)); err == nil {
		t.Error("frame with another number of rows accepted")
	}
	if err := a.AddEpoch(2, [][]Image{{{H: 2, W: 2, C: 1, Pix: []float32{1}}}}); err == nil {
		t.Error("image with too few values accepted")
	}
	if _, err := New(Options{}).Bytes(); err == nil {
		t.Error("empty animation encoded")
	}
}

func TestSaveWritesAtomicallyUnderOut(t *testing.T) {
	out := t.TempDir()
	t.Setenv(notebook.EnvOut, out)
	a := New(Options{})
	_ = a.AddEpoch(1, sampleRows(1, 1))
	for i := 0; i < 2; i++ {
		p, err := a.Save("denoise.gif")
		if err != nil {
			t.Fatal(err)
		}
		if p != filepath.Join(out, "denoise.gif") {
			t.Errorf("saved to %q", p)
		}
		_ = a.AddEpoch(2+i, sampleRows(1, 2+i))
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("out/ holds %v, want only denoise.gif", entries)
	}
	b, _ := os.ReadFile(filepath.Join(out, "denoise.gif"))
	if g, err := stdgif.DecodeAll(bytes.NewReader(b)); err != nil || len(g.Image) != 2 {
		t.Errorf("saved GIF: %v", err)
	}
}

func TestShowEmbedsGIFAsDataURL(t *testing.T) {
	rec, stop := notebook.Capture("")
	defer stop()
	a := New(Options{})
	_ = a.AddEpoch(1, sampleRows(1, 1))
	if err := a.Update(); err != nil {
		t.Fatal(err)
	}
	_ = a.AddEpoch(2, sampleRows(1, 2))
	if err := a.Update(); err != nil {
		t.Fatal(err)
	}
	if err := a.Show(); err != nil {
		t.Fatal(err)
	}
	final := rec.Final()
	if len(final) != 1 || final[0].Kind != notebook.KindUpdateHTML {
		t.Fatalf("saved notebook would hold %d outputs, want the one updated block", len(final))
	}
	const prefix = `<img src="data:image/gif;base64,`
	s := final[0].HTML
	if !strings.HasPrefix(s, prefix) {
		t.Fatalf("Show output %.80s", s)
	}
	data := s[len(prefix):strings.Index(s, `"`+" alt=")]
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := stdgif.DecodeAll(bytes.NewReader(raw)); err != nil || len(g.Image) != 2 {
		t.Errorf("embedded GIF: %v", err)
	}
}

func TestShowWithoutUpdateAddsAFinalOutput(t *testing.T) {
	rec, stop := notebook.Capture("")
	defer stop()
	a := New(Options{})
	_ = a.AddEpoch(1, sampleRows(1, 1))
	if err := a.Show(); err != nil {
		t.Fatal(err)
	}
	items := rec.Items()
	if len(items) != 1 || items[0].Kind != notebook.KindHTML {
		t.Errorf("outputs %+v", items)
	}
}

func TestGridEnlargesSmallerImagesToTheCell(t *testing.T) {
	low, _ := NewImage(4, 4, 1, make([]float32, 16))
	high := ramp(8, 8, 1) // all white
	img, err := Grid([][]Image{{low, high}}, Options{Scale: 1, Gap: -1, Title: "x2"})
	if err != nil {
		t.Fatal(err)
	}
	band := bandHeight("x2", nil)
	if img.Bounds() != image.Rect(0, 0, 16, 8+band) {
		t.Fatalf("grid is %v", img.Bounds())
	}
	if c := img.RGBAAt(7, band+7); c.R != 0 {
		t.Errorf("low-resolution tile not enlarged over its cell: %v", c)
	}
	if c := img.RGBAAt(8, band); c.R != 255 {
		t.Errorf("second tile misplaced: %v", c)
	}
	b, err := GridPNG([][]Image{{low, high}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Error(err)
	}
}

func TestColorizeDrawsVoidBlack(t *testing.T) {
	pal := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}}
	m, err := Colorize([]int32{0, 1, 255, -1}, 2, 2, pal)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}
	for i := range want {
		if m.Pix[i] != want[i] {
			t.Fatalf("Colorize = %v, want %v", m.Pix, want)
		}
	}
	if _, err := Colorize([]int32{0}, 2, 2, pal); err == nil {
		t.Error("short class map accepted")
	}
}

func TestErrorMapTintsEachOutcome(t *testing.T) {
	in, _ := NewImage(1, 5, 1, []float32{0.5, 0.5, 0.5, 0.5, 0.5})
	pred := []bool{true, true, false, false, true}
	truth := []bool{true, false, true, false, false}
	valid := []bool{true, true, true, true, false}
	opaque := ErrorColors{
		TP: color.NRGBA{0, 255, 0, 255}, FP: color.NRGBA{255, 0, 0, 255},
		FN: color.NRGBA{0, 0, 255, 255}, TN: color.NRGBA{0, 0, 0, 0},
	}
	m, err := ErrorMap(in, pred, truth, valid, opaque)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]float32{{0, 1, 0}, {1, 0, 0}, {0, 0, 1}, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}}
	for i, w := range want {
		got := [3]float32{m.Pix[3*i], m.Pix[3*i+1], m.Pix[3*i+2]}
		for c := range 3 {
			if d := got[c] - w[c]; d > 0.01 || d < -0.01 {
				t.Errorf("pixel %d = %v, want %v", i, got, w)
				break
			}
		}
	}
	if _, err := ErrorMap(in, pred[:2], truth, nil, DefaultErrorColors); err == nil {
		t.Error("short prediction accepted")
	}
}

func TestSplitAndConstructorsCheckSizes(t *testing.T) {
	ims, err := Split(make([]float32, 2*3*4*1), 2, 3, 4, 1)
	if err != nil || len(ims) != 2 || ims[1].H != 3 {
		t.Errorf("Split: %v %v", ims, err)
	}
	if _, err := Split(make([]float32, 5), 2, 3, 4, 1); err == nil {
		t.Error("Split accepted a wrong length")
	}
	if _, err := NewImage(2, 2, 2, make([]float32, 8)); err == nil {
		t.Error("2 channels accepted")
	}
	if m, err := FromHWC([][][]float32{{{1, 0, 0}, {0, 1, 0}}}); err != nil || m.C != 3 {
		t.Errorf("FromHWC: %v", err)
	}
	if _, err := FromHW([][]float32{{1, 2}, {3}}); err == nil {
		t.Error("ragged rows accepted")
	}
}

// BenchmarkCityscapesAnimation encodes 10 epochs of 4 samples of input | prediction |
// truth at 128x256, the size of the segmentation figures.
func BenchmarkCityscapesAnimation(b *testing.B) {
	pal := DefaultPalette(19)
	labels := make([]uint8, 128*256)
	photo := make([]float32, 128*256*3)
	for i := range labels {
		labels[i] = uint8((i/256/8 + i%256/16) % 19)
	}
	for i := range photo {
		photo[i] = float32(i%253) / 253
	}
	lm, _ := Colorize(labels, 128, 256, pal)
	pm, _ := NewImage(128, 256, 3, photo)
	a := New(Options{})
	for e := 0; e < 10; e++ {
		rows := make([][]Image, 4)
		for r := range rows {
			rows[r] = []Image{pm, lm, lm}
		}
		if err := a.AddEpoch(e, rows); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := a.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}
