// Package notebook reads and writes Jupyter notebooks (nbformat 4) and checks the outputs
// of executed ones for the signs of a failed cell, an inline GIF and an ECharts chart.
//
// A Go kernel answers "ok" for a cell whose program panicked, and outputs of different
// kinds arrive in any order, so the checks read every output of every cell.
package notebook

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"regexp"
	"strings"
)

// Notebook is the part of an nbformat 4 notebook that the checks read.
type Notebook struct {
	Cells []Cell `json:"cells"`
}

// Cell is one notebook cell.
type Cell struct {
	CellType string   `json:"cell_type"`
	Source   Text     `json:"source"`
	Outputs  []Output `json:"outputs"`
}

// Output is one output of a code cell: a stream, display data, an execution result or an
// error.
type Output struct {
	// OutputType is "stream", "display_data", "execute_result" or "error".
	OutputType string `json:"output_type"`

	// Name and Text are set on streams: Name is "stdout" or "stderr".
	Name string `json:"name,omitempty"`
	Text Text   `json:"text,omitempty"`

	// Data maps a MIME type to its content, on display data and execution results.
	Data map[string]json.RawMessage `json:"data,omitempty"`

	// EName, EValue and Traceback are set on errors.
	EName     string   `json:"ename,omitempty"`
	EValue    string   `json:"evalue,omitempty"`
	Traceback []string `json:"traceback,omitempty"`
}

// Text is a multi-line string, stored in a notebook either as one string or as a list of
// strings that are joined.
type Text string

// UnmarshalJSON accepts a string or a list of strings.
func (t *Text) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*t = Text(s)
		return nil
	}
	var parts []string
	if err := json.Unmarshal(data, &parts); err != nil {
		return fmt.Errorf("notebook: text is neither a string nor a list of strings: %w", err)
	}
	*t = Text(strings.Join(parts, ""))
	return nil
}

// Read parses the notebook file at path.
func Read(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("notebook: %w", err)
	}
	nb, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return nb, nil
}

// Parse parses a notebook from its JSON text.
func Parse(data []byte) (*Notebook, error) {
	var nb Notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("notebook: %w", err)
	}
	return &nb, nil
}

// DataText returns the content of output o for MIME type mime as text, and whether o has
// that type. JSON content (application/json) is returned as its JSON text.
func (o Output) DataText(mime string) (string, bool) {
	raw, ok := o.Data[mime]
	if !ok {
		return "", false
	}
	var t Text
	if err := json.Unmarshal(raw, &t); err != nil {
		return string(raw), true
	}
	return string(t), true
}

// Problem is a sign that a cell failed.
type Problem struct {
	// Cell is the index of the cell in the notebook, from 0.
	Cell int
	// What says what was found, with an excerpt of the output.
	What string
	// Detail is the text of the kernel's error report for the cell, when it sent one.
	Detail string
}

// String returns the problem on one line, without its detail.
func (p Problem) String() string { return fmt.Sprintf("cell %d: %s", p.Cell, p.What) }

// errorReportMark is in the HTML report GoNB shows for a cell that does not build.
const errorReportMark = "gonb-err"

// failureMarks are texts that only a failing program or build writes to its output.
var failureMarks = []string{"panic:", "exit status"}

// Problems lists the signs of failure in the outputs: error outputs, and streams or text
// outputs that carry a panic or a non-zero exit status.
func (nb *Notebook) Problems() []Problem {
	var found []Problem
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.OutputType == "error" {
				what := fmt.Sprintf("error output %s: %s", o.EName, excerpt(o.EValue, 0))
				found = append(found, Problem{Cell: i, What: what, Detail: c.errorReport()})
				continue
			}
			if html, _ := o.DataText("text/html"); strings.Contains(html, errorReportMark) {
				continue // Reported with the error output that comes with it.
			}
			for _, text := range o.texts() {
				for _, mark := range failureMarks {
					if at := strings.Index(text, mark); at >= 0 {
						what := fmt.Sprintf("%q in output: %s", mark, excerpt(text, at))
						found = append(found, Problem{Cell: i, What: what})
					}
				}
			}
		}
	}
	return found
}

// errorReport returns the plain text of the error reports among the cell's HTML outputs.
func (c Cell) errorReport() string {
	var reports []string
	for _, o := range c.Outputs {
		if html, _ := o.DataText("text/html"); strings.Contains(html, errorReportMark) {
			reports = append(reports, htmlText(html))
		}
	}
	return strings.Join(reports, "\n")
}

var (
	styleRE = regexp.MustCompile(`(?is)<style.*?</style>`)
	breakRE = regexp.MustCompile(`(?i)<br\s*/?>`)
	tagRE   = regexp.MustCompile(`<[^>]*>`)
)

// htmlText returns the text of an HTML fragment: styles and tags dropped, line breaks kept,
// blank lines removed.
func htmlText(s string) string {
	s = styleRE.ReplaceAllString(s, "")
	s = breakRE.ReplaceAllString(s, "\n")
	s = html.UnescapeString(tagRE.ReplaceAllString(s, ""))
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, " \t\r"); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// texts returns the textual content of o that a failure could show up in.
func (o Output) texts() []string {
	if o.OutputType == "stream" {
		return []string{string(o.Text)}
	}
	var out []string
	for _, mime := range []string{"text/plain", "text/html", "text/markdown"} {
		if s, ok := o.DataText(mime); ok {
			out = append(out, s)
		}
	}
	return out
}

// excerpt returns up to a few hundred characters of s around position at, on one line.
func excerpt(s string, at int) string {
	const before, after = 80, 240
	start := max(0, at-before)
	end := min(len(s), at+after)
	e := strings.Join(strings.Fields(s[start:end]), " ")
	if start > 0 {
		e = "..." + e
	}
	if end < len(s) {
		e += "..."
	}
	return e
}

// HasGIF reports whether a cell shows an inline GIF, as image/gif data or as an HTML image
// with a GIF data URL.
func (nb *Notebook) HasGIF() bool {
	return nb.anyOutput(func(o Output) bool {
		if _, ok := o.Data["image/gif"]; ok {
			return true
		}
		html, _ := o.DataText("text/html")
		return strings.Contains(html, "data:image/gif")
	})
}

// HasChart reports whether a cell shows an ECharts chart: HTML output that initialises one.
func (nb *Notebook) HasChart() bool {
	return nb.anyOutput(func(o Output) bool {
		html, _ := o.DataText("text/html")
		return strings.Contains(html, "echarts.init")
	})
}

func (nb *Notebook) anyOutput(match func(Output) bool) bool {
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if match(o) {
				return true
			}
		}
	}
	return false
}

// New returns the JSON text of a new notebook whose code cells hold the given sources, set
// to run on the kernel named kernelName (display name displayName).
func New(kernelName, displayName string, sources ...string) ([]byte, error) {
	type cell struct {
		CellType       string         `json:"cell_type"`
		ExecutionCount *int           `json:"execution_count"`
		Metadata       map[string]any `json:"metadata"`
		Outputs        []any          `json:"outputs"`
		Source         []string       `json:"source"`
	}
	cells := make([]cell, 0, len(sources))
	for _, src := range sources {
		cells = append(cells, cell{
			CellType: "code",
			Metadata: map[string]any{},
			Outputs:  []any{},
			Source:   splitLines(src),
		})
	}
	nb := map[string]any{
		"cells": cells,
		"metadata": map[string]any{
			"kernelspec": map[string]string{
				"name": kernelName, "display_name": displayName, "language": "go",
			},
			"language_info": map[string]string{"name": "go", "file_extension": ".go"},
		},
		"nbformat":       4,
		"nbformat_minor": 4,
	}
	data, err := json.MarshalIndent(nb, "", " ")
	if err != nil {
		return nil, fmt.Errorf("notebook: %w", err)
	}
	return append(data, '\n'), nil
}

// splitLines splits s the way nbformat stores sources: lines keep their newline.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
