package notebook

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomicLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	for _, content := range []string{"first", "second"} {
		if err := WriteFileAtomic(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only a.txt: %v", len(entries), entries)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "b.txt"), []byte("x")); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

func TestOutPathUsesDLEXPOUTAndKeepsAbsolutePaths(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvOut, filepath.Join(dir, "results"))
	p, err := OutPath("sub/x.png")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "results", "sub", "x.png"); p != want {
		t.Errorf("OutPath = %q, want %q", p, want)
	}
	if st, err := os.Stat(filepath.Dir(p)); err != nil || !st.IsDir() {
		t.Errorf("parent folder not created: %v", err)
	}
	abs := filepath.Join(dir, "abs.png")
	if p, _ := OutPath(abs); p != abs {
		t.Errorf("OutPath(%q) = %q, want it unchanged", abs, p)
	}
	if _, err := OutPath(""); err == nil {
		t.Error("empty name accepted")
	}
}

func TestOnceIsKernelWideThroughTheSessionFolder(t *testing.T) {
	session := t.TempDir()
	_, stop := Capture(session)
	defer stop()
	if !Once("lib") {
		t.Fatal("first Once returned false")
	}
	if Once("lib") {
		t.Fatal("second Once returned true")
	}
	if _, err := os.Stat(filepath.Join(session, ".dlexp-once-lib")); err != nil {
		t.Errorf("no marker file in the session folder: %v", err)
	}
	// A new process of the same kernel sees the marker: simulate with a fresh capture.
	_, stop2 := Capture(session)
	if Once("lib") {
		t.Error("Once returned true again in the same session")
	}
	stop2()
	ForgetOnce("lib")
	if !Once("lib") {
		t.Error("Once after ForgetOnce returned false")
	}
}

func TestOnceWithoutSessionFolderIsPerCapture(t *testing.T) {
	_, stop := Capture("")
	if !Once("k") || Once("k") {
		t.Error("Once without a session folder is not once")
	}
	stop()
	_, stop = Capture("")
	defer stop()
	if !Once("k") {
		t.Error("a new capture should start with nothing sent")
	}
}

func TestRecorderFinalKeepsEachBlockWithItsLastContent(t *testing.T) {
	rec, stop := Capture("")
	defer stop()
	if !Active() {
		t.Fatal("not active while capturing")
	}
	DisplayHTML("lib")
	UpdateHTML("b", "one")
	UpdateHTML("b", "two")
	DisplayPNG([]byte{1})
	UpdateHTML("b", "three")
	Sync()
	final := rec.Final()
	if len(final) != 3 || final[0].HTML != "lib" || final[1].HTML != "three" ||
		final[2].Kind != KindPNG {
		t.Errorf("Final() = %+v", final)
	}
	if len(rec.Items()) != 5 || rec.Syncs() != 1 {
		t.Errorf("recorded %d items and %d syncs, want 5 and 1", len(rec.Items()), rec.Syncs())
	}
}

func TestNewIDIsUniqueAndPrefixed(t *testing.T) {
	a, b := NewID("x-"), NewID("x-")
	if a == b || a[:2] != "x-" || len(a) != 18 {
		t.Errorf("NewID gave %q and %q", a, b)
	}
}
