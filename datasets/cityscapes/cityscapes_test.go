package cityscapes

import (
	"archive/zip"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends/simplego"
)

const tw, th = 32, 16 // test frames: 32 x 16 pixels, 4 x 2 after downscaling by 8

func savePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
}

// labelAt is the label id of pixel (x, y) of frame number k: road (7) on the
// left half, sky (23) on the right, car (26) in the top-left 8x8 block of odd
// frames.
func labelAt(k, x, y int) uint8 {
	switch {
	case k%2 == 1 && x < 8 && y < 8:
		return 26
	case x < tw/2:
		return 7
	}
	return 23
}

// writeFrame writes the four files of one frame in the official layout.
func writeFrame(t *testing.T, root string, f Frame, k int) {
	t.Helper()
	lab := image.NewGray(image.Rect(0, 0, tw, th))
	c8 := image.NewRGBA(image.Rect(0, 0, tw, th))
	c16 := image.NewRGBA64(image.Rect(0, 0, tw, th))
	disp := image.NewGray16(image.Rect(0, 0, tw, th))
	for y := range th {
		for x := range tw {
			lab.SetGray(x, y, color.Gray{labelAt(k, x, y)})
			c8.SetRGBA(x, y, color.RGBA{uint8(x * 8), uint8(10 * k), 255, 255})
			c16.SetRGBA64(x, y, color.RGBA64{uint16(x * 2048), 0, 65535, 65535})
			v := uint16(0) // invalid on the bottom rows
			if y < 12 {
				v = uint16(1 + 256*(x%8)) // disparity x%8 pixels
			}
			disp.SetGray16(x, y, color.Gray16{v})
		}
	}
	dir := func(kind string) string { return filepath.Join(root, kind, f.Official, f.City) }
	savePNG(t, filepath.Join(dir(GtFine), f.ID+"_gtFine_labelIds.png"), lab)
	savePNG(t, filepath.Join(dir(GtFine), f.ID+"_gtFine_color.png"), c8)
	savePNG(t, filepath.Join(dir(Color8), f.ID+"_leftImg8bit.png"), c8)
	savePNG(t, filepath.Join(dir(Color16), f.ID+"_leftImg16bit.png"), c16)
	savePNG(t, filepath.Join(dir(Disparity), f.ID+"_disparity.png"), disp)
	_ = os.WriteFile(filepath.Join(dir(GtFine), f.ID+"_gtFine_polygons.json"), []byte("{}"), 0o644)
}

var testFrames = []Frame{
	{"train", "aachen", "aachen_000000_000019"},
	{"train", "aachen", "aachen_000001_000019"},
	{"train", "bochum", "bochum_000000_000313"},
	{"train", "tubingen", "tubingen_000000_000019"},
	{"train", "zurich", "zurich_000000_000019"},
	{"val", "frankfurt", "frankfurt_000000_000294"},
	{"val", "lindau", "lindau_000000_000019"},
}

// fakeDataset writes testFrames under a new folder and returns it.
func fakeDataset(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for k, f := range testFrames {
		writeFrame(t, root, f, k)
	}
	return root
}

func open(t *testing.T, root string) *Dataset {
	t.Helper()
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestLabelTableMatchesCityscapes(t *testing.T) {
	if len(Labels) != NumLabels+1 {
		t.Fatalf("%d labels", len(Labels))
	}
	for i, l := range Labels[:NumLabels] {
		if l.ID != i {
			t.Fatalf("label %d has id %d", i, l.ID)
		}
	}
	lp, ok := LabelByID(-1)
	if !ok || lp.Name != "license plate" || lp.TrainID != -1 {
		t.Fatalf("license plate: %+v", lp)
	}
	car, _ := LabelByName("car")
	if car.ID != 26 || car.TrainID != 13 || car.Color != (color.RGBA{0, 0, 142, 255}) {
		t.Fatalf("car: %+v", car)
	}
	full := FullClasses()
	if full.NumClasses() != 19 || full.Names[0] != "road" || full.Names[18] != "bicycle" ||
		full.ByID[9] != Void || full.ByID[26] != 13 {
		t.Fatalf("full classes: %+v", full)
	}
	walk := WalkableClasses()
	for id, want := range map[int]int{7: 1, 8: 1, 9: 1, 10: 1, 11: 0, 23: 0, 0: Void, 6: Void} {
		if walk.ByID[id] != want {
			t.Errorf("walkable[%d] = %d, want %d", id, walk.ByID[id], want)
		}
	}
	if WalkableClasses("road").ByID[8] != 0 || AllLabels().ByID[33] != 33 {
		t.Error("changed walkable set or all-labels set is wrong")
	}
	cls, mask, err := walk.Map([]uint8{7, 0, 23})
	if err != nil || !slices.Equal(cls, []int32{1, 0, 0}) || !slices.Equal(mask, []float32{1, 0, 1}) {
		t.Fatalf("map: %v %v %v", cls, mask, err)
	}
	if _, _, err := walk.Map([]uint8{34}); err == nil {
		t.Error("label id 34 mapped")
	}
}

func TestDownscaleLabelsTakesMostFrequentID(t *testing.T) {
	// One 2x2 block per case, factor 2.
	cases := []struct {
		ids  []uint8
		want uint8
	}{
		{[]uint8{7, 7, 7, 26}, 7},
		{[]uint8{26, 26, 23, 7}, 26},
		{[]uint8{23, 7, 23, 7}, 7}, // tie: the smaller id
	}
	for _, c := range cases {
		got, err := DownscaleLabels(c.ids, 2, 2, 2)
		if err != nil || got[0] != c.want {
			t.Errorf("%v: got %v, %v; want %d", c.ids, got, err, c.want)
		}
	}
	if _, err := DownscaleLabels([]uint8{1, 2, 3, 255}, 2, 2, 2); err == nil ||
		!strings.Contains(err.Error(), "label id 255") {
		t.Errorf("out-of-range id: %v", err)
	}
}

func TestDownscaleDisparityAveragesValidPixelsOnly(t *testing.T) {
	// Two 2x2 blocks side by side: the first holds 1 invalid and disparities
	// 1, 2, 3; the second only invalid pixels.
	v := []uint16{0, 257, 0, 0, 513, 769, 0, 0}
	got := DownscaleDisparity(v, 2, 4, 2)
	if len(got) != 2 || got[0] != 2 || got[1] != 0 {
		t.Fatalf("got %v, want [2 0]", got)
	}
	c := DownscaleColor8([]uint8{0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255}, 2, 2, 2)
	if len(c) != 3 || c[0] != 0.5 {
		t.Fatalf("color average %v", c)
	}
	c16 := DownscaleColor16([]uint16{65535, 0, 0, 65535, 0, 0, 65535, 0, 0, 65535, 0, 0}, 2, 2, 2)
	if c16[0] != 1 || c16[1] != 0 {
		t.Fatalf("16-bit color average %v", c16)
	}
}

func TestFramesSplitsTrainingCitiesForTest(t *testing.T) {
	d := open(t, fakeDataset(t))
	ids := func(s Split) []string {
		fs, err := d.Frames(s)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	if got := ids(Train); !slices.Equal(got, []string{"aachen_000000_000019",
		"aachen_000001_000019", "bochum_000000_000313"}) {
		t.Errorf("train: %v", got)
	}
	if got := ids(Test); !slices.Equal(got, []string{"tubingen_000000_000019",
		"zurich_000000_000019"}) {
		t.Errorf("test: %v", got)
	}
	if got := ids(Val); len(got) != 2 {
		t.Errorf("val: %v", got)
	}
	if _, err := d.Frames("extra"); err == nil {
		t.Error("unknown split accepted")
	}
}

func TestFramesChecksPublishedSizesOfFullTrainingSet(t *testing.T) {
	// 2,975 label files where the test cities hold 500 instead of 503.
	root := t.TempDir()
	counts := map[string]int{"aachen": 2475, "tubingen": 125, "ulm": 125, "weimar": 125,
		"zurich": 125}
	for city, n := range counts {
		dir := filepath.Join(root, GtFine, "train", city)
		_ = os.MkdirAll(dir, 0o755)
		for i := range n {
			name := fmt.Sprintf("%s_%06d_000019_gtFine_labelIds.png", city, i)
			_ = os.WriteFile(filepath.Join(dir, name), nil, 0o644)
		}
	}
	_, err := open(t, root).Frames(Test)
	if err == nil || !strings.Contains(err.Error(), "500 frames, want 503") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadFrameDownscalesAllKinds(t *testing.T) {
	d := open(t, fakeDataset(t))
	s, err := d.LoadFrame(testFrames[1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.H != 2 || s.W != 4 {
		t.Fatalf("size %dx%d", s.W, s.H)
	}
	if !slices.Equal(s.Labels, []uint8{26, 7, 23, 23, 7, 7, 23, 23}) {
		t.Errorf("labels %v", s.Labels)
	}
	// Red of block column 1: mean of x*8 for x in 8..15, over 255.
	if r := s.Color[3]; math.Abs(float64(r)-92.0/255) > 1e-6 || s.Color[5] != 1 {
		t.Errorf("color %v", s.Color[:6])
	}
	// Top blocks: mean of x%8 = 3.5; bottom blocks: half the rows valid, same mean.
	if s.Disparity[0] != 3.5 || s.Disparity[4] != 3.5 {
		t.Errorf("disparity %v", s.Disparity)
	}
	hdr, err := d.LoadFrame(testFrames[1], Options{HDR: true, NoDisparity: true})
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Disparity != nil || math.Abs(float64(hdr.Color[3])-(11.5*2048/65535)) > 1e-6 {
		t.Errorf("HDR color %v", hdr.Color[:6])
	}
}

func TestLoadFrameRejectsBadFiles(t *testing.T) {
	f := testFrames[0]
	path := func(root, kind string) string {
		return filepath.Join(root, kind, f.Official, f.City, f.ID+"_"+
			map[string]string{GtFine: "gtFine_labelIds"}[kind]+
			map[bool]string{true: kind}[kind != GtFine]+".png")
	}
	cases := []struct {
		name string
		kind string
		edit func(p string)
		want string
	}{
		{"disparity of 8 bits", Disparity, func(p string) {
			savePNG(t, p, image.NewGray(image.Rect(0, 0, tw, th)))
		}, "8-bit gray image, want 16-bit gray"},
		{"gray color image", Color8, func(p string) {
			savePNG(t, p, image.NewGray(image.Rect(0, 0, tw, th)))
		}, "want 8-bit RGB"},
		{"color with alpha", Color8, func(p string) {
			savePNG(t, p, image.NewNRGBA(image.Rect(0, 0, tw, th)))
		}, "8-bit RGBA image"},
		{"wrong size", Color8, func(p string) {
			img := image.NewRGBA(image.Rect(0, 0, 2*tw, th))
			for i := range img.Pix {
				img.Pix[i] = 255
			}
			savePNG(t, p, img)
		}, "64x16, but its label image is 32x16"},
		{"not a multiple of 8", GtFine, func(p string) {
			savePNG(t, p, image.NewGray(image.Rect(0, 0, 30, 16)))
		}, "not a multiple of 8"},
		{"label id out of range", GtFine, func(p string) {
			img := image.NewGray(image.Rect(0, 0, tw, th))
			img.Pix[5] = 40
			savePNG(t, p, img)
		}, "label id 40"},
		{"missing partner", Disparity, func(p string) { _ = os.Remove(p) }, "missing file"},
		{"not a PNG", Color8, func(p string) { _ = os.WriteFile(p, []byte("JFIF"), 0o644) },
			"not a PNG"},
		{"truncated PNG", GtFine, func(p string) {
			b, _ := os.ReadFile(p)
			_ = os.WriteFile(p, b[:len(b)/2], 0o644)
		}, ""},
	}
	for _, c := range cases {
		root := t.TempDir()
		writeFrame(t, root, f, 0)
		p := path(root, c.kind)
		c.edit(p)
		_, err := open(t, root).LoadFrame(f, Options{})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v should name %s and say %q", c.name, err, p, c.want)
		}
	}

	root := t.TempDir()
	writeFrame(t, root, f, 0)
	_ = os.RemoveAll(filepath.Join(root, Color16))
	if _, err := open(t, root).LoadFrame(f, Options{HDR: true}); err == nil ||
		!strings.Contains(err.Error(), "leftImg16bit_trainvaltest.zip") {
		t.Errorf("missing 16-bit folder: %v", err)
	}
}

func TestOpenRejectsEmptyOrMissingFolder(t *testing.T) {
	t.Setenv(EnvDataset, "")
	if _, err := Open(""); err == nil || !strings.Contains(err.Error(), EnvDataset) {
		t.Errorf("no folder: %v", err)
	}
	empty := t.TempDir()
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty folder: %v", err)
	}
	_ = os.MkdirAll(filepath.Join(empty, GtFine, "train"), 0o755)
	if _, err := open(t, empty).Frames(Train); err == nil ||
		!strings.Contains(err.Error(), "no *_gtFine_labelIds.png") {
		t.Errorf("empty gtFine: %v", err)
	}
}

// zipFolder packs root/kind into root/kind_trainvaltest.zip and removes the folder.
func zipFolder(t *testing.T, root, kind string) {
	t.Helper()
	out, err := os.Create(filepath.Join(root, kind+"_trainvaltest.zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	_ = filepath.Walk(filepath.Join(root, kind), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		w, _ := zw.Create(filepath.ToSlash(rel))
		b, _ := os.ReadFile(p)
		_, _ = w.Write(b)
		return nil
	})
	w, _ := zw.Create("README")
	_, _ = io.WriteString(w, "readme")
	_ = zw.Close()
	_ = out.Close()
	_ = os.RemoveAll(filepath.Join(root, kind))
}

func TestZipsReadLikeFolders(t *testing.T) {
	root := fakeDataset(t)
	want, err := open(t, root).LoadFrame(testFrames[3], Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{GtFine, Color8, Disparity} {
		zipFolder(t, root, kind)
	}
	d := open(t, root)
	frames, err := d.Frames(Test)
	if err != nil || len(frames) != 2 {
		t.Fatalf("frames from zip: %v %v", frames, err)
	}
	got, err := d.LoadFrame(frames[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Labels, want.Labels) || !slices.Equal(got.Color, want.Color) ||
		!slices.Equal(got.Disparity, want.Disparity) {
		t.Fatal("zip and folder differ")
	}
	_ = os.Remove(filepath.Join(root, Disparity+"_trainvaltest.zip"))
	_ = os.WriteFile(filepath.Join(root, Disparity+"_trainvaltest.zip"), []byte("PK junk"), 0o644)
	if _, err := Open(root); err == nil || !strings.Contains(err.Error(), "disparity_trainvaltest.zip") {
		t.Fatalf("broken zip: %v", err)
	}
}

func TestLoadCachesDownscaledSplit(t *testing.T) {
	root := fakeDataset(t)
	cache := t.TempDir()
	opt := LoadOptions{CacheDir: cache, Quiet: true, Workers: 2}
	first, err := open(t, root).Load(context.Background(), Train, opt)
	if err != nil {
		t.Fatal(err)
	}
	if first.N != 3 || len(first.Color) != 3*8*3 || len(first.Disparity) != 24 {
		t.Fatalf("split %d frames, %d color values", first.N, len(first.Color))
	}
	files, _ := filepath.Glob(filepath.Join(cache, "*", "train-8bit-x8.bin"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}

	// The second load comes from the cache: a color PNG replaced by junk of the
	// same size and time (so the cache key stays) is not read.
	png0 := filepath.Join(root, Color8, "train", "aachen", testFrames[0].ID+"_leftImg8bit.png")
	info, _ := os.Stat(png0)
	good, _ := os.ReadFile(png0)
	_ = os.WriteFile(png0, make([]byte, len(good)), 0o644)
	_ = os.Chtimes(png0, info.ModTime(), info.ModTime())
	again, err := open(t, root).Load(context.Background(), Train, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first.Color {
		if math.Abs(float64(first.Color[i]-again.Color[i])) > 1e-4 {
			t.Fatalf("cached color %d: %v vs %v", i, again.Color[i], first.Color[i])
		}
	}
	if !slices.Equal(first.Labels, again.Labels) || !slices.Equal(first.Disparity, again.Disparity) {
		t.Fatal("cached labels or disparity differ")
	}
	_ = os.WriteFile(png0, good, 0o644)
	_ = os.Chtimes(png0, info.ModTime(), info.ModTime())

	// A damaged cache file is dropped and rebuilt.
	b, _ := os.ReadFile(files[0])
	b[len(b)-40] ^= 0xff
	_ = os.WriteFile(files[0], b, 0o644)
	if _, err := open(t, root).Load(context.Background(), Train, opt); err != nil {
		t.Fatal(err)
	}
	if fixed, _ := os.ReadFile(files[0]); fixed[len(fixed)-40] == b[len(b)-40] {
		t.Fatal("damaged cache file kept")
	}

	// A changed file gives a new cache key.
	later := time.Now().Add(time.Hour)
	_ = os.Chtimes(filepath.Join(root, GtFine, "train", "aachen", testFrames[0].ID+
		"_gtFine_labelIds.png"), later, later)
	if _, err := open(t, root).Load(context.Background(), Train, opt); err != nil {
		t.Fatal(err)
	}
	if files, _ = filepath.Glob(filepath.Join(cache, "*", "train-8bit-x8.bin")); len(files) != 2 {
		t.Fatalf("cache files after a change: %v", files)
	}
}

func TestLoadFailsWholeOnABadFrameAndCachesNothing(t *testing.T) {
	root := fakeDataset(t)
	_ = os.Remove(filepath.Join(root, Disparity, "train", "bochum", testFrames[2].ID+"_disparity.png"))
	cache := t.TempDir()
	_, err := open(t, root).Load(context.Background(), Train, LoadOptions{CacheDir: cache, Quiet: true})
	if err == nil || !strings.Contains(err.Error(), "bochum_000000_000313_disparity.png") {
		t.Fatalf("err = %v", err)
	}
	if left, _ := os.ReadDir(cache); len(left) != 0 {
		t.Fatalf("cache holds %v", left)
	}
}

func TestFlipMirrorsColorDisparityAndLabelsTogether(t *testing.T) {
	a, err := open(t, fakeDataset(t)).Load(context.Background(), Val,
		LoadOptions{NoCache: true, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	s := a.Sample(1) // an odd frame: car top left
	before := slices.Clone(s.Labels)
	red := s.Color[0]
	s.FlipH()
	if s.Labels[3] != before[0] || s.Labels[0] != before[3] || s.Color[9] != red {
		t.Fatalf("flip: labels %v from %v", s.Labels, before)
	}
	flipped := a.FlipRandom(5)
	n := 0
	for _, f := range flipped {
		if f {
			n++
		}
	}
	if n != a.N/2 || !slices.Equal(flipped, a.FlipRandom(5)) {
		t.Fatalf("random flips %v", flipped)
	}
}

func TestDatasetYieldsInputsClassesAndMask(t *testing.T) {
	a, err := open(t, fakeDataset(t)).Load(context.Background(), Train,
		LoadOptions{NoCache: true, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	backend, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	ds, err := a.Dataset(backend, WalkableClasses(), DefaultDisparityScale)
	if err != nil {
		t.Fatal(err)
	}
	ds.BatchSize(2, false)
	_, inputs, labels, err := ds.Yield()
	if err != nil {
		t.Fatal(err)
	}
	if d := inputs[0].Shape().Dimensions; !slices.Equal(d, []int{2, 2, 4, 4}) {
		t.Fatalf("input dims %v", d)
	}
	cls := labels[0].Value().([][][][]int32)
	if cls[0][0][0][0] != 1 || cls[0][0][3][0] != 0 || len(labels) != 2 {
		t.Fatalf("classes %v", cls[0])
	}
}

// BenchmarkLoadFrameFullSize reads and downscales one frame of the published
// size, 2048 x 1024: 8-bit color, disparity and labels.
func BenchmarkLoadFrameFullSize(b *testing.B) {
	root := b.TempDir()
	f := Frame{"train", "aachen", "aachen_000000_000019"}
	const w, h = 2048, 1024
	lab := image.NewGray(image.Rect(0, 0, w, h))
	col := image.NewRGBA(image.Rect(0, 0, w, h))
	disp := image.NewGray16(image.Rect(0, 0, w, h))
	for i := range lab.Pix {
		lab.Pix[i] = uint8(i / 97 % NumLabels)
		disp.Pix[2*i], disp.Pix[2*i+1] = uint8(i/w%200), uint8(i)
		col.Pix[4*i], col.Pix[4*i+1], col.Pix[4*i+2], col.Pix[4*i+3] = uint8(i), uint8(i/w), 9, 255
	}
	save := func(kind, suffix string, img image.Image) {
		p := filepath.Join(root, kind, f.Official, f.City, f.ID+"_"+suffix+".png")
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		out, _ := os.Create(p)
		_ = png.Encode(out, img)
		_ = out.Close()
	}
	save(GtFine, "gtFine_labelIds", lab)
	save(Color8, "leftImg8bit", col)
	save(Disparity, "disparity", disp)
	d, err := Open(root)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.LoadFrame(f, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
