package main

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlexp/dlexp/mlx/notebook"
)

// baselines are the metrics.json prefixes of the reference answers an image-to-image model
// is compared with, and how the headline names them.
var baselines = []struct{ prefix, label string }{
	{"noisy", "noisy input"},
	{"mean_image", "mean image"},
	{"nearest", "repeated pixels"},
	{"bicubic", "bicubic"},
}

// headline writes the numbers that matter from a notebook's metrics.json in one line:
// PSNR and SSIM beside their baselines, or global accuracy and mean IoU.
func headline(m map[string]any) string {
	num := func(key string) (float64, bool) {
		v, ok := m[key].(float64)
		return v, ok && !math.IsNaN(v)
	}
	var parts []string
	if psnr, ok := num("psnr"); ok {
		s := fmt.Sprintf("PSNR %.2f dB", psnr)
		if ssim, ok := num("ssim"); ok {
			s += fmt.Sprintf(", SSIM %.3f", ssim)
		}
		var refs []string
		for _, b := range baselines {
			p, okP := num(b.prefix + "_psnr")
			q, okQ := num(b.prefix + "_ssim")
			if okP && okQ {
				refs = append(refs, fmt.Sprintf("%s %.2f dB / %.3f", b.label, p, q))
			}
		}
		if len(refs) > 0 {
			s += " (" + strings.Join(refs, "; ") + ")"
		}
		parts = append(parts, s)
	}
	if acc, ok := num("accuracy"); ok {
		s := fmt.Sprintf("accuracy %.3f", acc)
		if _, ok := num("walkable_accuracy"); ok {
			s = "full classes: " + s
		}
		if iou, ok := num("mean_iou"); ok {
			s += fmt.Sprintf(", mean IoU %.3f", iou)
		}
		if b, ok := num("background_only_accuracy"); ok {
			s += fmt.Sprintf(" (all background: %.3f", b)
			if bi, ok := num("background_only_mean_iou"); ok {
				s += fmt.Sprintf(", %.3f", bi)
			}
			s += ")"
		}
		parts = append(parts, s)
	}
	if acc, ok := num("walkable_accuracy"); ok {
		s := fmt.Sprintf("walkable: accuracy %.3f", acc)
		if iou, ok := num("walkable_mean_iou"); ok {
			s += fmt.Sprintf(", mean IoU %.3f", iou)
		}
		parts = append(parts, s)
	}
	if note, ok := m["headline_note"].(string); ok && len(parts) > 0 {
		parts[0] = note + ": " + parts[0]
	}
	return strings.Join(parts, "; ")
}

// index is the page linking every run.
type index struct {
	Size    string
	Backend string
	Time    time.Time
	Wall    time.Duration
	Results []result
	Skipped []skip
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"link":     func(dir, file string) string { return filepath.ToSlash(filepath.Join(dir, file)) },
	"headline": func(r result) string { return headline(r.Metrics) },
	"round":    func(d time.Duration) time.Duration { return d.Round(time.Second) },
	"thumbnail": func(r result) string {
		if len(r.Pictures) == 0 {
			return ""
		}
		return filepath.ToSlash(filepath.Join(r.Dir, r.Pictures[0])) // a GIF when there is one
	},
	"status": func(r result) string {
		switch {
		case r.Err != nil:
			return "failed: " + firstLine(r.Err).Error()
		case len(r.problems) > 0:
			return "failed: " + strings.Join(r.problems, "; ")
		}
		return "ok"
	},
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>dlexp: reproduced experiments</title>
<style>
body { font: 14px/1.4 sans-serif; margin: 24px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 6px 10px; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
td.failed { color: #b00; }
img.anim { max-height: 120px; image-rendering: pixelated; }
</style></head>
<body>
<h1>dlexp: reproduced experiments</h1>
<p>Size <b>{{.Size}}</b>, backend {{.Backend}}; started {{.Time.Format "2006-01-02 15:04"}},
{{len .Results}} runs in {{round .Wall}}.</p>
<table>
<tr><th>notebook</th><th>dataset</th><th>result</th><th>picture</th><th>files</th>
<th>time</th></tr>
{{range .Results}}{{$r := .}}<tr>
<td>{{if .HTML}}<a href="{{link .Dir .HTML}}">{{.Notebook}}</a>{{else}}{{.Notebook}}{{end}}</td>
<td>{{.Dataset}}</td>
{{$s := status .}}{{if eq $s "ok"}}<td>{{headline .}}</td>{{else}}<td class="failed">{{$s}}</td>{{end}}
<td>{{with thumbnail .}}<a href="{{.}}"><img class="anim" src="{{.}}" alt="picture"></a>{{end}}</td>
<td>{{if .Executed}}<a href="{{link .Dir .Executed}}">{{.Executed}}</a><br>{{end}}
{{- range .Pictures}}<a href="{{link $r.Dir .}}">{{.}}</a><br>{{end}}
{{- range .Pages}}<a href="{{link $r.Dir .}}">{{.}}</a><br>{{end}}
{{- if .MetricsFile}}<a href="{{link .Dir .MetricsFile}}">{{.MetricsFile}}</a>{{end}}</td>
<td>{{round .Wall}}</td>
</tr>
{{end}}</table>
{{if .Skipped}}<h2>Left out</h2>
<ul>{{range .Skipped}}<li><b>{{.Dataset}}</b>: {{.Why}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// write renders the index as index.html in dir and returns its path.
func (idx index) write(dir string) (string, error) {
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, idx); err != nil {
		return "", fmt.Errorf("reproduce: index: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("reproduce: %w", err)
	}
	path := filepath.Join(dir, "index.html")
	if err := notebook.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return "", fmt.Errorf("reproduce: index: %w", err)
	}
	return path, nil
}
