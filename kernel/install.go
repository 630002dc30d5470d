package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dlexp/dlexp/kernel/modproxy"
)

// installOptions are the flags of `kernel install`.
type installOptions struct {
	src      string // checkout root, found when empty
	parallel int    // go build -p
	warm     bool   // compile the zoo into the build cache
	xla      xlaOptions
}

// install puts every piece of the kernel in place, skipping those already there, and says
// one line per step.
func install(w io.Writer, opt installOptions) error {
	checkout, err := findCheckout(opt.src)
	if err != nil {
		return err
	}
	l, err := newLayout()
	if err != nil {
		return err
	}
	goenv, err := goEnv("GOPROXY", "GONOSUMDB", "GOMODCACHE", "GOROOT", "GOVERSION", "GOCACHE")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "home: %s (checkout %s, %s)\n", tilde(l.Home), tilde(checkout),
		goenv["GOVERSION"])
	if err := os.MkdirAll(l.Bin, 0o755); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}

	tools, err := kernelTools(checkout)
	if err != nil {
		return err
	}
	for _, t := range tools {
		bin := filepath.Join(l.Bin, t.Name)
		if got := t.installedVersion(bin); got == t.Version {
			fmt.Fprintf(w, "%s %s: already installed, skipped\n", t.Name, t.Version)
			continue
		}
		start := time.Now()
		if err := t.install(l.Bin, opt.parallel); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s %s: built into %s in %s\n", t.Name, t.Version, tilde(bin), since(start))
	}

	if v := echartsVersion(l); v != "" {
		fmt.Fprintf(w, "echarts %s: already installed, skipped\n", v)
	} else {
		start := time.Now()
		err := installECharts(l)
		switch {
		case errors.Is(err, errNoNPM):
			fmt.Fprintf(w, "echarts: npm not found, skipped; charts will not draw offline\n")
		case err != nil:
			return err
		default:
			fmt.Fprintf(w, "echarts %s: installed into %s in %s\n", echartsVersion(l),
				tilde(l.NPM), since(start))
		}
	}

	xlaCPU(w, opt.xla)

	start := time.Now()
	snap, err := modproxy.Write(l.Proxy, checkout, start)
	if err != nil {
		return err
	}
	if snap.Written {
		fmt.Fprintf(w, "zoo snapshot %s@%s: written (%d files) in %s\n", snap.Path, snap.Version,
			snap.Files, since(start))
	} else {
		fmt.Fprintf(w, "zoo snapshot %s@%s: unchanged, skipped\n", snap.Path, snap.Version)
	}

	env := kernelEnv(l, goenv)
	wrote, err := writeKernelSpec(l.KernelDir, newKernelSpec(l, env))
	if err != nil {
		return err
	}
	if wrote {
		fmt.Fprintf(w, "kernelspec %s (%s): written to %s\n", kernelName, kernelDisplayName,
			tilde(l.KernelDir))
	} else {
		fmt.Fprintf(w, "kernelspec %s (%s): up to date, skipped\n", kernelName, kernelDisplayName)
	}

	if !opt.warm {
		fmt.Fprintf(w, "build cache: warm-up not asked for, skipped\n")
		return nil
	}
	return warm(w, checkout, l, snap.Version, env, goenv, opt.parallel)
}

// warm compiles the zoo into the build cache unless the stamp says that was done for the
// same snapshot, packages and go.
func warm(w io.Writer, checkout string, l layout, version string, env, goenv map[string]string,
	parallel int) error {

	pkgs, err := importablePackages(checkout)
	if err != nil {
		return err
	}
	if len(pkgs) == 0 {
		fmt.Fprintf(w, "build cache: the module has no importable package yet, skipped\n")
		return nil
	}
	stamp := warmStamp(version, pkgs, goenv)
	if old, err := os.ReadFile(l.WarmStamp); err == nil && string(old) == stamp {
		fmt.Fprintf(w, "build cache: already warm for %d packages, skipped\n", len(pkgs))
		return nil
	}
	start := time.Now()
	if err := warmBuildCache(pkgs, env, parallel); err != nil {
		_ = os.Remove(l.WarmStamp)
		return err
	}
	if err := os.WriteFile(l.WarmStamp, []byte(stamp), 0o644); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	fmt.Fprintf(w, "build cache: compiled %d packages as a notebook would, in %s\n", len(pkgs),
		since(start))
	return nil
}

// since returns the time elapsed since start, rounded for messages.
func since(start time.Time) time.Duration {
	d := time.Since(start)
	if d > 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
