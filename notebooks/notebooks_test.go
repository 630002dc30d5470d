// Package notebooks holds the experiment notebooks. Its tests execute them headless through
// the installed "Go (dlexp)" kernel and read every output for errors: a Go kernel answers
// "ok" for a cell whose program panicked, so the exit status of the run proves nothing.
//
//	go test ./notebooks                                  # the default set
//	go test ./notebooks -args -notebooks=all             # every notebook in the folder
//	go test ./notebooks -args -notebooks=a.ipynb,b.ipynb
package notebooks

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlexp/dlexp/kernel/notebook"
)

var notebooksFlag = flag.String("notebooks", "smoke.ipynb,denoiser.ipynb",
	`comma-separated notebooks to execute, or "all"`)

// expectations lists what a notebook must show besides having no error.
var expectations = map[string]expect{
	"denoiser.ipynb": {gif: true, chart: true},
}

func TestNotebooksRunWithoutErrors(t *testing.T) {
	names := strings.Split(*notebooksFlag, ",")
	if *notebooksFlag == "all" {
		all, err := filepath.Glob("*.ipynb")
		if err != nil {
			t.Fatal(err)
		}
		names = all
	}
	requireKernel(t)
	for _, name := range names {
		name = strings.TrimSpace(name)
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			if _, err := os.Stat(name); os.IsNotExist(err) {
				t.Skipf("%s does not exist yet", name)
			}
			want := expectations[name]
			if want.size != "" && os.Getenv("DLEXP_SIZE") == "" {
				t.Setenv("DLEXP_SIZE", want.size)
			}
			check(t, execute(t, name), want)
		})
	}
}

func TestNewNotebookImportsTheWholeZoo(t *testing.T) {
	requireKernel(t)
	pkgs, unused := zooPackages(t, "./mlx/...", "./datasets/...")
	if len(pkgs) == 0 {
		t.Skip("no package under mlx/ or datasets/ yet")
	}
	for _, p := range unused {
		t.Logf("%s has no exported name to use and is not imported directly", p)
	}

	cell := importCell(pkgs)
	data, err := notebook.New(kernelName, "Go (dlexp)", cell)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "zoo.ipynb")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	nb := execute(t, path)
	check(t, nb, expect{})
	want := "imported " + strconv.Itoa(len(pkgs)) + " packages of the zoo"
	if !strings.Contains(streamText(nb), want) {
		t.Errorf("the cell did not print %q; cell was:\n%s\noutputs: %s", want, cell,
			streamText(nb))
	}
}

func streamText(nb *notebook.Notebook) string {
	var b strings.Builder
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "stream" {
				b.WriteString(string(o.Text))
			}
		}
	}
	return b.String()
}
