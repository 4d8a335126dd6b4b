package report

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteChart draws the proxy rows as two horizontal bar charts, one above
// the other: closed-loop requests/s and fixed-rate p99 latency.
func (rep *Report) WriteChart(path string) error {
	if len(rep.Proxy) == 0 {
		return fmt.Errorf("write chart: no proxy rows")
	}
	// Bars are drawn bottom-up; reverse so the table order reads top-down.
	rows := slices.Clone(rep.Proxy)
	slices.Reverse(rows)
	names := make([]string, len(rows))
	latNames := make([]string, len(rows)) // rows at their own rate say so
	rps := make(plotter.Values, len(rows))
	p99 := make(plotter.Values, len(rows))
	for i, r := range rows {
		names[i] = r.Name
		latNames[i] = r.Name
		if r.FixedRate != rep.Settings.FixedRate {
			latNames[i] = fmt.Sprintf("%s (at %d/s)", r.Name, r.FixedRate)
		}
		rps[i] = r.RPS.Median
		p99[i] = r.P99.Median
	}
	top, err := barPlot(
		fmt.Sprintf("Requests/s, closed loop (%s, %d connections; median of %d)", rep.Settings.LoadTool, rep.Settings.Connections, rep.Settings.Runs),
		"requests/s", names, rps, color.RGBA{R: 0x2b, G: 0x6c, B: 0xb0, A: 0xff})
	if err != nil {
		return err
	}
	bottom, err := barPlot(
		fmt.Sprintf("p99 latency, open loop at %d req/s (vegeta; median of runs)", rep.Settings.FixedRate),
		"milliseconds", latNames, p99, color.RGBA{R: 0xd9, G: 0x6b, B: 0x1e, A: 0xff})
	if err != nil {
		return err
	}
	const w, h = 20 * vg.Centimeter, 8 * vg.Centimeter
	img := vgsvg.New(w, 2*h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 6}
	canvases := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])

	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.Create(path) // #nosec G304 -- the bench's own output path
	if err != nil {
		return fmt.Errorf("create chart: %w", err)
	}
	if _, err := img.WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write chart: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close chart: %w", err)
	}
	return nil
}

func barPlot(title, unit string, names []string, vals plotter.Values, c color.Color) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = unit
	p.X.Min = 0
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return nil, fmt.Errorf("bar chart %q: %w", title, err)
	}
	bars.Horizontal = true
	bars.Color = c
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars)
	// The value at the end of each bar: the chart is read for figures too.
	xys := plotter.XYLabels{XYs: make(plotter.XYs, len(vals)), Labels: make([]string, len(vals))}
	for i, v := range vals {
		xys.XYs[i] = plotter.XY{X: v, Y: float64(i)}
		xys.Labels[i] = label(v)
	}
	labels, err := plotter.NewLabels(xys)
	if err != nil {
		return nil, fmt.Errorf("labels %q: %w", title, err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].YAlign = draw.YCenter
	}
	labels.Offset = vg.Point{X: vg.Points(3)}
	p.Add(labels)
	p.NominalY(names...)
	// Room on the right for the longest bar's label.
	maxV := 0.0
	for _, v := range vals {
		maxV = max(maxV, v)
	}
	p.X.Max = maxV * 1.15
	return p, nil
}

func label(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
