// Package docker holds the images' build files; its tests check them without a Docker engine.
package docker

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined and ARGs expanded.
type instruction struct {
	line int    // line number where it starts
	cmd  string // upper case: FROM, RUN, ...
	args string
}

var knownInstructions = []string{
	"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
	"ONBUILD", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
	"RUN",
}

var argRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// parseDockerfile reads a Dockerfile: comments and blank lines dropped, lines ending in a
// backslash joined, ARG defaults substituted into later instructions.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	args := map[string]string{}
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, cont := strings.CutSuffix(line, `\`); cont {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		full := cur.String()
		cur.Reset()

		cmd, rest, _ := strings.Cut(full, " ")
		cmd = strings.ToUpper(cmd)
		if !slices.Contains(knownInstructions, cmd) {
			t.Fatalf("%s:%d: unknown instruction %q", path, start, cmd)
		}
		rest = strings.TrimSpace(rest)
		if cmd == "ARG" {
			name, def, _ := strings.Cut(rest, "=")
			args[name] = def
		}
		rest = expand(rest, args) // RUN lines see ARGs through the shell: the same values
		out = append(out, instruction{line: start, cmd: cmd, args: rest})
	}
	if cur.Len() != 0 {
		t.Fatalf("%s: ends inside a continued line", path)
	}
	return out
}

// expand substitutes the known ARG values; other variables are left as they are.
func expand(s string, args map[string]string) string {
	return argRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := strings.Trim(ref, "${}")
		if v, ok := args[name]; ok {
			return v
		}
		return ref
	})
}

// repoRoot is the build context: the repository root, one folder up.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod above docker/: %v", err)
	}
	return root
}

var dockerfiles = []string{"Dockerfile", "Dockerfile.cpu"}

func TestDockerfilesParse(t *testing.T) {
	for _, f := range dockerfiles {
		ins := parseDockerfile(t, f)
		if len(ins) == 0 || ins[0].cmd != "FROM" && ins[0].cmd != "ARG" {
			t.Errorf("%s does not start with FROM", f)
		}
	}
}

// imageRef matches an image reference pinned by an exact version tag or by digest.
var pinnedImage = regexp.MustCompile(`^[a-z0-9./_-]+(:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*)?(@sha256:[0-9a-f]{64})?$`)

func TestEveryBaseImageIsPinned(t *testing.T) {
	for _, f := range dockerfiles {
		stages := map[string]bool{}
		for _, in := range parseDockerfile(t, f) {
			if in.cmd != "FROM" {
				continue
			}
			fields := strings.Fields(in.args)
			fields = slices.DeleteFunc(fields, func(s string) bool { return strings.HasPrefix(s, "--") })
			image := fields[0]
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				stages[fields[2]] = true
			}
			if stages[image] {
				continue
			}
			tag := image[strings.LastIndex(image, "/")+1:]
			if !pinnedImage.MatchString(image) || strings.Contains(tag, ":latest") ||
				(!strings.Contains(tag, ":") && !strings.Contains(image, "@sha256:")) {
				t.Errorf("%s:%d: base image %q is not pinned to a version", f, in.line, image)
			}
		}
	}
}

func TestGoImageMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("no go line in go.mod")
	}
	for _, f := range dockerfiles {
		want := "golang:" + string(m[1]) + "-"
		found := false
		for _, in := range parseDockerfile(t, f) {
			found = found || in.cmd == "FROM" && strings.HasPrefix(in.args, want)
		}
		if !found {
			t.Errorf("%s takes no Go image %s* for go.mod's go %s", f, want, m[1])
		}
	}
}

// shellWords splits a shell command line into words, quotes removed; "&&", "||", ";" and "|"
// are words of their own.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	var quote rune
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			flush()
		case r == ';':
			flush()
			words = append(words, ";")
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return words
}

// commandArgs returns, for every use of the command prefix (e.g. "pip install") in the RUN
// lines, the words after it up to the end of that shell command.
func commandArgs(ins []instruction, prefix ...string) [][]string {
	var out [][]string
	for _, in := range ins {
		if in.cmd != "RUN" {
			continue
		}
		words := shellWords(in.args)
		for i := range words {
			if !matchesPrefix(words[i:], prefix) {
				continue
			}
			var args []string
			for _, w := range words[i+len(prefix):] {
				if w == "&&" || w == "||" || w == ";" || w == "|" {
					break
				}
				args = append(args, w)
			}
			out = append(out, args)
		}
	}
	return out
}

// matchesPrefix reports whether words start with the command prefix; the first word of the
// prefix may be given with a folder ("/opt/venv/bin/pip").
func matchesPrefix(words, prefix []string) bool {
	if len(words) < len(prefix) || filepath.Base(words[0]) != prefix[0] {
		return false
	}
	return slices.Equal(words[1:len(prefix)], prefix[1:])
}

var pinnedPip = regexp.MustCompile(`^[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[0-9][A-Za-z0-9.+-]*$`)

func TestEveryPipPackageIsPinned(t *testing.T) {
	for _, f := range dockerfiles {
		installs := commandArgs(parseDockerfile(t, f), "pip", "install")
		if len(installs) == 0 {
			t.Errorf("%s installs nothing with pip", f)
		}
		for _, args := range installs {
			for _, a := range args {
				if strings.HasPrefix(a, "-") {
					continue
				}
				if !pinnedPip.MatchString(a) {
					t.Errorf("%s: pip package %q is not pinned with ==", f, a)
				}
			}
		}
	}
}

var pinnedGo = regexp.MustCompile(`@v[0-9]+\.[0-9]+\.[0-9]+`)

func TestEveryGoInstallIsPinned(t *testing.T) {
	for _, f := range dockerfiles {
		for _, args := range commandArgs(parseDockerfile(t, f), "go", "install") {
			for _, a := range args {
				if !strings.HasPrefix(a, "-") && !pinnedGo.MatchString(a) {
					t.Errorf("%s: go install %q is not pinned to a version", f, a)
				}
			}
		}
	}
}

func TestGPUImageCarriesTheCUDAPluginAndCPUImageDoesNot(t *testing.T) {
	has := func(f, pkg string) bool {
		for _, args := range commandArgs(parseDockerfile(t, f), "pip", "install") {
			for _, a := range args {
				if strings.HasPrefix(a, pkg+"==") || strings.HasPrefix(a, pkg+"[") {
					return true
				}
			}
		}
		return false
	}
	for _, pkg := range []string{"jupyterlab", "jax-cuda12-pjrt", "jax-cuda12-plugin"} {
		if !has("Dockerfile", pkg) {
			t.Errorf("Dockerfile does not install %s", pkg)
		}
	}
	if !has("Dockerfile.cpu", "jupyterlab") || has("Dockerfile.cpu", "jax-cuda12-pjrt") {
		t.Error("Dockerfile.cpu should install JupyterLab and no CUDA plugin")
	}
	for _, in := range parseDockerfile(t, "Dockerfile") {
		if in.cmd == "FROM" && strings.HasPrefix(in.args, "nvidia/cuda:") &&
			!strings.Contains(in.args, "runtime") {
			t.Errorf("Dockerfile:%d: GPU base %q is not a CUDA runtime image", in.line, in.args)
		}
	}
}

func TestImagesRunAsAUserOtherThanRoot(t *testing.T) {
	for _, f := range dockerfiles {
		user := "root"
		for _, in := range parseDockerfile(t, f) {
			switch in.cmd {
			case "FROM":
				user = "root"
			case "USER":
				user = in.args
			}
		}
		name, _, _ := strings.Cut(user, ":")
		if name == "root" || name == "0" {
			t.Errorf("%s: the image runs as %q", f, user)
		}
	}
}

func TestCopiedAndRunFilesExistInTheRepository(t *testing.T) {
	root := repoRoot(t)
	for _, f := range dockerfiles {
		ins := parseDockerfile(t, f)
		for _, in := range ins {
			switch in.cmd {
			case "COPY", "ADD":
				words := strings.Fields(in.args)
				if slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, "--from") }) {
					continue
				}
				words = slices.DeleteFunc(words, func(w string) bool { return strings.HasPrefix(w, "--") })
				for _, src := range words[:len(words)-1] {
					if _, err := os.Stat(filepath.Join(root, src)); err != nil {
						t.Errorf("%s:%d: COPY source %s: %v", f, in.line, src, err)
					}
				}
			case "CMD", "ENTRYPOINT":
				for _, p := range regexp.MustCompile(`/opt/dlexp/(\S+?)"`).FindAllStringSubmatch(in.args, -1) {
					info, err := os.Stat(filepath.Join(root, p[1]))
					if err != nil || info.Mode()&0o111 == 0 {
						t.Errorf("%s:%d: %s is not an executable file of the repository", f, in.line, p[1])
					}
				}
			}
		}
		for _, args := range commandArgs(ins, "go", "run") {
			pkg := args[0]
			if !strings.HasPrefix(pkg, "./") {
				continue
			}
			if !isMainPackage(t, filepath.Join(root, pkg)) {
				t.Errorf("%s: go run %s: no main package there", f, pkg)
			}
		}
	}
}

// isMainPackage reports whether a folder holds Go files of package main.
func isMainPackage(t *testing.T, dir string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		data, err := os.ReadFile(file)
		if err == nil && regexp.MustCompile(`(?m)^package main\s*$`).Match(data) {
			return true
		}
	}
	return false
}

func TestJupyterListensWhereItSaysWithVolumes(t *testing.T) {
	for _, f := range dockerfiles {
		var port, exposed, volumes string
		for _, in := range parseDockerfile(t, f) {
			switch in.cmd {
			case "ENV":
				if m := regexp.MustCompile(`JUPYTER_PORT=(\d+)`).FindStringSubmatch(in.args); m != nil {
					port = m[1]
				}
			case "EXPOSE":
				exposed = in.args
			case "VOLUME":
				volumes += in.args
			}
		}
		if port == "" || exposed != port {
			t.Errorf("%s: EXPOSE %q, JUPYTER_PORT %q", f, exposed, port)
		}
		for _, v := range []string{"/home/dlexp/notebooks", "/home/dlexp/data"} {
			if !strings.Contains(volumes, `"`+v+`"`) {
				t.Errorf("%s: no volume %s", f, v)
			}
		}
	}
}

func TestStartScriptRefusesAnEmptyToken(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	if out, err := exec.Command(sh, "-n", "start-jupyter.sh").CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s", err, out)
	}
	cmd := exec.Command(sh, "start-jupyter.sh")
	cmd.Env = append(os.Environ(), "JUPYTER_TOKEN=", "PATH=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "JUPYTER_TOKEN is empty") {
		t.Fatalf("start-jupyter.sh with an empty token: err %v, output %q", err, out)
	}
}

func TestReadmeShowsBuildAndRun(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"docker build -f docker/Dockerfile ", "docker build -f docker/Dockerfile.cpu ",
		"docker run", "--gpus all", "JUPYTER_TOKEN", "/home/dlexp/notebooks", "/home/dlexp/data",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("README.md does not show %q", want)
		}
	}
}
