package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dlexp/dlexp/kernel/notebook"
)

// kernelName is the kernelspec the notebooks run on.
const kernelName = "dlexp"

// result is what one run gave.
type result struct {
	Notebook, Dataset string
	// Dir is the run's folder relative to the output folder: <notebook>/<dataset>.
	Dir  string
	Wall time.Duration

	// Err is set when the notebook could not be executed at all; problems lists the failed
	// cells of an executed one.
	Err      error
	problems []string

	// Files are the files of the run's folder worth linking, relative to Dir.
	Executed, HTML string
	Pictures       []string // GIFs and PNGs
	Pages          []string // other HTML files (interactive charts)
	MetricsFile    string
	Metrics        map[string]any
}

// ok reports whether the run executed without a failed cell.
func (r result) ok() bool { return r.Err == nil && len(r.problems) == 0 }

// summaryLine says in one line how the run went and its headline numbers.
func (r result) summaryLine() string {
	wall := r.Wall.Round(time.Second)
	switch {
	case r.Err != nil:
		return fmt.Sprintf("FAILED after %s: %v", wall, r.Err)
	case len(r.problems) > 0:
		return fmt.Sprintf("FAILED after %s: %d problems in the outputs", wall, len(r.problems))
	}
	if h := headline(r.Metrics); h != "" {
		return fmt.Sprintf("ok in %s: %s", wall, h)
	}
	return fmt.Sprintf("ok in %s", wall)
}

// execute runs one notebook on one dataset into out/<notebook>/<dataset>/, exports it as
// HTML and collects what it wrote.
func execute(ctx context.Context, o options, r runSpec) (res result) {
	res = result{Notebook: r.notebook, Dataset: r.dataset,
		Dir: filepath.Join(r.notebook, r.dataset)}
	dir := filepath.Join(o.out, res.Dir)
	start := time.Now()
	defer func() { res.Wall = time.Since(start) }()

	if !o.resume {
		if err := os.RemoveAll(dir); err != nil {
			res.Err = fmt.Errorf("reproduce: clearing %s: %w", dir, err)
			return res
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.Err = fmt.Errorf("reproduce: %w", err)
		return res
	}
	src := filepath.Join(o.dir, r.notebook+".ipynb")
	if _, err := os.Stat(src); err != nil {
		res.Err = fmt.Errorf("reproduce: %w", err)
		return res
	}

	runCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	name := r.notebook + ".ipynb"
	env := []string{"DLEXP_OUT=" + o.out, "DLEXP_SIZE=" + o.size, "DLEXP_DATASET=" + r.dataset,
		"PYDEVD_DISABLE_FILE_VALIDATION=1"}
	err := jupyter(runCtx, o.python, env, "nbconvert", "--to", "notebook", "--execute",
		"--allow-errors", "--ExecutePreprocessor.kernel_name="+kernelName,
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(o.timeout.Seconds())),
		"--output-dir", dir, "--output", name, src)
	if err != nil {
		if errors.Is(runCtx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("did not finish within %s: %w", o.timeout, err)
		}
		res.Err = err
		return res
	}
	res.Executed = name
	nb, err := notebook.Read(filepath.Join(dir, name))
	if err != nil {
		res.Err = err
		return res
	}
	for _, p := range nb.Problems() {
		res.problems = append(res.problems, p.String())
	}

	if err := jupyter(ctx, o.python, env, "nbconvert", "--to", "html", "--output-dir", dir,
		filepath.Join(dir, name)); err != nil {
		res.problems = append(res.problems, "HTML export: "+err.Error())
	} else {
		res.HTML = r.notebook + ".html"
	}
	collect(&res, dir)
	return res
}

// jupyter runs `python -m jupyter args...` with env added, returning its output's end on
// failure.
func jupyter(ctx context.Context, python string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, python, append([]string{"-m", "jupyter"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("jupyter %s: %w\n%s", args[0], err, tail(out.String(), 2000))
	}
	return nil
}

// collect lists the pictures, pages and metrics a run left in dir (checkpoints aside).
func collect(res *result, dir string) {
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), "checkpoints") {
				return filepath.SkipDir
			}
			return nil
		}
		switch ext := strings.ToLower(filepath.Ext(rel)); {
		case rel == "metrics.json":
			res.MetricsFile = rel
		case ext == ".gif" || ext == ".png":
			res.Pictures = append(res.Pictures, rel)
		case ext == ".html" && rel != res.HTML:
			res.Pages = append(res.Pages, rel)
		}
		return nil
	})
	// GIFs first: they are the per-epoch animations.
	slices.SortStableFunc(res.Pictures, func(a, b string) int {
		return boolRank(!strings.HasSuffix(a, ".gif")) - boolRank(!strings.HasSuffix(b, ".gif"))
	})
	if res.MetricsFile != "" {
		data, err := os.ReadFile(filepath.Join(dir, res.MetricsFile))
		if err == nil {
			err = json.Unmarshal(data, &res.Metrics)
		}
		if err != nil {
			res.problems = append(res.problems, "metrics.json: "+err.Error())
		}
	}
}

// boolRank is 1 for true, 0 for false.
func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tail returns the end of a long text.
func tail(s string, keep int) string {
	if len(s) <= keep {
		return s
	}
	return "..." + s[len(s)-keep:]
}
