package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlexp/dlexp/datasets/fetch"
)

// record10 returns one CIFAR-10 record: label, then red plane = label, green
// plane = 100+i%100, blue plane = 200.
func record(head []byte, i int) []byte {
	r := append([]byte(nil), head...)
	r = append(r, bytes.Repeat([]byte{head[len(head)-1]}, 1024)...)
	r = append(r, bytes.Repeat([]byte{byte(100 + i%100)}, 1024)...)
	return append(r, bytes.Repeat([]byte{200}, 1024)...)
}

func names(n int, prefix string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String() + "\n"
}

// write10 writes a small CIFAR-10 folder with per records in each batch.
func write10(t *testing.T, dir string, per int) {
	t.Helper()
	files := map[string][]byte{"batches.meta.txt": []byte(names(10, "class"))}
	for b := 1; b <= 6; b++ {
		name := fmt.Sprintf("data_batch_%d.bin", b)
		if b == 6 {
			name = "test_batch.bin"
		}
		var buf []byte
		for i := range per {
			buf = append(buf, record([]byte{byte((b + i) % 10)}, i)...)
		}
		files[name] = buf
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func write100(t *testing.T, dir string, per int) {
	t.Helper()
	_ = os.WriteFile(filepath.Join(dir, "fine_label_names.txt"), []byte(names(100, "fine")), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "coarse_label_names.txt"), []byte(names(20, "coarse")), 0o644)
	for _, split := range []string{"train", "test"} {
		var buf []byte
		for i := range per {
			buf = append(buf, record([]byte{byte(i % 20), byte(i * 7 % 100)}, i)...)
		}
		_ = os.WriteFile(filepath.Join(dir, split+".bin"), buf, 0o644)
	}
}

func TestRead10ReadsBatchesWithChannelsLast(t *testing.T) {
	dir := t.TempDir()
	write10(t, dir, 3)
	s, err := Read10(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 15 || s.H != 32 || s.C != 3 || s.ClassNames[9] != "class9" {
		t.Fatalf("%d images %dx%dx%d", s.N, s.H, s.W, s.C)
	}
	// Image 4 is batch 2, record 1: label 3, green 101.
	img := s.Image(4)
	if s.Labels[4] != 3 || img[0] != 3 || img[1] != 101 || img[2] != 200 || img[3*1023+2] != 200 {
		t.Fatalf("label %d, first pixel %v", s.Labels[4], img[:3])
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	test, err := Read10(dir, Test)
	if err != nil || test.N != 3 {
		t.Fatalf("test: %v", err)
	}
}

func TestRead100ReadsFineAndCoarseLabels(t *testing.T) {
	dir := t.TempDir()
	write100(t, dir, 30)
	s, err := Read100(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 30 || s.Labels[29] != 29*7%100 || s.CoarseLabels[29] != 9 || s.NumCoarse != 20 {
		t.Fatalf("%d images, fine %d coarse %d", s.N, s.Labels[29], s.CoarseLabels[29])
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestReadRejectsBadFiles(t *testing.T) {
	type fault struct {
		name, file string
		edit       func(path string)
		want       string
	}
	truncate := func(n int64) func(string) {
		return func(p string) { _ = os.Truncate(p, n) }
	}
	setByte := func(off int64, v byte) func(string) {
		return func(p string) {
			f, _ := os.OpenFile(p, os.O_WRONLY, 0)
			_, _ = f.WriteAt([]byte{v}, off)
			_ = f.Close()
		}
	}
	remove := func(p string) { _ = os.Remove(p) }
	faults10 := []fault{
		{"truncated", "data_batch_3.bin", truncate(3073*2 - 5), "not a whole number"},
		{"wrong record size", "test_batch.bin", truncate(3074 * 3), "not a whole number"},
		{"empty", "test_batch.bin", truncate(0), "not a whole number"},
		{"label out of range", "data_batch_2.bin", setByte(3073, 10), "record 1: label 10"},
		{"missing batch", "data_batch_5.bin", remove, "missing batch file"},
		{"missing names", "batches.meta.txt", remove, "no such file"},
		{"too few names", "batches.meta.txt", truncate(20), "class names, want 10"},
	}
	for _, f := range faults10 {
		dir := t.TempDir()
		write10(t, dir, 3)
		path := filepath.Join(dir, f.file)
		f.edit(path)
		_, err1 := Read10(dir, Train)
		_, err2 := Read10(dir, Test)
		err := err1
		if f.file == "test_batch.bin" {
			err = err2
		}
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), f.want) {
			t.Errorf("cifar-10 %s: error %v should name %s and say %q", f.name, err, path, f.want)
		}
	}
	faults100 := []fault{
		{"truncated", "train.bin", truncate(3074*4 + 1), "not a whole number"},
		{"CIFAR-10 records", "train.bin", truncate(3073 * 4), "not a whole number"},
		{"fine label out of range", "train.bin", setByte(1, 100), "label 100"},
		{"coarse label out of range", "train.bin", setByte(3074, 20), "coarse label 20"},
		{"missing coarse names", "coarse_label_names.txt", remove, "no such file"},
	}
	for _, f := range faults100 {
		dir := t.TempDir()
		write100(t, dir, 4)
		path := filepath.Join(dir, f.file)
		f.edit(path)
		if _, err := Read100(dir, Train); err == nil || !strings.Contains(err.Error(), path) ||
			!strings.Contains(err.Error(), f.want) {
			t.Errorf("cifar-100 %s: error %v should name %s and say %q", f.name, err, path, f.want)
		}
	}
	if _, err := Read10(t.TempDir(), "valid"); err == nil {
		t.Error("unknown split accepted")
	}
}

// tarGz packs the files of dir under folder, plus extra entries.
func tarGz(t *testing.T, dir, folder string, extra ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		_ = tw.WriteHeader(&tar.Header{Name: folder + "/" + e.Name(), Mode: 0o644,
			Size: int64(len(b)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(b)
	}
	for _, name := range extra {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte("x"))
	}
	_ = tw.Close()
	_ = zw.Close()
	return buf.Bytes()
}

func serve(t *testing.T, body []byte) (Archive, *fetch.Fetcher) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	sum := md5.Sum(body)
	a := Archive{Folder: "cifar-10-batches-bin", File: fetch.File{Name: "cifar/cifar-10-binary.tar.gz",
		MD5: hex.EncodeToString(sum[:]), Sources: []fetch.Source{fetch.URL(srv.URL + "/c.tar.gz")}}}
	return a, &fetch.Fetcher{Dir: t.TempDir(), Quiet: true}
}

func TestLoad10FetchesUnpacksAndReads(t *testing.T) {
	src := t.TempDir()
	write10(t, src, 2)
	a, fr := serve(t, tarGz(t, src, "cifar-10-batches-bin"))
	old := CIFAR10
	CIFAR10 = a
	defer func() { CIFAR10 = old }()

	s, err := Load10With(context.Background(), fr, Test)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 2 || !strings.HasPrefix(s.Source, fr.Dir) {
		t.Fatalf("%d images from %s", s.N, s.Source)
	}
	// A second load reads the unpacked folder only.
	_ = os.Remove(filepath.Join(fr.Dir, "cifar", "cifar-10-binary.tar.gz"))
	if _, err := Load10With(context.Background(), fr, Train); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesArchiveLeavingTheFolder(t *testing.T) {
	src := t.TempDir()
	write10(t, src, 1)
	a, fr := serve(t, tarGz(t, src, "cifar-10-batches-bin", "../../escaped"))
	_, err := Unpacked(context.Background(), fr, a)
	if err == nil || !strings.Contains(err.Error(), "leaves the target folder") {
		t.Fatalf("err = %v", err)
	}
	left, _ := os.ReadDir(filepath.Join(fr.Dir, "cifar"))
	for _, e := range left {
		if e.Name() != "cifar-10-binary.tar.gz" {
			t.Errorf("left in cache: %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(fr.Dir, "escaped")); err == nil {
		t.Error("entry escaped")
	}
}

func TestLoadRefusesArchiveWithWrongMD5(t *testing.T) {
	src := t.TempDir()
	write10(t, src, 1)
	a, fr := serve(t, tarGz(t, src, "cifar-10-batches-bin"))
	a.File.MD5 = strings.Repeat("0", 32)
	_, err := Unpacked(context.Background(), fr, a)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") ||
		!strings.Contains(err.Error(), "by hand") {
		t.Fatalf("err = %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(fr.Dir, "cifar")); len(left) != 0 {
		t.Fatalf("left in cache: %v", left)
	}
}
