package notebook

import (
	"strings"
	"testing"
)

const executed = `{
 "cells": [
  {"cell_type": "markdown", "source": ["# Title\n"]},
  {"cell_type": "code", "source": "%%\nfmt.Println(1)", "outputs": [
    {"output_type": "stream", "name": "stdout", "text": ["1\n"]},
    {"output_type": "display_data", "data": {"text/html": ["<div id=\"c\"></div>",
      "<script>echarts.init(document.getElementById('c'))</script>"]}, "metadata": {}},
    {"output_type": "display_data", "data": {"image/gif": "R0lGODlh"}, "metadata": {}}
  ]},
  {"cell_type": "code", "source": "", "outputs": [
    {"output_type": "stream", "name": "stderr", "text": "panic: boom\n\ngoroutine 1 [running]:\n"},
    {"output_type": "error", "ename": "ERROR", "evalue": "exit status 2", "traceback": []}
  ]}
 ],
 "metadata": {}, "nbformat": 4, "nbformat_minor": 4
}`

func TestProblemsFindsPanicAndErrorOutputs(t *testing.T) {
	nb, err := Parse([]byte(executed))
	if err != nil {
		t.Fatal(err)
	}
	problems := nb.Problems()
	if len(problems) != 2 {
		t.Fatalf("got %d problems, want 2: %v", len(problems), problems)
	}
	for _, p := range problems {
		if p.Cell != 2 {
			t.Errorf("problem in cell %d, want cell 2: %v", p.Cell, p)
		}
	}
	if !strings.Contains(problems[0].String(), "panic: boom") {
		t.Errorf("first problem %q does not quote the panic", problems[0])
	}
}

func TestHasGIFAndChart(t *testing.T) {
	nb, err := Parse([]byte(executed))
	if err != nil {
		t.Fatal(err)
	}
	if !nb.HasGIF() || !nb.HasChart() {
		t.Errorf("HasGIF=%v HasChart=%v, want both true", nb.HasGIF(), nb.HasChart())
	}
	inline, err := Parse([]byte(`{"cells": [{"cell_type": "code", "source": "", "outputs": [
		{"output_type": "display_data",
		 "data": {"text/html": "<img src=\"data:image/gif;base64,R0lG\">"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !inline.HasGIF() || inline.HasChart() {
		t.Errorf("inline GIF: HasGIF=%v HasChart=%v", inline.HasGIF(), inline.HasChart())
	}
}

func TestNewRoundTrips(t *testing.T) {
	data, err := New("dlexp", "Go (dlexp)", "%%\nfmt.Println(\"hi\")\n", "")
	if err != nil {
		t.Fatal(err)
	}
	nb, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(nb.Cells) != 2 || string(nb.Cells[0].Source) != "%%\nfmt.Println(\"hi\")\n" {
		t.Fatalf("round trip gave %+v", nb.Cells)
	}
	if len(nb.Problems()) != 0 || nb.HasGIF() || nb.HasChart() {
		t.Errorf("a new notebook reports outputs")
	}
}

func TestProblemsCarryGoNBErrorReport(t *testing.T) {
	nb, err := Parse([]byte(`{"cells": [{"cell_type": "code", "source": "", "outputs": [
		{"output_type": "display_data", "data": {"text/html":
		 "<style>.gonb-err-location {}</style><div><span> failed: exit status 1</span><br/>` +
		`<span> cannot find module &amp; more</span></div>"}},
		{"output_type": "error", "ename": "ERROR", "evalue": "go get: exit status 1"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	problems := nb.Problems()
	if len(problems) != 1 {
		t.Fatalf("got %d problems, want only the error output: %v", len(problems), problems)
	}
	want := " failed: exit status 1\n cannot find module & more"
	if problems[0].Detail != want {
		t.Errorf("Detail = %q, want %q", problems[0].Detail, want)
	}
}
