package chart

import (
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"math"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/dlexp/dlexp/mlx/logs"
	"github.com/dlexp/dlexp/mlx/notebook"
)

// maxSymbols is the number of points of a series up to which each point gets a marker.
const maxSymbols = 40

// OptionJSON returns the chart as an ECharts option object in JSON, built with go-echarts.
// Gaps (NaN, infinite, or non-positive on a log axis) are ECharts' missing value "-".
func (c *Line) OptionJSON() ([]byte, error) {
	return c.optionJSON(true)
}

func (c *Line) optionJSON(animation bool) ([]byte, error) {
	line := charts.NewLine()

	xAxis := opts.XAxis{
		Type: "value", Name: c.xName, NameLocation: "middle", NameGap: 26,
		Min: "dataMin", Max: "dataMax",
	}
	if c.integerX() {
		xAxis.MinInterval = 1
	}
	yAxis := opts.YAxis{Type: "value", Name: c.yName, Scale: opts.Bool(true)}
	if c.logY {
		yAxis.Type = "log"
	}
	if !math.IsNaN(c.yMin) && !math.IsNaN(c.yMax) {
		yAxis.Min, yAxis.Max = c.yMin, c.yMax
	}
	line.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Title: c.title, Subtitle: c.subtitle}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		charts.WithGridOpts(opts.Grid{
			Left: "3%", Right: "4%", Top: "70", Bottom: "56", ContainLabel: opts.Bool(true),
		}),
		charts.WithXAxisOpts(xAxis),
		charts.WithYAxisOpts(yAxis),
		charts.WithAnimation(animation),
	)

	for _, s := range c.series {
		data := make([]opts.LineData, len(s.Y))
		for i, y := range s.Y {
			var v any = y
			if !c.plotted(y) {
				v = "-"
			}
			data[i] = opts.LineData{Value: []any{s.X[i], v}}
		}
		line.AddSeries(s.Name, data, charts.WithLineChartOpts(opts.LineChart{
			ShowSymbol: opts.Bool(len(s.Y) <= maxSymbols),
		}))
	}
	line.Validate()

	// The default escaping turns '<', '>' and '&' into \u00XX, which keeps the object safe
	// inside a <script> element.
	b, err := json.Marshal(line.JSON())
	if err != nil {
		return nil, fmt.Errorf("chart: encoding %q: %w", c.title, err)
	}
	return b, nil
}

// HTML returns the chart as an HTML snippet for a notebook cell: a <div> and the script that
// draws it with window.echarts, waiting up to 10 s for the library to arrive. It does not
// include the library itself (see LoaderHTML and EnsureLibrary).
func (c *Line) HTML() (string, error) {
	return c.snippet(notebook.NewID("dlexp-chart-"), true)
}

// snippet renders the chart into a div with the given DOM id.
func (c *Line) snippet(divID string, animation bool) (string, error) {
	option, err := c.optionJSON(animation)
	if err != nil {
		return "", err
	}
	id, _ := json.Marshal(divID)
	var b strings.Builder
	fmt.Fprintf(&b, "<div id=%q class=\"dlexp-chart\" style=\"width:%dpx;height:%dpx;"+
		"max-width:100%%;\"></div>\n", divID, c.width, c.height)
	fmt.Fprintf(&b, `<script type="text/javascript">
(function () {
  var id = %s;
  var option = %s;
  var tries = 0;
  function draw() {
    var el = document.getElementById(id);
    if (!el || !window.echarts) {
      if (++tries < 200) { setTimeout(draw, 50); return; }
      if (el) { el.style.height = "auto"; el.textContent = %s; }
      return;
    }
    var all = window.dlexpCharts = window.dlexpCharts || {};
    var old = all[id];
    if (old && !old.isDisposed() && old.getDom() !== el) { old.dispose(); }
    var chart = echarts.getInstanceByDom(el) || echarts.init(el);
    all[id] = chart;
    chart.setOption(option, true);
  }
  draw();
})();
</script>
`, id, option, jsString(noLibraryMessage))
	return b.String(), nil
}

// noLibraryMessage replaces a chart whose library never arrived.
const noLibraryMessage = "This chart could not be drawn: ECharts is not loaded in this page. " +
	"Run chart.ReloadLibrary() in a cell, or open the chart's saved HTML file."

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Page returns the chart as a standalone HTML document that draws with no notebook around it;
// the local ECharts library is inlined when found (about 1 MB), else loaded from CDNURL.
func (c *Line) Page() ([]byte, error) {
	snip, err := c.HTML()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(c.title))
	b.WriteString(LoaderHTML())
	b.WriteString("</head>\n<body>\n")
	b.WriteString(snip)
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String()), nil
}

// SaveHTML writes Page atomically to name (under out/ unless absolute) and returns the path.
func (c *Line) SaveHTML(name string) (string, error) {
	page, err := c.Page()
	if err != nil {
		return "", err
	}
	return notebook.SaveFile(name, page)
}

// Show displays the chart in the notebook cell, sending the ECharts library first if this
// kernel has not had it yet. Outside a notebook it saves the chart as HTML under out/ instead
// (named after the title) and logs where.
func (c *Line) Show() error {
	if !notebook.Active() {
		p, err := c.SaveHTML(c.fileName(".html"))
		if err != nil {
			return err
		}
		logs.Setup()
		slog.Info("chart: saved", "title", c.title, "path", p)
		return nil
	}
	snip, err := c.HTML()
	if err != nil {
		return err
	}
	EnsureLibrary()
	notebook.DisplayHTML(snip)
	return nil
}
