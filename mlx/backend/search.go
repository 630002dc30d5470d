package backend

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dlexp/dlexp/mlx/backend/plugins"
)

// system is the view of the machine the search reads: a root folder that every absolute path is
// taken under, and the environment. Tests point it at a fake folder tree.
type system struct {
	root   string
	lookup func(string) (string, bool)
}

// hostSystem is the real machine.
func hostSystem() system {
	return system{root: "/", lookup: os.LookupEnv}
}

// getenv returns the variable's value, "" when unset.
func (s system) getenv(name string) string {
	v, _ := s.lookup(name)
	return v
}

// path maps an absolute path of the machine to the file system seen by the search.
func (s system) path(p string) string {
	return filepath.Join(s.root, p)
}

// unroot maps a path under the root back to the machine's absolute path.
func (s system) unroot(p string) string {
	rel, err := filepath.Rel(s.root, p)
	if err != nil {
		return p
	}
	return filepath.Join("/", rel)
}

// glob returns the machine paths matching the absolute pattern, sorted, newest Python first
// where the names differ only by version.
func (s system) glob(pattern string) []string {
	matches, err := filepath.Glob(s.path(pattern))
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		out = append(out, s.unroot(m))
	}
	slices.SortFunc(out, compareVersioned)
	return out
}

// isDir reports whether the machine path is a folder.
func (s system) isDir(p string) bool {
	info, err := os.Stat(s.path(p))
	return err == nil && info.IsDir()
}

// isSharedLib reports whether the machine path is a shared object (plugins.IsSharedLibrary).
func (s system) isSharedLib(p string) bool {
	return plugins.IsSharedLibrary(s.path(p))
}

// home returns the user's home folder from $HOME, or "" when unknown.
func (s system) home() string {
	h := s.getenv("HOME")
	if !filepath.IsAbs(h) {
		return ""
	}
	return h
}

// pathList splits the colon separated list of folders in the variable, keeping absolute ones.
func (s system) pathList(name string) []string {
	return plugins.PathList(s.getenv(name))
}

// gpu describes the NVIDIA GPU evidence found on the machine.
type gpu struct {
	device string // first device file or driver entry found, "" when none
	hidden bool   // CUDA_VISIBLE_DEVICES hides every device
	driver int    // major version of the kernel driver, 0 when unknown
}

var driverVersion = regexp.MustCompile(`Kernel Module(?:\s+for\s+\S+)?\s+(\d+)\.`)

// findGPU looks for NVIDIA device files (/dev/nvidia0, ...) or driver entries for GPUs.
func (s system) findGPU() gpu {
	var g gpu
	for _, pattern := range []string{"/dev/nvidia[0-9]*", "/proc/driver/nvidia/gpus/*"} {
		if m := s.glob(pattern); len(m) > 0 {
			g.device = m[0]
			break
		}
	}
	if v, set := s.lookup("CUDA_VISIBLE_DEVICES"); set {
		v = strings.TrimSpace(v)
		g.hidden = v == "" || v == "-1"
	}
	if data, err := os.ReadFile(s.path("/proc/driver/nvidia/version")); err == nil {
		if m := driverVersion.FindSubmatch(data); m != nil {
			g.driver, _ = strconv.Atoi(string(m[1]))
		}
	}
	return g
}

// plugin is a PJRT plugin file found on the machine, with what it needs to run.
type plugin struct {
	file    string   // absolute path of the .so
	cuda    int      // CUDA major version the plugin was built for, 0 when unknown or not CUDA
	libDirs []string // NVIDIA library folders to add to LD_LIBRARY_PATH
	dataDir string   // CUDA data folder (ptxas, libdevice) for --xla_gpu_cuda_data_dir
}

// pluginFolders lists, in search order, the folders where PJRT plugins are installed outside
// Python (plugins.Folders).
func (s system) pluginFolders() []string {
	return plugins.Folders(s.getenv)
}

// sitePackages lists, in search order, the Python package folders where JAX plugins may be:
// the active virtual or conda environment, PYTHONPATH, the user's, then the system's.
func (s system) sitePackages() []string {
	var prefixes []string
	for _, name := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := s.getenv(name); filepath.IsAbs(p) {
			prefixes = append(prefixes, p)
		}
	}
	var dirs []string
	for _, p := range prefixes {
		dirs = append(dirs, s.glob(filepath.Join(p, "lib/python3*/site-packages"))...)
	}
	dirs = append(dirs, s.pathList("PYTHONPATH")...)
	if h := s.home(); h != "" {
		dirs = append(dirs, s.glob(filepath.Join(h, ".local/lib/python3*/site-packages"))...)
	}
	for _, pattern := range []string{
		"/usr/local/lib/python3*/site-packages",
		"/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3*/site-packages",
		"/usr/lib/python3*/dist-packages",
		"/opt/conda/lib/python3*/site-packages",
	} {
		dirs = append(dirs, s.glob(pattern)...)
	}
	return plugins.Dedupe(dirs)
}

// cudaPluginNames are the file names of CUDA PJRT plugins, GoMLX's first.
var cudaPluginNames = []string{
	"pjrt_c_api_cuda_plugin.so", "pjrt-plugin-cuda.so", "pjrt_plugin_cuda.so", "xla_cuda_plugin.so",
}

// findCUDAPlugins returns every CUDA plugin found, in search order: plugin folders first, then
// JAX's packages (jax_plugins/xla_cuda<N>/xla_cuda_plugin.so) in each Python package folder.
func (s system) findCUDAPlugins() []plugin {
	var found []plugin
	for _, dir := range s.pluginFolders() {
		for _, name := range cudaPluginNames {
			if f := filepath.Join(dir, name); s.isSharedLib(f) {
				found = append(found, s.describeCUDA(f, 0))
			}
		}
	}
	for _, site := range s.sitePackages() {
		for _, major := range []int{12, 13} {
			f := filepath.Join(site, "jax_plugins", "xla_cuda"+strconv.Itoa(major), "xla_cuda_plugin.so")
			if s.isSharedLib(f) {
				found = append(found, s.describeCUDA(f, major))
			}
		}
	}
	return dedupePlugins(found)
}

// findCPUPlugin returns the first XLA CPU plugin in the plugin folders or LD_LIBRARY_PATH.
func (s system) findCPUPlugin() (plugin, bool) {
	f, ok := plugins.FindCPU(s.root, plugins.CPUFolders(s.getenv))
	return plugin{file: f}, ok
}

// describeCUDA finds the NVIDIA libraries that go with a CUDA plugin: an "nvidia" folder holding
// the plugin (GoMLX's layout) or one or two levels above it (the layout of Python packages).
func (s system) describeCUDA(file string, major int) plugin {
	p := plugin{file: file, cuda: major}
	dir := filepath.Dir(file)
	var nvidia string
	for _, d := range []string{dir, filepath.Join(dir, "../nvidia"), filepath.Join(dir, "../../nvidia")} {
		if filepath.Base(d) == "nvidia" && s.isDir(d) {
			nvidia = d
			break
		}
	}
	if nvidia == "" {
		return p
	}
	for _, lib := range s.glob(filepath.Join(nvidia, "*/lib")) {
		if s.isDir(lib) {
			p.libDirs = append(p.libDirs, lib)
		}
	}
	if p.cuda == 0 {
		switch {
		case s.isDir(filepath.Join(nvidia, "cu13")):
			p.cuda = 13
		case s.isDir(filepath.Join(nvidia, "cuda_nvcc")), s.isDir(filepath.Join(nvidia, "cuda_runtime")):
			p.cuda = 12
		}
	}
	for _, d := range []string{filepath.Join(nvidia, "cuda_nvcc"), filepath.Join(nvidia, "cu13"), nvidia} {
		if s.isDir(filepath.Join(d, "bin")) || s.isDir(filepath.Join(d, "nvvm")) {
			p.dataDir = d
			break
		}
	}
	return p
}

// pickCUDA chooses among the CUDA plugins found: the first one, except that when the driver is
// known to predate CUDA 13 (major version under 580) a CUDA 12 plugin is preferred, and when it
// supports CUDA 13 a CUDA 13 plugin is.
func pickCUDA(found []plugin, driver int) plugin {
	if driver > 0 {
		want := 12
		if driver >= 580 {
			want = 13
		}
		for _, p := range found {
			if p.cuda == want {
				return p
			}
		}
	}
	return found[0]
}

// dedupePlugins drops plugins whose file was already found through another folder.
func dedupePlugins(found []plugin) []plugin {
	seen := make(map[string]bool, len(found))
	out := found[:0:0]
	for _, p := range found {
		if !seen[p.file] {
			seen[p.file] = true
			out = append(out, p)
		}
	}
	return out
}

// compareVersioned orders paths so that "python3.12" comes before "python3.9": runs of digits are
// compared as numbers, larger first; the rest alphabetically.
func compareVersioned(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, _ := strconv.Atoi(da)
			nb, _ := strconv.Atoi(db)
			if na != nb {
				return nb - na
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

// leadingDigits returns the run of ASCII digits s starts with.
func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
