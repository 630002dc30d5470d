package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The peer scripts, written to a temporary folder when run.
var (
	//go:embed peer.py
	peerScript []byte
	//go:embed notebook.py
	notebookScript []byte
)

// threads is the number of threads every implementation gets.
const threads = 2

// childTimeout bounds one child process.
const childTimeout = 20 * time.Minute

// runChild measures one case in this process and prints the measurement as JSON.
func runChild(o options, stdout io.Writer) error {
	cases, err := selectCases([]string{o.child}, o.quick)
	if err != nil {
		return err
	}
	c := cases[0]
	if c.measure == nil {
		return fmt.Errorf("case %s has no Go measurement", c.Name)
	}
	var p params
	if env := os.Getenv("DLEXP_BENCH_PARAMS"); env != "" {
		if err := json.Unmarshal([]byte(env), &p); err != nil {
			return fmt.Errorf("DLEXP_BENCH_PARAMS: %w", err)
		}
	} else {
		p = c.Params
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	m, err := c.measure(p, o.impl, o)
	if err != nil {
		return err
	}
	m.Case, m.Impl = c.Name, o.impl
	m.finish()
	return json.NewEncoder(stdout).Encode(m)
}

// runAll runs every selected case, dlexp then peer, each in a child process; progress goes to
// log.
func runAll(o options, log io.Writer) (*report, error) {
	cases, err := selectCases(o.cases, o.quick)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dlexp-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	for name, script := range map[string][]byte{"peer.py": peerScript,
		"notebook.py": notebookScript} {
		if err := os.WriteFile(filepath.Join(dir, name), script, 0o644); err != nil {
			return nil, err
		}
	}
	r := newReport(o)
	for _, c := range cases {
		row := row{Case: c.Name, Title: c.Title, PeerImpl: c.Peer, Unit: c.unit()}
		if c.Name == "mnist-read" {
			images, labels, err := mnistFiles()
			if err != nil {
				row.Dlexp = measurement{Case: c.Name, Impl: implDlexp, Skipped: err.Error()}
				row.Peer = measurement{Case: c.Name, Impl: c.Peer, Skipped: err.Error()}
				r.add(row, log)
				continue
			}
			c.Params.Images, c.Params.Labels = images, labels
		}
		fmt.Fprintf(log, "bench: %s ...\n", c.Name)
		if c.measure == nil {
			// The notebook script measures both cells.
			ms := runScript(o, dir, "notebook.py", c, implDlexp)
			row.Dlexp, row.Peer = ms[0], ms[len(ms)-1]
			r.add(row, log)
			continue
		}
		row.Dlexp = runGoChild(o, c, implDlexp)
		if o.baseline && c.Model {
			b := runGoChild(o, c, implBaseline)
			row.Baseline = &b
		}
		row.Peer = runScript(o, dir, "peer.py", c, c.Peer)[0]
		r.add(row, log)
	}
	return r, nil
}

// runGoChild measures a case in a child process of this program.
func runGoChild(o options, c benchCase, impl string) measurement {
	fail := func(err error) measurement {
		return measurement{Case: c.Name, Impl: impl, Error: err.Error()}
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	pj, err := json.Marshal(c.Params)
	if err != nil {
		return fail(err)
	}
	args := []string{"-child", c.Name, "-impl", impl, "-repeats", strconv.Itoa(o.repeats),
		"-warmup", strconv.Itoa(o.warmup)}
	if o.quick {
		args = append(args, "-quick")
	}
	env := append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(threads),
		"DLEXP_BENCH_PARAMS="+string(pj))
	ms := runProcess(c, impl, exec.Command(exe, args...), env)
	return ms[0]
}

// runScript measures a case with one of the Python scripts; it returns one measurement, or
// two for the notebook script (the dlexp cell, then the plain cell).
func runScript(o options, dir, script string, c benchCase, impl string) []measurement {
	pj, err := json.Marshal(c.Params)
	if err != nil {
		return []measurement{{Case: c.Name, Impl: impl, Error: err.Error()}}
	}
	args := []string{filepath.Join(dir, script), "--case", c.Name, "--impl", impl,
		"--params", string(pj), "--repeats", strconv.Itoa(o.repeats),
		"--warmup", strconv.Itoa(o.warmup), "--threads", strconv.Itoa(threads)}
	env := append(os.Environ(), "OMP_NUM_THREADS="+strconv.Itoa(threads),
		"MKL_NUM_THREADS="+strconv.Itoa(threads), "PYTHONDONTWRITEBYTECODE=1")
	if _, err := exec.LookPath(o.python); err != nil {
		return []measurement{{Case: c.Name, Impl: impl,
			Skipped: fmt.Sprintf("%s not found", o.python)}}
	}
	return runProcess(c, impl, exec.Command(o.python, args...), env)
}

// runProcess runs a measuring child: each line of its standard output that is a JSON
// object is a measurement; the child's peak resident memory is added to the first one.
func runProcess(c benchCase, impl string, cmd *exec.Cmd, env []string) []measurement {
	var stdout, stderr bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
	timer := time.AfterFunc(childTimeout, func() {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	})
	err := cmd.Run()
	timer.Stop()
	var ms []measurement
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m measurement
		if json.Unmarshal([]byte(line), &m) == nil && m.Case != "" {
			ms = append(ms, m)
		}
	}
	if err != nil || len(ms) == 0 {
		msg := lastLine(stderr.String())
		if err == nil {
			err = errors.New("no measurement printed")
		}
		if msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return []measurement{{Case: c.Name, Impl: impl, Error: err.Error()}}
	}
	u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ok && ms[0].Skipped == "" && !c.noMemory {
		ms[0].PeakMiB = float64(u.Maxrss) / 1024 // Linux reports KiB
	}
	return ms
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
