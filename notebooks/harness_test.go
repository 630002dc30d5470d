package notebooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlexp/dlexp/kernel/modproxy"
	"github.com/dlexp/dlexp/kernel/notebook"
)

// kernelName is the kernelspec the notebooks run on.
const kernelName = "dlexp"

var (
	notebookTimeout = flag.Duration("notebook-timeout", 15*time.Minute,
		"longest time one notebook may take to execute")
	cellTimeout = flag.Duration("cell-timeout", 10*time.Minute,
		"longest time one cell may take to execute")
)

// python returns the Python that runs Jupyter: DLEXP_PYTHON, else the system one.
func python() string {
	if p := os.Getenv("DLEXP_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// installedKernel is the kernelspec as `jupyter kernelspec list` reports it.
type installedKernel struct {
	ResourceDir string `json:"resource_dir"`
	Spec        struct {
		Env map[string]string `json:"env"`
	} `json:"spec"`
}

// requireKernel skips the test when the kernelspec is not installed, and logs which snapshot
// of the zoo the kernel serves.
func requireKernel(t *testing.T) {
	t.Helper()
	cmd := exec.Command(python(), "-m", "jupyter", "kernelspec", "list", "--json")
	cmd.Env = jupyterEnv(nil)
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("kernelspec %s not installed: `%s -m jupyter kernelspec list` fails (%v); "+
			"run `make install`", kernelName, python(), err)
	}
	var list struct {
		Kernelspecs map[string]installedKernel `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("reading the kernelspec list: %v", err)
	}
	k, ok := list.Kernelspecs[kernelName]
	if !ok {
		t.Skipf("kernelspec %s not installed: run `make install`", kernelName)
	}
	logSnapshot(t, k)
}

// logSnapshot says whether the zoo snapshot the kernel serves matches the checkout: a stale
// one means notebooks run older code than the files here.
func logSnapshot(t *testing.T, k installedKernel) {
	t.Helper()
	first, _, _ := strings.Cut(k.Spec.Env["GOPROXY"], ",")
	dir, ok := strings.CutPrefix(first, "file://")
	if !ok {
		return
	}
	v, current, err := modproxy.UpToDate(filepath.FromSlash(dir), moduleRoot(t))
	switch {
	case err != nil:
		t.Logf("cannot compare the zoo snapshot with the checkout: %v", err)
	case v == "":
		t.Logf("the kernel serves no zoo snapshot yet: run `make install`")
	case !current:
		t.Logf("the kernel serves zoo snapshot %s, older than the checkout: "+
			"run `make install` to test the current code", v)
	}
}

// moduleRoot returns the folder of the module's go.mod (the tests run in notebooks/).
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// jupyterEnv returns the environment for Jupyter commands: the test's, quiet, with extra.
func jupyterEnv(extra map[string]string) []string {
	env := append(os.Environ(), "PYDEVD_DISABLE_FILE_VALIDATION=1")
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// expect says which outputs a notebook must show besides having no error.
type expect struct {
	gif   bool // an inline GIF
	chart bool // an ECharts chart

	// size is the DLEXP_SIZE to run with when the environment sets none ("quick" if empty).
	size string
}

// execute runs the notebook at path through the kernel, headless, and returns the executed
// notebook. Cells after a failing one still run, so that the executed notebook is written
// and check can report every failure with the kernel's own report. Outputs the notebook
// writes go to a temporary folder (DLEXP_OUT); the size knob DLEXP_SIZE is passed on as set,
// "quick" by default.
func execute(t *testing.T, path string) *notebook.Notebook {
	t.Helper()
	timeout := *notebookTimeout
	if d, ok := t.Deadline(); ok {
		timeout = min(timeout, time.Until(d)-30*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	outDir := t.TempDir()
	name := filepath.Base(path)
	env := map[string]string{"DLEXP_OUT": filepath.Join(outDir, "out")}
	if os.Getenv("DLEXP_SIZE") == "" {
		env["DLEXP_SIZE"] = "quick"
	}
	cmd := exec.CommandContext(ctx, python(), "-m", "jupyter", "nbconvert",
		"--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.kernel_name="+kernelName,
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(cellTimeout.Seconds())),
		"--output-dir", outDir, "--output", name, path)
	cmd.Env = jupyterEnv(env)
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr

	start := time.Now()
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s did not finish within %s\n%s", name, timeout, tail(stderr.String()))
	}
	if err != nil {
		t.Fatalf("executing %s: %v\n%s", name, err, tail(stderr.String()))
	}
	t.Logf("%s executed in %s", name, time.Since(start).Round(100*time.Millisecond))
	nb, err := notebook.Read(filepath.Join(outDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return nb
}

// check fails t for every sign of a failed cell in nb and every expected output missing.
func check(t *testing.T, nb *notebook.Notebook, want expect) {
	t.Helper()
	for _, p := range nb.Problems() {
		if p.Detail != "" {
			t.Errorf("%s\n%s", p, p.Detail)
		} else {
			t.Errorf("%s", p)
		}
	}
	if want.gif && !nb.HasGIF() {
		t.Errorf("no inline GIF: want an image/gif output or an <img> with a GIF data URL")
	}
	if want.chart && !nb.HasChart() {
		t.Errorf("no ECharts chart: want an HTML output calling echarts.init")
	}
}

// tail returns the end of a long command output.
func tail(s string) string {
	const keep = 4000
	if len(s) <= keep {
		return s
	}
	return "..." + s[len(s)-keep:]
}

// zooPackage is an importable package of the zoo and an expression that uses it.
type zooPackage struct {
	path  string
	alias string
	use   string // a statement that uses the package, for a main function
}

// zooPackages lists the packages matched by patterns (relative to the module root) that a
// notebook can import, each with a statement using one of its exported names: GoNB keeps
// only one blank (_) import per cell and drops imports that nothing uses.
func zooPackages(t *testing.T, patterns ...string) (found []zooPackage, unused []string) {
	t.Helper()
	args := append([]string{"list", "-e", "-json=ImportPath,Name,Dir,GoFiles"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath, Name, Dir string
			GoFiles               []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list: %v", err)
		}
		if p.Name == "main" || len(p.GoFiles) == 0 ||
			strings.Contains(p.ImportPath+"/", "/internal/") {
			continue
		}
		alias := "zoo_" + strings.NewReplacer("/", "_", "-", "_", ".", "_").Replace(
			strings.TrimPrefix(p.ImportPath, "github.com/dlexp/dlexp/"))
		use, ok := usage(p.Dir, p.GoFiles, alias)
		if !ok {
			unused = append(unused, p.ImportPath)
			continue
		}
		found = append(found, zooPackage{path: p.ImportPath, alias: alias, use: use})
	}
	return found, unused
}

// usage returns a statement that uses an exported name declared in the package's files:
// a constant, variable or non-generic function as a value, or a non-generic type in a blank
// variable declaration.
func usage(dir string, files []string, alias string) (string, bool) {
	fset := token.NewFileSet()
	var typeUse string
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() && d.Type.TypeParams == nil {
					return fmt.Sprintf("_ = %s.%s", alias, d.Name.Name), true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								return fmt.Sprintf("_ = %s.%s", alias, n.Name), true
							}
						}
					case *ast.TypeSpec:
						if s.Name.IsExported() && s.TypeParams == nil && typeUse == "" {
							typeUse = fmt.Sprintf("var _ %s.%s", alias, s.Name.Name)
						}
					}
				}
			}
		}
	}
	return typeUse, typeUse != ""
}

// importCell returns a cell that imports every one of pkgs and prints how many it imported.
func importCell(pkgs []zooPackage) string {
	var b strings.Builder
	b.WriteString("import (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&b, "\t%s %q\n", p.alias, p.path)
	}
	b.WriteString(")\n\n%%\n")
	for _, p := range pkgs {
		b.WriteString(p.use + "\n")
	}
	fmt.Fprintf(&b, "fmt.Println(\"imported %d packages of the zoo\")\n", len(pkgs))
	return b.String()
}
