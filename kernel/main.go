// Command kernel installs, removes and inspects the "Go (dlexp)" Jupyter kernel: GoNB with
// its helpers (goimports, gopls), ECharts for offline charts, a module proxy that serves a
// snapshot of this checkout so notebooks import the zoo with no set-up, and the kernelspec.
//
// Usage:
//
//	go run ./kernel install [-src DIR] [-p N] [-warm=false] [-xla-cpu] [-xla-dir DIR]
//	go run ./kernel uninstall
//	go run ./kernel doctor [-src DIR]
//	go run ./kernel check [-gif] [-chart] NOTEBOOK.ipynb...
//
// Everything goes under DLEXP_HOME (default $XDG_DATA_HOME/dlexp, that is
// ~/.local/share/dlexp), except the kernelspec, which goes to the user's Jupyter data folder.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
)

const usage = `usage: kernel <command> [flags]

commands:
  install    build the tools, snapshot the zoo, write the "Go (dlexp)" kernelspec
  uninstall  remove the kernelspec and what install put under DLEXP_HOME
  doctor     print what a notebook on this machine will get
  check      fail when executed notebooks show errors (-gif, -chart: require those outputs)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("kernel "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := fs.String("src", "", "root of the dlexp checkout (default: found from the current folder)")
	par := fs.Int("p", min(2, runtime.NumCPU()), "number of packages go builds in parallel")
	warm := fs.Bool("warm", true, "compile every package of the zoo into the build cache")
	wantGIF := fs.Bool("gif", false, "check: require an inline GIF")
	wantChart := fs.Bool("chart", false, "check: require an ECharts chart")
	xlaFetch := fs.Bool("xla-cpu", false,
		"install: fetch the XLA CPU PJRT plugin with go-xla's installer when missing (network)")
	xlaDir := fs.String("xla-dir", "", "install: folder for the XLA CPU plugin "+
		"(default: go-xla's, ~/.local/lib/go-xla)")
	if err := fs.Parse(rest); err != nil {
		return 2
	}

	var err error
	switch cmd {
	case "install":
		err = install(stdout, installOptions{src: *src, parallel: *par, warm: *warm,
			xla: xlaOptions{fetch: *xlaFetch, dir: *xlaDir}})
	case "uninstall":
		err = uninstall(stdout)
	case "doctor":
		err = doctor(stdout, *src)
	case "check":
		err = check(stdout, fs.Args(), *wantGIF, *wantChart)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kernel: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		var failed checkFailed
		if !errors.As(err, &failed) {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	return 0
}
