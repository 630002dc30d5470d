package idx

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRaw(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func images(n, h, w int) *Array {
	a := &Array{Dims: []int{n, h, w}, Data: make([]byte, n*h*w)}
	for i := range a.Data {
		a.Data[i] = byte(i)
	}
	return a
}

func encode(t *testing.T, a *Array) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadFileRoundTripsPlainAndGzip(t *testing.T) {
	want := images(3, 4, 5)
	for _, name := range []string{"imgs-idx3-ubyte", "imgs-idx3-ubyte.gz"} {
		p := filepath.Join(t.TempDir(), name)
		if err := WriteFile(p, want); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Data, want.Data) || len(got.Dims) != 3 || got.Dims[2] != 5 {
			t.Fatalf("%s: got dims %v", name, got.Dims)
		}
	}
}

func TestReadFileRejectsMalformedFiles(t *testing.T) {
	good := encode(t, images(2, 3, 3))
	badMagic := append([]byte{0x12, 0x34}, good[2:]...)
	badType := append([]byte{0, 0, 0x0d}, good[3:]...)
	moreCount := append([]byte(nil), good...)
	moreCount[7] = 3 // three images claimed, two present
	hugeDims := append([]byte(nil), good...)
	copy(hugeDims[4:8], []byte{0xff, 0xff, 0xff, 0xff})
	zipped := gz(encode(t, images(20, 10, 10)))
	cutInside := append(append([]byte(nil), zipped[:len(zipped)/2]...), zipped[len(zipped)-8:]...)
	cases := []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"truncated", "a-idx3-ubyte", good[:len(good)-3], "file holds"},
		{"truncated gzip", "a-idx3-ubyte.gz", gz(good)[:30], "truncated or corrupt"},
		{"cut inside gzip, trailer kept", "a-idx3-ubyte.gz", cutInside, "truncated"},
		{"extra bytes", "a-idx3-ubyte", append(good, 1, 2), "file holds"},
		{"wrong magic", "a-idx3-ubyte", badMagic, "bad magic"},
		{"wrong type", "a-idx3-ubyte", badType, "element type"},
		{"count disagrees with length", "a-idx3-ubyte", moreCount, "need 27 bytes"},
		{"count disagrees inside gzip", "a-idx3-ubyte.gz", gz(moreCount), "need 27 bytes"},
		{"huge dimensions", "a-idx3-ubyte", hugeDims, "more than"},
		{"named gz but not gzip", "a-idx3-ubyte.gz", good, "not gzip"},
		{"empty", "a-idx3-ubyte", nil, "too short"},
		{"header only", "a-idx3-ubyte", good[:6], "truncated header"},
	}
	for _, c := range cases {
		p := writeRaw(t, c.file, c.data)
		_, err := ReadFile(p)
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q should name the file and say %q", c.name, err, c.want)
		}
	}
}

func TestReadLabelsChecksRangeAndRank(t *testing.T) {
	p := writeRaw(t, "l-idx1-ubyte", encode(t, &Array{Dims: []int{3}, Data: []byte{1, 9, 10}}))
	if _, err := ReadLabels(p, 10); err == nil || !strings.Contains(err.Error(), "label 10 of item 2") {
		t.Fatalf("out-of-range label: %v", err)
	}
	if l, err := ReadLabels(p, 11); err != nil || len(l) != 3 {
		t.Fatalf("good labels: %v, %v", l, err)
	}
	img := writeRaw(t, "i-idx3-ubyte", encode(t, images(1, 2, 2)))
	if _, err := ReadLabels(img, 10); err == nil || !strings.Contains(err.Error(), "want 1") {
		t.Fatalf("images read as labels: %v", err)
	}
	if _, _, _, _, err := ReadImages(p); err == nil || !strings.Contains(err.Error(), "want 3") {
		t.Fatalf("labels read as images: %v", err)
	}
}

func BenchmarkReadFileGzipMNISTTest(b *testing.B) {
	p := filepath.Join(b.TempDir(), "t10k-images-idx3-ubyte.gz")
	a := &Array{Dims: []int{10000, 28, 28}, Data: make([]byte, 10000*784)}
	for i := range a.Data {
		a.Data[i] = byte(i * 7 % 256)
	}
	if err := WriteFile(p, a); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(a.Data)))
	for b.Loop() {
		if _, err := ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
}
