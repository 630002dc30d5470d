package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/go-xla/pkg/installer"

	"github.com/dlexp/dlexp/mlx/backend/plugins"
)

// defaultXLATimeout bounds the fetch of the XLA CPU plugin: the version look-up, the download
// (tens of MB) and the unpacking together.
const defaultXLATimeout = 10 * time.Minute

// xlaOptions are the flags of `kernel install` about the XLA CPU PJRT plugin, and what tests
// replace.
type xlaOptions struct {
	// Flags.
	fetch bool   // -xla-cpu: fetch the plugin with go-xla's installer when none is found
	dir   string // -xla-dir: the folder to install into; go-xla's default when ""

	// Test seams; the zero values mean the real machine and go-xla's installer.
	timeout time.Duration // bound on the fetch, defaultXLATimeout when 0
	folders []string      // where an installed plugin is looked for, xlaSearchFolders() when nil
	fetcher xlaFetcher    // goXLAFetch when nil
}

// xlaFetcher installs the XLA CPU PJRT plugin into dir, giving up when ctx is done.
type xlaFetcher func(ctx context.Context, dir string) error

// xlaCPU says in one line whether the XLA CPU plugin is installed and, when asked to and it is
// not, fetches it with go-xla's installer. It never fails the install: without the plugin,
// notebooks run on the pure-Go "cpu" backend.
func xlaCPU(w io.Writer, opt xlaOptions) {
	folders := opt.folders
	if folders == nil {
		folders = xlaSearchFolders()
	}
	dir := opt.dir
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	look := folders
	if dir != "" {
		look = append([]string{dir}, folders...)
	}
	if f, ok := plugins.FindCPU("", look); ok {
		fmt.Fprintf(w, "xla cpu plugin: found at %s\n", tilde(f))
		return
	}
	if !opt.fetch {
		fmt.Fprintf(w, "xla cpu plugin: not installed; notebooks use the cpu backend "+
			"(go run ./kernel install -xla-cpu fetches it, needs network)\n")
		return
	}

	if dir == "" {
		lib, err := installer.DefaultHomeLibPath()
		if err != nil {
			fmt.Fprintf(w, "xla cpu plugin: cannot be fetched (no install folder: %s); "+
				"notebooks keep the cpu backend\n", firstLine(err))
			return
		}
		dir = filepath.Join(lib, "go-xla")
	}
	timeout := opt.timeout
	if timeout <= 0 {
		timeout = defaultXLATimeout
	}
	fetcher := opt.fetcher
	if fetcher == nil {
		fetcher = goXLAFetch
	}

	start := time.Now()
	if err := fetchWithin(fetcher, dir, timeout); err != nil {
		fmt.Fprintf(w, "xla cpu plugin: cannot be fetched (%s); notebooks keep the cpu backend\n",
			fetchCause(err, timeout))
		return
	}
	f, ok := plugins.FindCPU("", []string{dir})
	if !ok {
		fmt.Fprintf(w, "xla cpu plugin: cannot be fetched (the installer left no plugin in %s); "+
			"notebooks keep the cpu backend\n", tilde(dir))
		return
	}
	hint := ""
	if !slices.Contains(folders, filepath.Clean(dir)) {
		hint = fmt.Sprintf("; notebooks find it with PJRT_PLUGIN_LIBRARY_PATH=%s", dir)
	}
	fmt.Fprintf(w, "xla cpu plugin: installed at %s in %s%s\n", tilde(f), since(start), hint)
}

// fetchWithin runs fetch and waits for it at most timeout. A fetch still running then is left
// to stop on its own (goXLAFetch bounds its requests by the same deadline).
func fetchWithin(fetch xlaFetcher, dir string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fetch(ctx, dir) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errNoCPUPlugin says go-xla publishes no CPU plugin for this platform.
var errNoCPUPlugin = errors.New("none published for " + runtime.GOOS + "/" + runtime.GOARCH)

// goXLAFetch installs go-xla's default CPU plugin version into dir with go-xla's installer,
// downloads cached in go-xla's cache folder. The installer's requests go through
// http.DefaultClient, so its timeout is set to ctx's deadline for the call.
func goXLAFetch(ctx context.Context, dir string) error {
	if !slices.Contains(installer.CPUSupportedPlatforms, runtime.GOOS+"_"+runtime.GOARCH) {
		return errNoCPUPlugin
	}
	if deadline, ok := ctx.Deadline(); ok {
		old := http.DefaultClient.Timeout
		http.DefaultClient.Timeout = time.Until(deadline)
		defer func() { http.DefaultClient.Timeout = old }()
	}
	if err := installer.CPUAutoInstall(dir, true, installer.Quiet); err != nil {
		return fmt.Errorf("kernel: xla cpu plugin: %w", err)
	}
	return nil
}

// fetchCause says in a few words why a fetch failed: the network error when there is one,
// else the first line of the error.
func fetchCause(err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s", timeout)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("no network: lookup %s: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &opErr):
		return fmt.Sprintf("no network: %s: %s", opErr.Op, firstLine(innermost(opErr)))
	case errors.As(err, &netErr) && netErr.Timeout():
		return "no network: timed out"
	}
	return firstLine(err)
}

// innermost returns the last error of err's chain of single wrappers.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// firstLine returns the first line of err's message, cut to fit a line of output.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	if r := []rune(msg); len(r) > 160 {
		msg = string(r[:157]) + "..."
	}
	return msg
}

// xlaSearchFolders lists, in order, the folders where the zoo's backend choice looks for the
// XLA CPU plugin (plugins.CPUFolders of this machine's environment).
func xlaSearchFolders() []string {
	return plugins.CPUFolders(os.Getenv)
}
