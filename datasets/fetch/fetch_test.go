package fetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// server serves content at /good, wrong bytes at /bad, and counts requests.
func server(t *testing.T, content []byte) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(content)
	})
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(append([]byte("x"), content...))
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(content[:len(content)/2])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

// entries lists every name under dir, relative to it.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	return names
}

func TestDirFollowsEnvironment(t *testing.T) {
	want := t.TempDir()
	t.Setenv(EnvDataDir, want)
	got, err := Dir()
	if err != nil || got != want {
		t.Fatalf("Dir() = %q, %v; want %q", got, err, want)
	}
	t.Setenv(EnvDataDir, "")
	t.Setenv("XDG_CACHE_HOME", "/somewhere/cache")
	got, err = Dir()
	if err != nil || got != filepath.Join("/somewhere/cache", "dlexp") {
		t.Fatalf("Dir() without %s = %q, %v", EnvDataDir, got, err)
	}
}

func TestFetchDownloadsOnceThenUsesCache(t *testing.T) {
	content := bytes.Repeat([]byte("mnist"), 1000)
	srv, hits := server(t, content)
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	file := File{Name: "set/a.bin", SHA256: sha(content), Sources: []Source{URL(srv.URL + "/good")}}

	for range 2 {
		p, err := fr.Fetch(context.Background(), file)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, content) || p != filepath.Join(fr.Dir, "set", "a.bin") {
			t.Fatalf("fetched %s with %d bytes", p, len(got))
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("server asked %d times, want 1", hits.Load())
	}
}

func TestFetchRefusesWrongChecksumAndLeavesNothing(t *testing.T) {
	content := []byte("the real bytes")
	srv, _ := server(t, content)
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	file := File{Name: "set/a.bin", SHA256: sha(content), Sources: []Source{URL(srv.URL + "/bad")}}

	_, err := fr.Fetch(context.Background(), file)
	var me *MissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("err = %v, want a MissingError naming the checksum mismatch", err)
	}
	for _, e := range entries(t, fr.Dir) {
		if e != "set" {
			t.Errorf("left in cache: %s", e)
		}
	}
}

func TestFetchRefusesTruncatedDownload(t *testing.T) {
	content := bytes.Repeat([]byte{7}, 5000)
	srv, _ := server(t, content)
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	file := File{Name: "a.bin", SHA256: sha(content), Sources: []Source{URL(srv.URL + "/short")}}

	_, err := fr.Fetch(context.Background(), file)
	if err == nil {
		t.Fatal("truncated download accepted")
	}
	if left := entries(t, fr.Dir); len(left) != 0 {
		t.Fatalf("left in cache: %v", left)
	}
}

func TestFetchFallsBackToNextSource(t *testing.T) {
	content := []byte("local copy")
	srv, _ := server(t, content)
	local := filepath.Join(t.TempDir(), "a.bin")
	if err := os.WriteFile(local, content, 0o644); err != nil {
		t.Fatal(err)
	}
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	file := File{Name: "a.bin", SHA256: sha(content), Sources: []Source{
		URL(srv.URL + "/missing"),
		LocalFile(filepath.Join(t.TempDir(), "nothing-here")),
		LocalFile(local),
	}}
	p, err := fr.Fetch(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, content) {
		t.Fatalf("cached %q", got)
	}
}

func TestFetchMissingErrorSaysWhereToPutTheFile(t *testing.T) {
	srv, _ := server(t, []byte("x"))
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	sum := sha([]byte("never served"))
	file := File{Name: "mnist/t10k.gz", SHA256: sum, Sources: []Source{URL(srv.URL + "/missing")}}

	_, err := fr.Fetch(context.Background(), file)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	want := filepath.Join(fr.Dir, "mnist", "t10k.gz")
	for _, part := range []string{"fetch: ", "t10k.gz", want, sum, "404", "by hand"} {
		if !strings.Contains(msg, part) {
			t.Errorf("message %q lacks %q", msg, part)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message spans lines: %q", msg)
	}
}

func TestFetchReplacesCorruptCachedFile(t *testing.T) {
	content := []byte("good")
	srv, hits := server(t, content)
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	file := File{Name: "a.bin", SHA256: sha(content), Sources: []Source{URL(srv.URL + "/good")}}
	if err := os.WriteFile(filepath.Join(fr.Dir, "a.bin"), []byte("rotten"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := fr.Fetch(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, content) || hits.Load() != 1 {
		t.Fatalf("cache holds %q after %d requests", got, hits.Load())
	}
}

func TestFetchChecksPublisherMD5(t *testing.T) {
	content := []byte("cifar")
	sum := md5.Sum(content)
	srv, _ := server(t, content)
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	good := File{Name: "a", MD5: hex.EncodeToString(sum[:]), Sources: []Source{URL(srv.URL + "/good")}}
	if _, err := fr.Fetch(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Name = "b"
	bad.Sources = []Source{URL(srv.URL + "/bad")}
	if _, err := fr.Fetch(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "md5") {
		t.Fatalf("wrong md5 accepted or not named: %v", err)
	}
}

func TestFetchRefusesFilesOverTheSizeLimit(t *testing.T) {
	content := bytes.Repeat([]byte{1}, 4096)
	srv, _ := server(t, content)
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true, MaxSize: 1000}
	file := File{Name: "a", SHA256: sha(content), Sources: []Source{URL(srv.URL + "/good")}}
	if _, err := fr.Fetch(context.Background(), file); err == nil ||
		!strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversize file: %v", err)
	}
	if left := entries(t, fr.Dir); len(left) != 0 {
		t.Fatalf("left in cache: %v", left)
	}
}

func TestFetchRejectsBadFileDescriptions(t *testing.T) {
	fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
	for _, f := range []File{
		{Name: "../escape", SHA256: sha(nil)},
		{Name: "/abs", SHA256: sha(nil)},
		{Name: "no-sum"},
		{Name: "short-sum", SHA256: "abcd"},
	} {
		if _, err := fr.Fetch(context.Background(), f); err == nil {
			t.Errorf("accepted %+v", f)
		}
	}
}

func TestLazySourceLocatesOnce(t *testing.T) {
	content := []byte("from a module")
	local := filepath.Join(t.TempDir(), "a.bin")
	if err := os.WriteFile(local, content, 0o644); err != nil {
		t.Fatal(err)
	}
	calls := 0
	src := Lazy("module", func(context.Context) (string, error) { calls++; return local, nil })
	for _, name := range []string{"x", "y"} {
		fr := &Fetcher{Dir: t.TempDir(), Quiet: true}
		if _, err := fr.Fetch(context.Background(), File{Name: name, SHA256: sha(content),
			Sources: []Source{src}}); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Fatalf("locate called %d times", calls)
	}
}

func TestWriteAtomicKeepsOldFileOnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "f.txt")
	if err := WriteAtomic(p, func(w io.Writer) error { _, err := w.Write([]byte("v1")); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteAtomic(p, func(w io.Writer) error { _, _ = w.Write([]byte("half")); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "v1" {
		t.Fatalf("file holds %q", got)
	}
	if left := entries(t, filepath.Dir(p)); len(left) != 1 {
		t.Fatalf("folder holds %v", left)
	}
}

func TestProgressIsThrottled(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, "fetch: x", 1000)
	p.Interval = time.Hour
	for range 100 {
		p.Add(10)
	}
	p.Finish()
	if buf.Len() != 0 {
		t.Fatalf("quick work printed %q", buf.String())
	}

	buf.Reset()
	p = NewProgress(&buf, "fetch: x", 1000)
	p.Interval = time.Millisecond
	time.Sleep(2 * time.Millisecond)
	p.Add(500)
	p.Finish()
	out := buf.String()
	if !strings.Contains(out, "fetch: x 500 B of 1000 B (50%)") || !strings.Contains(out, "done in") {
		t.Fatalf("progress printed %q", out)
	}
}

func TestCounterCountsItems(t *testing.T) {
	var buf bytes.Buffer
	p := NewCounter(&buf, "cityscapes: frames", 40)
	p.Interval = time.Millisecond
	time.Sleep(2 * time.Millisecond)
	p.Add(10)
	if !strings.HasPrefix(buf.String(), "cityscapes: frames 10 of 40 (25%), ") {
		t.Fatalf("counter printed %q", buf.String())
	}
}

func TestProgressOutputFollowsEnvironment(t *testing.T) {
	t.Setenv(EnvProgress, "1")
	if ProgressOutput() != os.Stderr {
		t.Error("DLEXP_PROGRESS=1 does not select stderr")
	}
	t.Setenv(EnvProgress, "0")
	if ProgressOutput() != nil {
		t.Error("DLEXP_PROGRESS=0 does not silence progress")
	}
}
