package notebooks

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var browserTimeout = flag.Duration("browser-timeout", 12*time.Minute,
	"longest time the browser test may take")

// browserNotebook is the notebook the browser test runs, and the shorter quick setting it
// gets there so that the test takes a minute or two.
const (
	browserNotebook = "denoiser.ipynb"
	browserQuick    = `"quick": {TrainImages: 256, TestImages: 64, Epochs: 2, BatchSize: 32}`
)

// quickSetting matches the quick setting in the notebook's JSON text, quotes escaped.
var quickSetting = regexp.MustCompile(`\\"quick\\":\s*\{[^}]*\}`)

// TestDenoiserDrawsInTheBrowser opens the denoiser notebook in Jupyter Notebook through a
// headless Chromium, runs all its cells as a user would, and checks that the live chart drew
// (an ECharts canvas of non-zero size) and that the GIF loaded (an image of non-zero natural
// width), with no error in any output. It saves a screenshot as out/browser/denoiser.png.
func TestDenoiserDrawsInTheBrowser(t *testing.T) {
	requireKernel(t)
	chromium := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), *browserTimeout)
	defer cancel()

	dir := t.TempDir()
	writeBrowserNotebook(t, dir)
	base, token := startNotebookServer(t, ctx, dir)
	page := startChromium(t, ctx, chromium)

	url := fmt.Sprintf("%s/notebooks/%s?token=%s", base, browserNotebook, token)
	if err := page.open(url); err != nil {
		t.Fatal(err)
	}
	connected := `typeof Jupyter !== "undefined" && !!Jupyter.notebook && ` +
		`!!Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()`
	if err := page.waitFor(ctx, connected, 3*time.Minute); err != nil {
		t.Fatalf("the notebook page did not connect to the kernel: %v", err)
	}
	start := time.Now()
	if _, err := page.eval(`Jupyter.notebook.execute_all_cells(), true`); err != nil {
		t.Fatal(err)
	}
	finished := `(() => {
		const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === "code");
		const icon = document.querySelector("#kernel_indicator_icon");
		return cells.every(c => typeof c.input_prompt_number === "number") &&
			!!icon && icon.classList.contains("kernel_idle_icon");
	})()`
	if err := page.waitFor(ctx, finished, time.Until(deadline(ctx))); err != nil {
		page.screenshot(t, "denoiser-unfinished.png")
		t.Fatalf("the cells did not finish: %v", err)
	}
	t.Logf("all cells ran in the browser in %s", time.Since(start).Round(time.Second))

	report, err := page.eval(`JSON.stringify((() => {
		const charts = Array.from(document.querySelectorAll("[_echarts_instance_]"));
		const canvases = charts.flatMap(c => Array.from(c.querySelectorAll("canvas")))
			.filter(c => c.width > 0 && c.height > 0);
		const gifs = Array.from(document.images).filter(i =>
			i.src.startsWith("data:image/gif") && i.complete && i.naturalWidth > 0);
		const gifSizes = gifs.map(i => i.naturalWidth + "x" + i.naturalHeight);
		const errors = Array.from(document.querySelectorAll(
			".output_error, .output_stderr, .output_text")).map(e => e.innerText)
			.filter(s => s.includes("panic:") || s.includes("exit status") ||
				s.includes("Traceback"));
		const big = gifs.filter(i => i.naturalWidth >= 8);
		const first = [big[0], charts[0]].filter(e => !!e).sort((a, b) =>
			a.getBoundingClientRect().top - b.getBoundingClientRect().top)[0];
		if (first) first.scrollIntoView({block: "start"});
		return {charts: charts.length, canvases: canvases.length, gifs: big.length, gifSizes,
			errorOutputs: document.querySelectorAll(".output_error").length, errors};
	})())`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Charts, Canvases, Gifs, ErrorOutputs int
		GifSizes, Errors                     []string
	}
	if err := json.Unmarshal([]byte(report), &got); err != nil {
		t.Fatalf("reading the page report %q: %v", report, err)
	}
	t.Logf("page: %+v", got)
	page.screenshot(t, "denoiser.png")
	if got.Canvases == 0 {
		t.Errorf("no ECharts canvas of non-zero size (%d chart containers)", got.Charts)
	}
	if got.Gifs == 0 {
		t.Errorf("no loaded GIF image of some size (naturalWidth >= 8): %q", got.GifSizes)
	}
	if got.ErrorOutputs > 0 || len(got.Errors) > 0 {
		t.Errorf("%d error outputs; failures in outputs: %q", got.ErrorOutputs, got.Errors)
	}
}

// deadline returns ctx's deadline, or an hour from now.
func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Hour)
}

// findChromium returns the Chromium binary, installing the OS package when it is missing and
// this process may; it skips the test when there is none to be had.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("chromium is not installed and cannot be installed here (no apt-get, or not " +
			"root): install the OS package chromium to run the browser test")
	}
	t.Log("chromium is missing: apt-get install -y chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, apt, "install", "-y", "--no-install-recommends", "chromium")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("chromium is not installed and `apt-get install -y chromium` failed (%v): "+
			"install the OS package chromium to run the browser test\n%s", err, tail(string(out)))
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Skipf("chromium still not found after installing it: %v", err)
	}
	return p
}

// writeBrowserNotebook copies the browser notebook into dir with a shorter quick setting.
func writeBrowserNotebook(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(browserNotebook)
	if err != nil {
		t.Fatal(err)
	}
	short := quickSetting.ReplaceAll(data, []byte(strings.ReplaceAll(browserQuick, `"`, `\"`)))
	if string(short) == string(data) {
		t.Logf("%s has no quick setting to shorten: it runs at its own quick size",
			browserNotebook)
	}
	if err := os.WriteFile(filepath.Join(dir, browserNotebook), short, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startNotebookServer starts Jupyter Notebook on a free loopback port, serving dir with a
// random token, and returns its base URL and the token once it answers.
func startNotebookServer(t *testing.T, ctx context.Context, dir string) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	token := hex.EncodeToString(secret)

	args := []string{"-m", "notebook", "--no-browser", "--ip=127.0.0.1",
		fmt.Sprintf("--port=%d", port), "--port-retries=0", "--NotebookApp.token=" + token,
		"--notebook-dir=" + dir}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root") // containers and CI often run as root
	}
	cmd := exec.CommandContext(ctx, python(), args...)
	cmd.Env = jupyterEnv(map[string]string{
		"DLEXP_OUT":           filepath.Join(dir, "out"),
		"JUPYTER_RUNTIME_DIR": filepath.Join(dir, "runtime"),
	})
	logFile, err := os.Create(filepath.Join(dir, "jupyter.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Jupyter Notebook: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("Jupyter log:\n%s", tail(string(log)))
		}
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(300 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("Jupyter Notebook exited (%v):\n%s", err, tail(string(log)))
		default:
		}
		resp, err := http.Get(base + "/api/status?token=" + token)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, token
			}
		}
	}
	log, _ := os.ReadFile(logFile.Name())
	t.Fatalf("Jupyter Notebook did not answer on %s within a minute:\n%s", base, tail(string(log)))
	return "", ""
}

// browserPage is one page of a headless Chromium, driven by the DevTools protocol over the
// pipe Chromium opens with --remote-debugging-pipe (JSON messages ended by a zero byte).
type browserPage struct {
	w       *os.File
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpReply
	session string
}

// cdpReply is the answer to one protocol command.
type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// startChromium starts a headless Chromium with a fresh profile and returns its driver.
func startChromium(t *testing.T, ctx context.Context, chromium string) *browserPage {
	t.Helper()
	profile := t.TempDir()
	toChrome, ourEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromChrome, theirEnd, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--no-first-run",
		"--disable-dev-shm-usage", "--user-data-dir="+profile, "--remote-debugging-pipe",
		"--window-size=1280,1000", "about:blank")
	cmd.ExtraFiles = []*os.File{toChrome, theirEnd} // fds 3 (commands in) and 4 (replies out)
	stderr, err := os.Create(filepath.Join(profile, "chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	_ = toChrome.Close()
	_ = theirEnd.Close()
	p := &browserPage{w: ourEnd, waiting: map[int]chan cdpReply{}}
	go p.read(fromChrome)
	t.Cleanup(func() {
		_, _ = p.call("", "Browser.close", nil)
		time.AfterFunc(5*time.Second, func() { _ = cmd.Process.Kill() })
		_ = cmd.Wait()
		_ = ourEnd.Close()
		_ = fromChrome.Close()
		_ = stderr.Close()
		if t.Failed() {
			log, _ := os.ReadFile(stderr.Name())
			t.Logf("Chromium log:\n%s", tail(string(log)))
		}
	})
	return p
}

// read dispatches the replies Chromium writes to the commands waiting for them; events are
// dropped.
func (p *browserPage) read(r *os.File) {
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			p.mu.Lock()
			for id, ch := range p.waiting {
				close(ch)
				delete(p.waiting, id)
			}
			p.mu.Unlock()
			return
		}
		var head struct {
			ID int `json:"id"`
		}
		if json.Unmarshal(msg[:len(msg)-1], &head) != nil || head.ID == 0 {
			continue
		}
		var reply cdpReply
		_ = json.Unmarshal(msg[:len(msg)-1], &reply)
		p.mu.Lock()
		ch := p.waiting[head.ID]
		delete(p.waiting, head.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- reply
		}
	}
}

// call sends a protocol command (to the page's session unless session is "") and waits up to
// a minute for its result.
func (p *browserPage) call(session, method string, params any) (json.RawMessage, error) {
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan cdpReply, 1)
	p.waiting[id] = ch
	p.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, err := p.w.Write(append(data, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case reply, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: the browser closed the connection", method)
		}
		if reply.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, reply.Error.Message)
		}
		return reply.Result, nil
	case <-time.After(time.Minute):
		return nil, fmt.Errorf("%s: no answer within a minute", method)
	}
}

// open creates a page showing url and attaches to it.
func (p *browserPage) open(url string) error {
	res, err := p.call("", "Target.createTarget", map[string]any{"url": url})
	if err != nil {
		return err
	}
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := json.Unmarshal(res, &target); err != nil {
		return err
	}
	res, err = p.call("", "Target.attachToTarget",
		map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		return err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(res, &attached); err != nil {
		return err
	}
	p.session = attached.SessionID
	_, err = p.call(p.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": false})
	return err
}

// eval evaluates a JavaScript expression in the page and returns its value as a string
// (JSON for non-strings).
func (p *browserPage) eval(expr string) (string, error) {
	res, err := p.call(p.session, "Runtime.evaluate",
		map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return "", err
	}
	var out struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		return "", err
	}
	if out.Exception != nil {
		return "", fmt.Errorf("javascript: %s %s", out.Exception.Text,
			out.Exception.Exception.Description)
	}
	var s string
	if json.Unmarshal(out.Result.Value, &s) == nil {
		return s, nil
	}
	return string(out.Result.Value), nil
}

// waitFor evaluates expr until it is true, for at most limit.
func (p *browserPage) waitFor(ctx context.Context, expr string, limit time.Duration) error {
	stop := time.Now().Add(limit)
	var last error
	for time.Now().Before(stop) && ctx.Err() == nil {
		v, err := p.eval(expr)
		if err == nil && v == "true" {
			return nil
		}
		last = err
		time.Sleep(time.Second)
	}
	if last != nil {
		return fmt.Errorf("not true within %s (last error: %w)", limit, last)
	}
	return errors.New("not true within " + limit.String())
}

// screenshot saves a PNG of the page's viewport as out/browser/<name> in the checkout.
func (p *browserPage) screenshot(t *testing.T, name string) {
	t.Helper()
	res, err := p.call(p.session, "Page.captureScreenshot", map[string]any{"format": "png"})
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	var shot struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &shot); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	data, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	dir := filepath.Join(moduleRoot(t), "out", "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot saved to %s", path)
}
