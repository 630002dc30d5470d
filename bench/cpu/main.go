// Command cpu benchmarks dlexp on the CPU beside its peers: the "cpu" backend against
// PyTorch for the models, the dataset readers against numpy, and a warm notebook cell of the
// "Go (dlexp)" kernel against a plain GoNB cell.
//
// Every case runs in its own child process, dlexp's and then its peer's, one after the other
// in one sitting, with 2 threads each (GOMAXPROCS=2; torch.set_num_threads(2)): after warm-up
// each is timed several times and the median is reported, with the CPU time per repeat and
// the peak resident memory of the child (getrusage). The table gives the ratio of each pair
// (dlexp / peer: above 1 means dlexp is slower or bigger) and the results go to a JSON file.
//
// Usage:
//
//	go run ./bench/cpu [-cases unet-train,...] [-repeats 7] [-out out/bench.json]
//
// Flags:
//
//	-cases     comma-separated cases (default: all; see -list)
//	-repeats   timed repeats per case (median reported)
//	-warmup    untimed repeats first (the first one compiles the graph)
//	-baseline  also time the models on the backend with kernels=off (its composed path)
//	-quick     tiny sizes, a check that everything runs (not a measurement)
//	-python    the Python with PyTorch, numpy and jupyter_client (default /usr/bin/python3)
//	-out       the JSON file ("" for none)
//	-list      print the cases and exit
//
// To profile dlexp on one case, run it alone in this process:
//
//	go run ./bench/cpu -child fcdensenet56-train -cpuprofile cpu.out
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlexp/dlexp/mlx/logs"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	cases    []string
	repeats  int
	warmup   int
	baseline bool
	quick    bool
	python   string
	out      string

	// Child mode: run one measurement and print it as JSON.
	child      string // case name
	impl       string // implementation to run in the child
	cpuProfile string // CPU profile of the child's measurement
}

// run parses the flags and runs the benchmark (or one child measurement); it returns the
// exit status.
func run(args []string, stdout, stderr io.Writer) int {
	logs.Setup()
	fs := flag.NewFlagSet("cpu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	cases := fs.String("cases", "all", "comma-separated cases, or all")
	fs.IntVar(&o.repeats, "repeats", 7, "timed repeats per case")
	fs.IntVar(&o.warmup, "warmup", 2, "untimed repeats before timing")
	fs.BoolVar(&o.baseline, "baseline", false, "also time the models with kernels=off")
	fs.BoolVar(&o.quick, "quick", false, "tiny sizes: a check, not a measurement")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python with PyTorch and numpy")
	fs.StringVar(&o.out, "out", "out/bench.json", "JSON results file, empty for none")
	list := fs.Bool("list", false, "print the cases and exit")
	fs.StringVar(&o.child, "child", "", "internal: measure this case in this process")
	fs.StringVar(&o.impl, "impl", implDlexp, "internal: implementation measured by -child")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "with -child: write a CPU profile here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, c := range allCases(o.quick) {
			fmt.Fprintf(stdout, "%-22s %s\n", c.Name, c.Title)
		}
		return 0
	}
	if o.repeats < 1 || o.warmup < 0 {
		fmt.Fprintln(stderr, "cpu: -repeats must be at least 1 and -warmup at least 0")
		return 2
	}
	if o.child != "" {
		if err := runChild(o, stdout); err != nil {
			fmt.Fprintln(stderr, "cpu:", err)
			return 1
		}
		return 0
	}
	if *cases != "all" {
		o.cases = strings.Split(*cases, ",")
	}
	report, err := runAll(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "cpu:", err)
		return 1
	}
	report.writeTable(stdout)
	if o.out != "" {
		if err := report.writeJSON(o.out); err != nil {
			fmt.Fprintln(stderr, "cpu:", err)
			return 1
		}
		fmt.Fprintln(stdout, "results written to", o.out)
	}
	if report.failed() {
		return 1
	}
	return 0
}
