package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakePlugin writes a file that starts like an ELF shared object.
func fakePlugin(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("\x7fELF fake plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noFetch fails the test when called: the step must not fetch.
func noFetch(t *testing.T) xlaFetcher {
	return func(context.Context, string) error {
		t.Error("the fetcher was called")
		return nil
	}
}

// oneLine runs xlaCPU and returns its output, failing unless it is exactly one line.
func oneLine(t *testing.T, opt xlaOptions) string {
	t.Helper()
	var out bytes.Buffer
	xlaCPU(&out, opt)
	s := out.String()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Fatalf("want one line, got %q", s)
	}
	return strings.TrimSuffix(s, "\n")
}

func TestXLACPUSaysNotInstalledWithoutFetching(t *testing.T) {
	dir := t.TempDir()
	// A file with a plugin's name that is no shared object does not count.
	if err := os.WriteFile(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := oneLine(t, xlaOptions{folders: []string{dir}, fetcher: noFetch(t)})
	want := "xla cpu plugin: not installed; notebooks use the cpu backend " +
		"(go run ./kernel install -xla-cpu fetches it, needs network)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestXLACPUFoundSkipsTheFetch(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	plugin := filepath.Join(dir, "go-xla", "pjrt_plugin_cpu.so")
	fakePlugin(t, plugin)
	got := oneLine(t, xlaOptions{fetch: true, folders: []string{other, filepath.Dir(plugin)},
		fetcher: noFetch(t)})
	if want := "xla cpu plugin: found at " + tilde(plugin); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A plugin already in the -xla-dir folder counts too.
	got = oneLine(t, xlaOptions{fetch: true, dir: filepath.Dir(plugin), folders: []string{},
		fetcher: noFetch(t)})
	if !strings.HasPrefix(got, "xla cpu plugin: found at ") {
		t.Errorf("got %q", got)
	}
}

func TestXLACPUFetchFailureKeepsTheCPUBackend(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	unresolved := &net.DNSError{Err: "no such host", Name: "plugins.test", IsNotFound: true}
	cases := []struct {
		name  string
		err   error
		cause string
	}{
		{"unresolved host", &url.Error{Op: "Get", URL: "https://plugins.test/x", Err: unresolved},
			"no network: lookup plugins.test: no such host"},
		{"refused connection", fmt.Errorf("kernel: xla cpu plugin: %w",
			&url.Error{Op: "Get", URL: "https://plugins.test/x", Err: refused}),
			"no network: dial: connection refused"},
		{"other error", fmt.Errorf("failed to get version: status 403\nbody: rate limited"),
			"failed to get version: status 403"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "go-xla")
			var asked string
			got := oneLine(t, xlaOptions{fetch: true, dir: dir, folders: []string{},
				fetcher: func(_ context.Context, d string) error {
					asked = d
					return c.err
				}})
			want := "xla cpu plugin: cannot be fetched (" + c.cause +
				"); notebooks keep the cpu backend"
			if got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			if asked != dir {
				t.Errorf("installed into %q, want %q", asked, dir)
			}
		})
	}
}

func TestXLACPUFetchGivesUpAfterTheTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var sawDeadline bool
	got := oneLine(t, xlaOptions{fetch: true, dir: t.TempDir(), folders: []string{},
		timeout: 20 * time.Millisecond,
		fetcher: func(ctx context.Context, _ string) error {
			_, sawDeadline = ctx.Deadline()
			<-release // a fetch that ignores its context
			return nil
		}})
	want := "xla cpu plugin: cannot be fetched (timed out after 20ms); " +
		"notebooks keep the cpu backend"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !sawDeadline {
		t.Error("the fetcher's context has no deadline")
	}
}

func TestXLACPUFetchSuccessNamesThePlugin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "go-xla")
	fetcher := func(_ context.Context, d string) error {
		// go-xla's layout: a versioned file and a link to it under the plain name.
		fakePlugin(t, filepath.Join(d, "pjrt_c_api_cpu_v0.0.1_plugin.so"))
		return os.Symlink("pjrt_c_api_cpu_v0.0.1_plugin.so",
			filepath.Join(d, "pjrt_c_api_cpu_plugin.so"))
	}
	plugin := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")

	// Into a folder the backend choice searches: no hint.
	got := oneLine(t, xlaOptions{fetch: true, dir: dir, folders: []string{dir},
		fetcher: fetcher})
	if !strings.HasPrefix(got, "xla cpu plugin: installed at "+tilde(plugin)+" in ") ||
		strings.Contains(got, "PJRT_PLUGIN_LIBRARY_PATH") {
		t.Errorf("got %q", got)
	}

	// Elsewhere: says how notebooks find it.
	dir = filepath.Join(t.TempDir(), "elsewhere")
	got = oneLine(t, xlaOptions{fetch: true, dir: dir, folders: []string{}, fetcher: fetcher})
	if !strings.HasSuffix(got, "; notebooks find it with PJRT_PLUGIN_LIBRARY_PATH="+dir) {
		t.Errorf("got %q", got)
	}
}

func TestXLACPUFetchThatLeavesNoPluginFails(t *testing.T) {
	dir := t.TempDir()
	got := oneLine(t, xlaOptions{fetch: true, dir: dir, folders: []string{},
		fetcher: func(context.Context, string) error { return nil }})
	want := "xla cpu plugin: cannot be fetched (the installer left no plugin in " + tilde(dir) +
		"); notebooks keep the cpu backend"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestXLASearchFoldersFollowTheBackendOrder(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", "/p1:relative:/p2/")
	t.Setenv("LD_LIBRARY_PATH", "/l1:/p1")
	want := []string{
		"/p1", "/p2",
		"/home/u/.local/lib/go-xla", "/home/u/.local/lib/go-xla/nvidia",
		"/home/u/.local/lib/gomlx/pjrt", "/home/u/.local/lib/gomlx/pjrt/nvidia",
		"/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia",
		"/usr/local/lib/gomlx/pjrt", "/usr/local/lib/gomlx/pjrt/nvidia",
		"/l1",
	}
	got := xlaSearchFolders()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}
