package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarEntry is one entry of a test archive.
type tarEntry struct {
	name string
	typ  byte
	body string
	link string
}

func writeTarGz(t *testing.T, entries []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			_, _ = tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	_ = zw.Close()
	p := filepath.Join(t.TempDir(), "a.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeZip(t *testing.T, entries []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch e.typ {
		case tar.TypeSymlink:
			fh.SetMode(os.ModeSymlink | 0o777)
		case tar.TypeDir:
			fh.SetMode(os.ModeDir | 0o755)
		default:
			fh.SetMode(0o644)
		}
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(e.body + e.link))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "a.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnpackExtractsTarGzAndZip(t *testing.T) {
	entries := []tarEntry{
		{name: "cifar-10-batches-bin/", typ: tar.TypeDir},
		{name: "cifar-10-batches-bin/batches.meta.txt", typ: tar.TypeReg, body: "airplane\n"},
		{name: "cifar-10-batches-bin/deep/x.bin", typ: tar.TypeReg, body: "xyz"},
	}
	for _, archive := range []string{writeTarGz(t, entries), writeZip(t, entries)} {
		dest := filepath.Join(t.TempDir(), "out")
		if err := UnpackQuiet(archive, dest, Limits{}); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dest, "cifar-10-batches-bin", "deep", "x.bin"))
		if err != nil || string(got) != "xyz" {
			t.Fatalf("%s: got %q, %v", archive, got, err)
		}
	}
}

func TestUnpackRefusesUnsafeEntriesAndLeavesNothing(t *testing.T) {
	cases := map[string][]tarEntry{
		"parent path": {{name: "ok.txt", typ: tar.TypeReg, body: "a"},
			{name: "../evil.txt", typ: tar.TypeReg, body: "b"}},
		"absolute path": {{name: "/etc/evil", typ: tar.TypeReg, body: "b"}},
		"nested parent": {{name: "a/../../evil", typ: tar.TypeReg, body: "b"}},
		"symlink":       {{name: "link", typ: tar.TypeSymlink, link: "/etc/passwd"}},
		"hard link":     {{name: "hard", typ: tar.TypeLink, link: "ok.txt"}},
		"fifo":          {{name: "pipe", typ: tar.TypeFifo}},
		"too big":       {{name: "big", typ: tar.TypeReg, body: strings.Repeat("z", 2000)}},
	}
	for name, ents := range cases {
		archives := []string{writeTarGz(t, ents)}
		if name != "hard link" && name != "fifo" {
			archives = append(archives, writeZip(t, ents))
		}
		for _, archive := range archives {
			parent := t.TempDir()
			dest := filepath.Join(parent, "out")
			err := UnpackQuiet(archive, dest, Limits{MaxFileSize: 1000})
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Errorf("%s (%s): err = %v, want ErrUnsafeArchive", name, filepath.Ext(archive), err)
			}
			if err != nil && !strings.Contains(err.Error(), archive) {
				t.Errorf("%s: error does not name the archive: %v", name, err)
			}
			if left := entries(t, parent); len(left) != 0 {
				t.Errorf("%s: left behind %v", name, left)
			}
			if _, err := os.Lstat(filepath.Join(filepath.Dir(parent), "evil.txt")); err == nil {
				t.Errorf("%s: wrote outside the target", name)
			}
		}
	}
}

func TestUnpackEnforcesTotalAndCountLimits(t *testing.T) {
	entries := []tarEntry{
		{name: "a", typ: tar.TypeReg, body: strings.Repeat("a", 600)},
		{name: "b", typ: tar.TypeReg, body: strings.Repeat("b", 600)},
	}
	archive := writeTarGz(t, entries)
	if err := UnpackQuiet(archive, filepath.Join(t.TempDir(), "o"),
		Limits{MaxTotalSize: 1000}); !errors.Is(err, ErrUnsafeArchive) {
		t.Errorf("total limit: %v", err)
	}
	if err := UnpackQuiet(archive, filepath.Join(t.TempDir(), "o"),
		Limits{MaxFiles: 1}); !errors.Is(err, ErrUnsafeArchive) {
		t.Errorf("count limit: %v", err)
	}
}

func TestUnpackRefusesOtherFilesAndExistingTarget(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.tar.gz")
	_ = os.WriteFile(plain, []byte("just text, no archive"), 0o644)
	err := UnpackQuiet(plain, filepath.Join(dir, "out"), Limits{})
	if err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("plain file: %v", err)
	}

	truncated := writeTarGz(t, []tarEntry{{name: "a", typ: tar.TypeReg, body: strings.Repeat("q", 9000)}})
	b, _ := os.ReadFile(truncated)
	_ = os.WriteFile(truncated, b[:len(b)/2], 0o644)
	if err := UnpackQuiet(truncated, filepath.Join(dir, "out"), Limits{}); err == nil {
		t.Error("truncated archive accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("truncated archive left a folder")
	}

	good := writeTarGz(t, []tarEntry{{name: "a", typ: tar.TypeReg, body: "a"}})
	_ = os.Mkdir(filepath.Join(dir, "taken"), 0o755)
	if err := UnpackQuiet(good, filepath.Join(dir, "taken"), Limits{}); err == nil {
		t.Error("unpacked over an existing folder")
	}
}
