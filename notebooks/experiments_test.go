package notebooks

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	experimentSize = flag.String("experiment-size", "smoke",
		`DLEXP_SIZE for the experiment notebooks: "smoke" (seconds of training), "quick" or "full"`)
	fakeCityscapes = flag.String("fake-cityscapes", "",
		"folder to write the small fake Cityscapes tree into and keep (default: a temporary one)")
)

// experimentTests says, for each experiment notebook, what it must show on MNIST besides
// having no error, and a text its results cell prints.
var experimentTests = []struct {
	name    string
	want    expect
	printed string
}{
	{"identity.ipynb", expect{gif: true, chart: true}, "-> copy"},
	{"superresolution.ipynb", expect{gif: true, chart: true}, "-> UNet"},
	{"pixels_mnist.ipynb", expect{gif: true, chart: true}, "digit vs background over"},
}

func TestExperimentNotebooksRunOnMNIST(t *testing.T) {
	requireKernel(t)
	t.Setenv("DLEXP_SIZE", *experimentSize)
	t.Setenv("DLEXP_DATASET", "mnist")
	for _, tc := range experimentTests {
		t.Run(strings.TrimSuffix(tc.name, ".ipynb"), func(t *testing.T) {
			if _, err := os.Stat(tc.name); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			nb := execute(t, tc.name)
			check(t, nb, tc.want)
			if out := streamText(nb); !strings.Contains(out, tc.printed) {
				t.Errorf("the results cell did not print %q; printed:\n%s", tc.printed, tail(out))
			}
		})
	}
}

func TestCityscapesNotebookSaysHowToGetTheDataAndStopsCleanly(t *testing.T) {
	requireKernel(t)
	t.Setenv("DLEXP_SIZE", *experimentSize)
	t.Setenv("CITYSCAPES_DATASET", "")
	nb := execute(t, "cityscapes.ipynb")
	check(t, nb, expect{})
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "stream" && o.Name == "stderr" {
				t.Errorf("cell %d wrote to stderr without the data: %s", i, o.Text)
			}
		}
	}
	out := streamText(nb)
	if !strings.Contains(out, "www.cityscapes-dataset.com") {
		t.Errorf("no line saying how to get Cityscapes; printed:\n%s", out)
	}
	code := 0
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			code++
		}
	}
	if n := strings.Count(out, "skipped: no Cityscapes data"); n < code {
		t.Errorf("%d of %d code cells say they skipped; printed:\n%s", n, code, out)
	}
}

func TestCityscapesNotebookTrainsOnFakeData(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the training path of cityscapes.ipynb is not run")
	}
	requireKernel(t)
	root := t.TempDir()
	if *fakeCityscapes != "" {
		var err error
		if root, err = filepath.Abs(*fakeCityscapes); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeFakeCityscapes(root); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DLEXP_SIZE", *experimentSize)
	t.Setenv("CITYSCAPES_DATASET", root)
	t.Setenv("DLEXP_DATA", t.TempDir()) // the downscaled-split cache of the fake data
	nb := execute(t, "cityscapes.ipynb")
	check(t, nb, expect{chart: true})
	out := streamText(nb)
	for _, want := range []string{"test accuracy", "prediction-full.png", "errors-walkable.png",
		"accuracy-full.png", "accuracy-walkable.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("the notebook did not print %q; printed:\n%s", want, tail(out))
		}
	}
	if strings.Contains(out, "skipped: no Cityscapes data") {
		t.Errorf("the notebook did not find the fake data in %s", root)
	}
}

// fakeFrames are the frames of the fake tree: training cities, test cities (see
// cityscapes.TestCities) and validation cities.
var fakeFrames = []struct{ split, city string }{
	{"train", "aachen"}, {"train", "aachen"}, {"train", "aachen"},
	{"train", "bochum"}, {"train", "bochum"}, {"train", "bochum"},
	{"train", "tubingen"}, {"train", "ulm"},
	{"val", "frankfurt"}, {"val", "lindau"},
}

// writeFakeCityscapes writes, under root, fake frames in the official layout and formats:
// 2048x1024 label ids (8-bit gray), colour (8-bit RGB), HDR colour (16-bit RGB) and disparity
// (16-bit gray) PNGs of a simple street: sky, buildings, trees, sidewalk, road, a car and
// the ego vehicle (void), with noisy colours and a disparity growing towards the bottom.
func writeFakeCityscapes(root string) error {
	const w, h = 2048, 1024
	for k, f := range fakeFrames {
		id := fmt.Sprintf("%s_%06d_000019", f.city, k)
		rng := rand.New(rand.NewPCG(uint64(k), 7))
		labels := image.NewGray(image.Rect(0, 0, w, h))
		c8 := image.NewRGBA(image.Rect(0, 0, w, h))
		c16 := image.NewRGBA64(image.Rect(0, 0, w, h))
		disp := image.NewGray16(image.Rect(0, 0, w, h))
		skyline := 260 + 25*k
		carX := 300 + 110*k
		for y := range h {
			for x := range w {
				id, d := fakeLabel(x, y, skyline, carX)
				labels.Pix[y*labels.Stride+x] = id
				c := labelColor(id)
				noise := func(v uint8) uint8 {
					return uint8(min(max(int(v)*4/5+rng.IntN(40), 0), 255))
				}
				r, g, b := noise(c.R), noise(c.G), noise(c.B)
				o := y*c8.Stride + 4*x
				c8.Pix[o], c8.Pix[o+1], c8.Pix[o+2], c8.Pix[o+3] = r, g, b, 255
				o = y*c16.Stride + 8*x
				for j, v := range []uint8{r, g, b} {
					hdr := uint16(v) * 64 // dark, linear 16-bit values
					c16.Pix[o+2*j], c16.Pix[o+2*j+1] = uint8(hdr>>8), uint8(hdr)
				}
				c16.Pix[o+6], c16.Pix[o+7] = 0xff, 0xff
				o = y*disp.Stride + 2*x
				disp.Pix[o], disp.Pix[o+1] = uint8(d>>8), uint8(d)
			}
		}
		files := map[string]image.Image{
			filepath.Join("gtFine", f.split, f.city, id+"_gtFine_labelIds.png"):    labels,
			filepath.Join("leftImg8bit", f.split, f.city, id+"_leftImg8bit.png"):   c8,
			filepath.Join("leftImg16bit", f.split, f.city, id+"_leftImg16bit.png"): c16,
			filepath.Join("disparity", f.split, f.city, id+"_disparity.png"):       disp,
		}
		for name, img := range files {
			if err := writePNG(filepath.Join(root, name), img); err != nil {
				return err
			}
		}
	}
	return nil
}

// fakeLabel returns the label id and stored disparity of pixel (x, y) of a fake frame.
func fakeLabel(x, y, skyline, carX int) (id uint8, disparity uint16) {
	ground := func(px int) uint16 { return uint16(1 + 256*px) } // px pixels of disparity
	switch {
	case y >= 950:
		return 1, 0 // ego vehicle: void
	case x >= carX && x < carX+420 && y >= 560 && y < 780:
		return 26, ground(40) // car
	case y < skyline:
		return 23, 0 // sky: no valid disparity
	case y < 520 && x >= 1500:
		return 21, ground(12) // vegetation
	case y < 520:
		return 11, ground(8) // building
	case y < 620:
		return 8, ground((y - 480) / 4) // sidewalk
	}
	return 7, ground((y - 480) / 4) // road
}

// labelColor is the colour the fake images give a label id.
func labelColor(id uint8) color.RGBA {
	switch id {
	case 7:
		return color.RGBA{128, 64, 128, 255}
	case 8:
		return color.RGBA{244, 35, 232, 255}
	case 11:
		return color.RGBA{70, 70, 70, 255}
	case 21:
		return color.RGBA{107, 142, 35, 255}
	case 23:
		return color.RGBA{70, 130, 180, 255}
	case 26:
		return color.RGBA{0, 0, 142, 255}
	}
	return color.RGBA{0, 0, 0, 255}
}

// writePNG writes img to path, creating the folder, with fast compression.
func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, img); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
