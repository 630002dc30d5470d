package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlexp/dlexp/mlx/notebook"
)

// fakeLibrary points DLEXP_ECHARTS_JS at a small stand-in for echarts.min.js.
func fakeLibrary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "echarts.min.js")
	if err := os.WriteFile(p, []byte("/*FAKE-ECHARTS*/ window.echarts = {};"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvEChartsJS, p)
	return p
}

func accuracyChart() *Line {
	c := NewLine("Global accuracy", WithAxes("epoch", "accuracy"), WithYRange(0, 1))
	for k, name := range []string{"RGB", "RGB+D", "HDR", "HDR+D"} {
		var y []float64
		for e := 1; e <= 12; e++ {
			y = append(y, 0.5+0.4*(1-math.Exp(-float64(e)/float64(3+k))))
		}
		if err := c.Add(name, nil, y); err != nil {
			panic(err)
		}
	}
	return c
}

func TestHTMLHasInitAndSeriesData(t *testing.T) {
	c := NewLine("loss", WithAxes("epoch", "loss"))
	c.Append("train", 1, 0.5)
	c.Append("train", 2, 0.25)
	c.Append("validation", 1, 0.75)
	s, err := c.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"echarts.init", `"name":"train"`, `"name":"validation"`, `"value":[1,0.5]`,
		`"value":[2,0.25]`, `"value":[1,0.75]`, `"text":"loss"`, `"name":"epoch"`, "<div id=",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("HTML lacks %s", want)
		}
	}
	if strings.Contains(s, "FAKE-ECHARTS") || strings.Contains(s, "<script src") {
		t.Error("HTML snippet carries the library; it should not")
	}
}

func TestOptionJSONMarksGapsAndEscapesHTML(t *testing.T) {
	c := NewLine("</script><b>", WithLogY())
	c.Append("s", 1, math.NaN())
	c.Append("s", 2, -1) // not on a log axis
	c.Append("s", 3, 2)
	b, err := c.OptionJSON()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, `"value":[1,"-"]`) || !strings.Contains(s, `"value":[2,"-"]`) ||
		!strings.Contains(s, `"value":[3,2]`) || !strings.Contains(s, `"type":"log"`) {
		t.Errorf("option JSON = %s", s)
	}
	if strings.Contains(s, "</script>") {
		t.Error("title not escaped inside the script")
	}
}

func TestAddRejectsMismatchedLengths(t *testing.T) {
	if err := NewLine("x").Add("s", []float64{1, 2}, []float64{1}); err == nil {
		t.Error("mismatched x and y accepted")
	}
}

func TestShowInlinesLibraryOncePerKernel(t *testing.T) {
	fakeLibrary(t)
	session := t.TempDir()
	rec, stop := notebook.Capture(session)
	defer stop()

	for i := 0; i < 2; i++ {
		if err := accuracyChart().Show(); err != nil {
			t.Fatal(err)
		}
	}
	items := rec.Items()
	if len(items) != 3 {
		t.Fatalf("got %d outputs, want library + 2 charts", len(items))
	}
	lib := items[0].HTML
	if !strings.Contains(lib, "FAKE-ECHARTS") || !strings.Contains(lib, "if (!window.echarts)") {
		t.Errorf("first output is not the guarded library: %.200s", lib)
	}
	for _, it := range items[1:] {
		if it.Kind != notebook.KindHTML || strings.Contains(it.HTML, "FAKE-ECHARTS") ||
			!strings.Contains(it.HTML, "echarts.init") {
			t.Errorf("chart output wrong: %.200s", it.HTML)
		}
	}

	// A later cell is a new process of the same kernel: the marker keeps the library out.
	rec2, stop2 := notebook.Capture(session)
	live := NewLive("loss", WithInterval(0))
	live.Append("train", 1, 1)
	_ = live.Close()
	stop2()
	for _, it := range rec2.Items() {
		if strings.Contains(it.HTML, "FAKE-ECHARTS") {
			t.Error("library sent twice in one kernel session")
		}
	}

	// ReloadLibrary sends it again.
	ReloadLibrary()
	if last := rec.Items()[len(rec.Items())-1]; !strings.Contains(last.HTML, "FAKE-ECHARTS") {
		t.Error("ReloadLibrary did not send the library")
	}
}

func TestLibraryPathPrefersEnvThenXDGThenCDN(t *testing.T) {
	env := fakeLibrary(t)
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	if p, err := LibraryPath(); err != nil || p != env {
		t.Errorf("LibraryPath = %q, %v; want %q", p, err, env)
	}

	t.Setenv(EnvEChartsJS, filepath.Join(data, "missing.js"))
	def := DefaultLibraryPath()
	if want := filepath.Join(data, "dlexp/npm/node_modules/echarts/dist/echarts.min.js"); def != want {
		t.Errorf("DefaultLibraryPath = %q, want %q", def, want)
	}
	if err := os.MkdirAll(filepath.Dir(def), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(def, []byte("/*XDG*/"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := LibraryPath(); err != nil || p != def {
		t.Errorf("LibraryPath = %q, %v; want %q", p, err, def)
	}
	if !strings.Contains(LoaderHTML(), "/*XDG*/") {
		t.Error("LoaderHTML does not inline the XDG copy")
	}

	if err := os.Remove(def); err != nil {
		t.Fatal(err)
	}
	if _, err := LibraryPath(); err == nil {
		t.Error("LibraryPath found a library where there is none")
	}
	if s := LoaderHTML(); !strings.Contains(s, CDNURL) || !strings.Contains(s, "window.echarts") {
		t.Errorf("fallback loader = %s", s)
	}
}

func TestLiveUpdatesOneBlockInPlace(t *testing.T) {
	fakeLibrary(t)
	rec, stop := notebook.Capture(t.TempDir())
	defer stop()

	live := NewLive("loss", WithAxes("epoch", "loss"), WithInterval(0))
	for e := 1; e <= 5; e++ {
		live.Append("train", float64(e), 1/float64(e))
		live.Append("validation", float64(e), 1.5/float64(e))
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}

	final := rec.Final()
	if len(final) != 2 {
		t.Fatalf("saved notebook would hold %d outputs, want library + chart", len(final))
	}
	if final[0].Kind != notebook.KindHTML || !strings.Contains(final[0].HTML, "FAKE-ECHARTS") {
		t.Error("library is not a final output before the chart")
	}
	last := final[1]
	if last.Kind != notebook.KindUpdateHTML || !strings.Contains(last.HTML, `"value":[5,0.2]`) ||
		!strings.Contains(last.HTML, `"value":[5,0.3]`) {
		t.Errorf("chart block does not hold the final state: %.300s", last.HTML)
	}
	updates := 0
	for _, it := range rec.Items() {
		if it.Kind == notebook.KindUpdateHTML {
			updates++
			if it.ID != last.ID {
				t.Error("live chart used more than one display block")
			}
		}
	}
	if updates < 10 {
		t.Errorf("%d updates for 10 appends with no interval", updates)
	}
	if rec.Syncs() == 0 {
		t.Error("Close did not wait for the output to reach the notebook")
	}
}

func TestLiveThrottlesAndCloseDrawsEveryPoint(t *testing.T) {
	fakeLibrary(t)
	rec, stop := notebook.Capture(t.TempDir())
	defer stop()

	live := NewLive("loss", WithInterval(time.Hour))
	for e := 1; e <= 3; e++ {
		live.Append("train", float64(e), float64(e))
	}
	if n := len(rec.Items()); n != 2 {
		t.Errorf("%d outputs before Close, want library + first draw", n)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	final := rec.Final()
	if !strings.Contains(final[len(final)-1].HTML, `"value":[3,3]`) {
		t.Error("Close did not draw the last point")
	}
}

func TestLiveWritesFileOutsideNotebook(t *testing.T) {
	fakeLibrary(t)
	out := t.TempDir()
	t.Setenv(notebook.EnvOut, out)
	live := NewLive("Train Loss")
	live.Append("train", 1, 0.9)
	live.Append("train", 2, 0.4)
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(out, "train_loss.html")
	if live.Path() != want {
		t.Errorf("Path() = %q, want %q", live.Path(), want)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.Contains(s, "FAKE-ECHARTS") ||
		!strings.Contains(s, `"value":[2,0.4]`) {
		t.Errorf("HTML file = %.300s", s)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("out/ holds %v, want only the chart", entries)
	}
}

func TestPNGDecodesAndDrawsEverySeries(t *testing.T) {
	c := accuracyChart()
	b, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, DefaultWidth, DefaultHeight) {
		t.Errorf("size %v", img.Bounds())
	}
	counts := map[color.RGBA]int{}
	nonWhite := 0
	for y := 0; y < DefaultHeight; y++ {
		for x := 0; x < DefaultWidth; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			px := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), 0xff}
			counts[px]++
			if px != colBackground {
				nonWhite++
			}
		}
	}
	if nonWhite < 2000 {
		t.Errorf("only %d non-background pixels", nonWhite)
	}
	for i := 0; i < 4; i++ {
		if counts[Palette[i]] < 50 {
			t.Errorf("series %d colour drawn on %d pixels", i, counts[Palette[i]])
		}
	}
}

func TestSaveFilesAreAtomicAndComplete(t *testing.T) {
	fakeLibrary(t)
	out := t.TempDir()
	t.Setenv(notebook.EnvOut, out)
	c := accuracyChart()
	hp, err := c.SaveHTML("acc.html")
	if err != nil {
		t.Fatal(err)
	}
	pp, err := c.SavePNG("acc.png")
	if err != nil {
		t.Fatal(err)
	}
	if hp != filepath.Join(out, "acc.html") || pp != filepath.Join(out, "acc.png") {
		t.Errorf("paths %q %q", hp, pp)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("out/ holds %v, want the two files only", entries)
	}
}

func TestTicksAreRoundNumbers(t *testing.T) {
	r := axisRange{lo: 0.013, hi: 0.97}
	r.settle()
	ts, labels := r.ticks(5)
	if r.lo != 0 || r.hi != 1 {
		t.Errorf("range settled to [%g, %g], want [0, 1]", r.lo, r.hi)
	}
	if strings.Join(labels, " ") != "0.0 0.2 0.4 0.6 0.8 1.0" || len(ts) != 6 {
		t.Errorf("labels %v", labels)
	}
	e := axisRange{lo: 1, hi: 30, integer: true}
	e.settle()
	if _, l := e.ticks(6); strings.Join(l, " ") != "0 5 10 15 20 25 30" {
		t.Errorf("epoch axis labels %v", l)
	}
	few := axisRange{lo: 1, hi: 3, integer: true}
	few.settle()
	if _, l := few.ticks(8); strings.Join(l, " ") != "1 2 3" {
		t.Errorf("epoch axis with 3 epochs labelled %v, want whole numbers", l)
	}
}

func BenchmarkLinePNG(b *testing.B) {
	c := NewLine("loss")
	for i := 0; i < 2000; i++ {
		c.Append("train", float64(i), math.Exp(-float64(i)/500))
	}
	for b.Loop() {
		if _, err := c.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLiveSnippet(b *testing.B) {
	c := NewLine("loss")
	for i := 0; i < 2000; i++ {
		c.Append("train", float64(i), math.Exp(-float64(i)/500))
	}
	for b.Loop() {
		if _, err := c.snippet("id", false); err != nil {
			b.Fatal(err)
		}
	}
}
