package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// echartsMajor is the ECharts major version that go-echarts v2 charts are written for.
const echartsMajor = "5"

// echartsVersion returns the version of the ECharts package installed under the npm prefix
// of l, or "" when it or its script is missing.
func echartsVersion(l layout) string {
	if _, err := os.Stat(l.EChartsJS); err != nil {
		return ""
	}
	pkg := filepath.Join(l.NPM, "node_modules", "echarts", "package.json")
	data, err := os.ReadFile(pkg)
	if err != nil {
		return ""
	}
	var meta struct{ Version string }
	if json.Unmarshal(data, &meta) != nil {
		return ""
	}
	return meta.Version
}

// errNoNPM reports that npm is not installed.
var errNoNPM = errors.New("npm not found")

// installECharts installs ECharts from npm under the npm prefix of l.
func installECharts(l layout) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errNoNPM
	}
	if err := os.MkdirAll(l.NPM, 0o755); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	cmd := exec.Command(npm, "install", "--prefix", l.NPM, "--no-audit", "--no-fund",
		"--loglevel=error", "echarts@"+echartsMajor)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kernel: npm install echarts@%s: %w\n%s", echartsMajor, err,
			strings.TrimSpace(out.String()))
	}
	if echartsVersion(l) == "" {
		return fmt.Errorf("kernel: npm installed echarts but %s is missing", l.EChartsJS)
	}
	return nil
}
