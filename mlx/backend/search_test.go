package backend

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// elf is the start of a shared object: enough for the search to take a file for a plugin.
const elf = "\x7fELF fake shared object"

// fakeMachine builds a folder tree standing for a machine's root and returns a system that
// sees it, with the given environment. Paths ending in "/" are folders; names ending in ".so"
// get ELF contents unless given; "-> target" makes a symbolic link.
func fakeMachine(t *testing.T, env map[string]string, paths ...string) system {
	t.Helper()
	root := t.TempDir()
	for _, p := range paths {
		full := filepath.Join(root, p)
		switch {
		case strings.Contains(p, " -> "):
			from, to, _ := strings.Cut(p, " -> ")
			full = filepath.Join(root, from)
			mustMkdir(t, filepath.Dir(full))
			if err := os.Symlink(filepath.Join(root, to), full); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(p, "/"):
			mustMkdir(t, full)
		default:
			mustMkdir(t, filepath.Dir(full))
			content := ""
			if strings.HasSuffix(p, ".so") {
				content = elf
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return system{root: root, lookup: func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// jaxCUDA12 is JAX's CUDA 12 plugin with its NVIDIA packages, as pip lays them out.
func jaxCUDA12(site string) []string {
	return []string{
		site + "/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
		site + "/jax_plugins/xla_cuda12/__init__.py",
		site + "/nvidia/cublas/lib/libcublas.so.12",
		site + "/nvidia/cuda_runtime/lib/libcudart.so.12",
		site + "/nvidia/cudnn/lib/libcudnn.so.9",
		site + "/nvidia/cuda_nvcc/bin/ptxas",
		site + "/nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc",
		site + "/nvidia/__init__.py",
	}
}

const home = "/home/ada"

var gpuDevices = []string{"/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"}

func TestChooseWithNothingFoundPicksCPU(t *testing.T) {
	s := fakeMachine(t, map[string]string{"HOME": home}, "/dev/null", home+"/")
	c := s.choose(true)
	if c.Config != "cpu" || c.GPU || c.Plugin != "" {
		t.Fatalf("got %+v, want cpu", c)
	}
	if !strings.Contains(c.Reason, "no CUDA PJRT plugin or GPU found") {
		t.Errorf("reason %q does not say what was missing", c.Reason)
	}
	if c.String() != "cpu (no CUDA PJRT plugin or GPU found)" {
		t.Errorf("String() = %q", c.String())
	}
}

func TestChooseFindsJAXPluginInSystemPythonAndGPU(t *testing.T) {
	site := "/usr/local/lib/python3.12/dist-packages"
	s := fakeMachine(t, map[string]string{"HOME": home}, append(jaxCUDA12(site), gpuDevices...)...)
	c := s.choose(true)
	plugin := site + "/jax_plugins/xla_cuda12/xla_cuda_plugin.so"
	if c.Config != "xla:"+plugin || c.Plugin != plugin || !c.GPU {
		t.Fatalf("got %+v, want xla on %s", c, plugin)
	}
	if c.Name() != "xla:cuda" {
		t.Errorf("Name() = %q, want xla:cuda", c.Name())
	}
	wantLibs := []string{
		site + "/nvidia/cublas/lib", site + "/nvidia/cuda_runtime/lib", site + "/nvidia/cudnn/lib",
	}
	if !slices.Equal(c.LibraryDirs, wantLibs) {
		t.Errorf("LibraryDirs = %q, want %q", c.LibraryDirs, wantLibs)
	}
	if c.CUDADir != site+"/nvidia/cuda_nvcc" {
		t.Errorf("CUDADir = %q", c.CUDADir)
	}
	if !strings.Contains(c.Reason, "/dev/nvidia0") || !strings.Contains(c.Reason, plugin) {
		t.Errorf("reason %q names neither the plugin nor the GPU", c.Reason)
	}
}

func TestChoosePrefersActiveVirtualEnvironment(t *testing.T) {
	venv := home + "/venvs/jax"
	sys := "/usr/lib/python3.11/site-packages"
	paths := append(jaxCUDA12(sys), jaxCUDA12(venv+"/lib/python3.12/site-packages")...)
	s := fakeMachine(t, map[string]string{"HOME": home, "VIRTUAL_ENV": venv},
		append(paths, gpuDevices...)...)
	c := s.choose(true)
	if !strings.HasPrefix(c.Plugin, venv+"/") {
		t.Fatalf("plugin %q is not the virtual environment's", c.Plugin)
	}
}

func TestChooseSearchesUserCondaAndPythonPathFolders(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		site string
	}{
		{"user", map[string]string{"HOME": home}, home + "/.local/lib/python3.10/site-packages"},
		{"conda", map[string]string{"CONDA_PREFIX": "/opt/env"}, "/opt/env/lib/python3.11/site-packages"},
		{"docker conda", nil, "/opt/conda/lib/python3.12/site-packages"},
		{"PYTHONPATH", map[string]string{"PYTHONPATH": "relative:/srv/py"}, "/srv/py"},
		{"debian", nil, "/usr/lib/python3/dist-packages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeMachine(t, tc.env, append(jaxCUDA12(tc.site), gpuDevices...)...)
			c := s.choose(true)
			if !strings.HasPrefix(c.Plugin, tc.site+"/") || !c.GPU {
				t.Fatalf("got %+v, want the plugin under %s", c, tc.site)
			}
		})
	}
}

func TestChooseFindsGoXLAInstallLayout(t *testing.T) {
	nv := home + "/.local/lib/go-xla/nvidia"
	s := fakeMachine(t, map[string]string{"HOME": home},
		nv+"/pjrt_c_api_cuda_plugin.so", nv+"/cuda_runtime/lib/libcudart.so.12",
		nv+"/cuda_nvcc/bin/ptxas", nv+"/bin/", "/proc/driver/nvidia/gpus/0000:01:00.0/")
	c := s.choose(true)
	if c.Plugin != nv+"/pjrt_c_api_cuda_plugin.so" || !c.GPU {
		t.Fatalf("got %+v", c)
	}
	if !slices.Equal(c.LibraryDirs, []string{nv + "/cuda_runtime/lib"}) {
		t.Errorf("LibraryDirs = %q", c.LibraryDirs)
	}
	if c.CUDADir != nv+"/cuda_nvcc" {
		t.Errorf("CUDADir = %q", c.CUDADir)
	}
}

func TestChooseSearchesPluginLibraryPathFirst(t *testing.T) {
	s := fakeMachine(t, map[string]string{"HOME": home, "PJRT_PLUGIN_LIBRARY_PATH": "/opt/pjrt"},
		append(jaxCUDA12("/usr/lib/python3.12/site-packages"),
			"/opt/pjrt/pjrt_c_api_cuda_plugin.so", "/dev/nvidia0")...)
	if c := s.choose(true); c.Plugin != "/opt/pjrt/pjrt_c_api_cuda_plugin.so" {
		t.Fatalf("got %+v", c)
	}
}

func TestChooseWithPluginButNoGPUPicksCPUAndSaysWhy(t *testing.T) {
	s := fakeMachine(t, nil, jaxCUDA12("/usr/lib/python3.12/site-packages")...)
	c := s.choose(true)
	if c.Config != "cpu" || c.GPU {
		t.Fatalf("got %+v, want cpu", c)
	}
	if !strings.Contains(c.Reason, "but no GPU") {
		t.Errorf("reason %q", c.Reason)
	}
}

func TestChooseWithGPUButNoPluginPicksCPUAndSaysWhy(t *testing.T) {
	c := fakeMachine(t, nil, gpuDevices...).choose(true)
	if c.Config != "cpu" || !strings.Contains(c.Reason, "GPU /dev/nvidia0 found, but no CUDA PJRT") {
		t.Fatalf("got %+v", c)
	}
}

func TestChooseRespectsHiddenGPUs(t *testing.T) {
	for _, v := range []string{"", "-1"} {
		s := fakeMachine(t, map[string]string{"CUDA_VISIBLE_DEVICES": v},
			append(jaxCUDA12("/usr/lib/python3.12/site-packages"), gpuDevices...)...)
		c := s.choose(true)
		if c.Config != "cpu" || !strings.Contains(c.Reason, "CUDA_VISIBLE_DEVICES") {
			t.Errorf("CUDA_VISIBLE_DEVICES=%q: got %+v", v, c)
		}
	}
}

func TestChooseWithoutCgoPicksCPUAndSaysWhy(t *testing.T) {
	s := fakeMachine(t, nil, append(jaxCUDA12("/usr/lib/python3.12/site-packages"), gpuDevices...)...)
	c := s.choose(false)
	if c.Config != "cpu" || !strings.Contains(c.Reason, "without cgo") {
		t.Fatalf("got %+v", c)
	}
}

func TestChooseIgnoresFilesThatAreNotSharedObjects(t *testing.T) {
	site := "/usr/lib/python3.12/site-packages"
	s := fakeMachine(t, nil, "/dev/nvidia0",
		site+"/jax_plugins/xla_cuda12/", // a folder named like nothing useful
		site+"/jax_plugins/xla_cuda13/xla_cuda_plugin.so -> /nowhere.so",
		"/usr/local/lib/go-xla/pjrt_c_api_cuda_plugin.so -> /usr/local/lib/go-xla/README",
		"/usr/local/lib/go-xla/README",
	)
	if c := s.choose(true); c.Config != "cpu" {
		t.Fatalf("got %+v, want cpu: a dangling link and a text file are no plugins", c)
	}
}

func TestChooseFollowsLinkToRealPlugin(t *testing.T) {
	s := fakeMachine(t, nil, "/dev/nvidia0", "/opt/cuda/xla_cuda_plugin.so",
		"/usr/local/lib/go-xla/pjrt_c_api_cuda_plugin.so -> /opt/cuda/xla_cuda_plugin.so")
	if c := s.choose(true); c.Plugin != "/usr/local/lib/go-xla/pjrt_c_api_cuda_plugin.so" {
		t.Fatalf("got %+v", c)
	}
}

func TestChoosePicksCUDAVersionTheDriverRuns(t *testing.T) {
	site := "/usr/lib/python3.12/site-packages"
	both := append(jaxCUDA12(site), site+"/jax_plugins/xla_cuda13/xla_cuda_plugin.so",
		site+"/nvidia/cu13/lib/libcublas.so.13", "/dev/nvidia0")
	for _, tc := range []struct {
		version string
		want    string
	}{
		{"NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar 5 2024\n", "xla_cuda12"},
		{"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build\n",
			"xla_cuda13"},
		{"", "xla_cuda12"},
	} {
		s := fakeMachine(t, nil, both...)
		if tc.version != "" {
			f := filepath.Join(s.root, "proc/driver/nvidia/version")
			mustMkdir(t, filepath.Dir(f))
			if err := os.WriteFile(f, []byte(tc.version), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if c := s.choose(true); !strings.Contains(c.Plugin, tc.want) {
			t.Errorf("driver %q: plugin %q, want %s", tc.version, c.Plugin, tc.want)
		}
	}
}

func TestChooseFindsXLACPUPlugin(t *testing.T) {
	s := fakeMachine(t, map[string]string{"HOME": home},
		home+"/.local/lib/go-xla/pjrt_c_api_cpu_plugin.so")
	c := s.choose(true)
	plugin := home + "/.local/lib/go-xla/pjrt_c_api_cpu_plugin.so"
	if c.Config != "xla:"+plugin+",shared_buffers" || c.GPU || c.Name() != "xla:cpu" {
		t.Fatalf("got %+v (name %s)", c, c.Name())
	}
	if c := s.choose(false); c.Config != "cpu" {
		t.Fatalf("without cgo got %+v, want cpu", c)
	}
}

func TestChooseFindsXLACPUPluginOnLibraryPath(t *testing.T) {
	s := fakeMachine(t, map[string]string{"LD_LIBRARY_PATH": "/opt/xla/lib"},
		"/opt/xla/lib/pjrt_c_api_cpu_plugin.so")
	if c := s.choose(true); c.Plugin != "/opt/xla/lib/pjrt_c_api_cpu_plugin.so" {
		t.Fatalf("got %+v", c)
	}
}

func TestEnvironmentVariableWins(t *testing.T) {
	s := fakeMachine(t, map[string]string{"GOMLX_BACKEND": "go"},
		append(jaxCUDA12("/usr/lib/python3.12/site-packages"), gpuDevices...)...)
	c := s.choose(true)
	if c.Config != "go" || !c.fromEnv || c.Reason != "GOMLX_BACKEND=go" || c.Name() != "go" {
		t.Fatalf("got %+v", c)
	}
}

func TestEnvironmentXLACUDAResolvesToPluginFound(t *testing.T) {
	site := "/usr/lib/python3.12/site-packages"
	s := fakeMachine(t, map[string]string{"GOMLX_BACKEND": "xla:cuda,tf32"}, jaxCUDA12(site)...)
	c := s.choose(true)
	plugin := site + "/jax_plugins/xla_cuda12/xla_cuda_plugin.so"
	if c.Config != "xla:"+plugin+",tf32" || !c.GPU || !c.fromEnv || len(c.LibraryDirs) != 3 {
		t.Fatalf("got %+v", c)
	}
}

func TestEnvironmentXLACUDAWithoutPluginIsLeftToGoMLX(t *testing.T) {
	c := fakeMachine(t, map[string]string{"GOMLX_BACKEND": "xla:cuda"}).choose(true)
	if c.Config != "xla:cuda" || c.Plugin != "" || !c.fromEnv {
		t.Fatalf("got %+v", c)
	}
}

func TestEnvironmentXLACPUResolvesToPluginFound(t *testing.T) {
	s := fakeMachine(t, map[string]string{"GOMLX_BACKEND": "xla:cpu"},
		"/usr/local/lib/go-xla/pjrt_c_api_cpu_plugin.so")
	c := s.choose(true)
	if c.Config != "xla:/usr/local/lib/go-xla/pjrt_c_api_cpu_plugin.so,shared_buffers" {
		t.Fatalf("got %+v", c)
	}
}

func TestEnvironmentPluginPathGetsItsLibraries(t *testing.T) {
	site := "/usr/lib/python3.12/site-packages"
	plugin := site + "/jax_plugins/xla_cuda12/xla_cuda_plugin.so"
	s := fakeMachine(t, map[string]string{"GOMLX_BACKEND": "xla:" + plugin}, jaxCUDA12(site)...)
	c := s.choose(true)
	if c.Plugin != plugin || !c.GPU || c.CUDADir != site+"/nvidia/cuda_nvcc" {
		t.Fatalf("got %+v", c)
	}
}

func TestVersionedPathsSortNewestFirst(t *testing.T) {
	got := []string{"/usr/lib/python3.9", "/usr/lib/python3.12", "/usr/lib/python3.10", "/usr/lib/python3"}
	slices.SortFunc(got, compareVersioned)
	want := []string{"/usr/lib/python3", "/usr/lib/python3.12", "/usr/lib/python3.10", "/usr/lib/python3.9"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
