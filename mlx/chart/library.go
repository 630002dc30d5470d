package chart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dlexp/dlexp/mlx/logs"
	"github.com/dlexp/dlexp/mlx/notebook"
)

// EnvEChartsJS is the environment variable naming the local echarts.min.js file.
const EnvEChartsJS = "DLEXP_ECHARTS_JS"

// CDNURL is where ECharts 5 is loaded from when no local copy is found (needs internet).
const CDNURL = "https://cdn.jsdelivr.net/npm/echarts@5/dist/echarts.min.js"

// onceKey names the kernel-wide marker of "ECharts was sent to this notebook".
const onceKey = "echarts-library"

// library caches the ECharts source read from disk, per path.
var library struct {
	mu     sync.Mutex
	path   string
	js     []byte
	warned bool
}

// DefaultLibraryPath returns where the kernel install puts ECharts:
// $XDG_DATA_HOME/dlexp/npm/node_modules/echarts/dist/echarts.min.js, with XDG_DATA_HOME
// defaulting to ~/.local/share.
func DefaultLibraryPath() string {
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "dlexp", "npm", "node_modules", "echarts", "dist", "echarts.min.js")
}

// LibraryPath returns the local echarts.min.js to inline: the file named by DLEXP_ECHARTS_JS
// if it exists, else DefaultLibraryPath if it exists. It returns an error naming the places
// tried when there is none.
func LibraryPath() (string, error) {
	var tried []string
	for _, p := range []string{os.Getenv(EnvEChartsJS), DefaultLibraryPath()} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("chart: no local ECharts file (tried %s); set %s",
		strings.Join(tried, ", "), EnvEChartsJS)
}

// libraryJS returns the local ECharts source, or nil with a warning (once per process) when
// there is none and the CDN must be used.
func libraryJS() []byte {
	library.mu.Lock()
	defer library.mu.Unlock()

	p, err := LibraryPath()
	if err != nil {
		if !library.warned {
			library.warned = true
			logs.Setup()
			slog.Warn("chart: ECharts not found locally, charts load it from the internet",
				"url", CDNURL, "fix", "set "+EnvEChartsJS+" to echarts.min.js")
		}
		return nil
	}
	if p == library.path && library.js != nil {
		return library.js
	}
	js, err := os.ReadFile(p)
	if err != nil {
		logs.Setup()
		slog.Warn("chart: cannot read ECharts, charts load it from the internet",
			"path", p, "err", err)
		return nil
	}
	// Inside a <script> element, "</script" would end the element early.
	js = bytes.ReplaceAll(js, []byte("</script"), []byte(`<\/script`))
	library.path, library.js = p, js
	return js
}

// LoaderHTML returns a <script> element that defines window.echarts in the page unless it is
// already defined: the local library inlined when found, else a loader from CDNURL.
// AMD loaders (RequireJS in the classic Notebook) are hidden from ECharts while it loads, so it
// always lands on window.echarts.
func LoaderHTML() string {
	var b strings.Builder
	if js := libraryJS(); js != nil {
		b.WriteString("<script type=\"text/javascript\">\nif (!window.echarts) {\n")
		b.WriteString("(function (define, exports, module) {\n")
		b.Write(js)
		b.WriteString("\n}).call(window);\n}\n</script>\n")
		return b.String()
	}
	url, _ := json.Marshal(CDNURL)
	fmt.Fprintf(&b, `<script type="text/javascript">
if (!window.echarts && !window.dlexpEChartsLoading) {
  window.dlexpEChartsLoading = true;
  var amd = window.define;
  window.define = undefined;
  var s = document.createElement("script");
  s.src = %s;
  s.onload = s.onerror = function () { window.define = amd; window.dlexpEChartsLoading = false; };
  document.head.appendChild(s);
}
</script>
`, url)
	return b.String()
}

// EnsureLibrary sends LoaderHTML to the notebook as a final (not updatable) cell output, once
// per kernel: later calls, from this cell or later ones, send nothing. The saved notebook and
// its HTML export keep that output, so they draw offline too. It does nothing outside a
// notebook.
func EnsureLibrary() {
	if !notebook.Active() {
		return
	}
	if notebook.Once(onceKey) {
		notebook.DisplayHTML(LoaderHTML())
	}
}

// ReloadLibrary sends the library again, e.g. after the browser page was reloaded while the
// kernel kept running and the first output holding it was cleared.
func ReloadLibrary() {
	notebook.ForgetOnce(onceKey)
	EnsureLibrary()
}
