package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints the report as aligned text tables.
func (rep *Report) WriteTable(w io.Writer) error {
	s := rep.Settings
	var werr error
	section := func(title string, fill func(p func(format string, a ...any))) {
		if werr != nil {
			return
		}
		_, _ = fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fill(func(format string, a ...any) { _, _ = fmt.Fprintf(tw, format, a...) })
		if err := tw.Flush(); err != nil {
			werr = fmt.Errorf("write table: %w", err)
		}
	}
	section(fmt.Sprintf("Proxy rows: %s closed loop, %d connections, %v x %d runs (median, spread of req/s); latency from vegeta at a fixed rate",
		s.LoadTool, s.Connections, s.Duration, s.Runs), func(p func(string, ...any)) {
		p("configuration\treq/s\tspread\tratio\tfixed rate\tp50 ms\tp99 ms\tp99.9 ms\terrors\t\n")
		for _, r := range rep.Proxy {
			p("%s\t%.0f\t%.1f%%\t%.2fx\t%d/s\t%.2f\t%.2f\t%.2f\t%d\t\n",
				r.Name, r.RPS.Median, r.RPS.SpreadPct, r.Ratio, r.FixedRate, r.P50.Median, r.P99.Median, r.P999.Median, r.Errors)
		}
	})
	if len(rep.Tokens) > 0 {
		section(fmt.Sprintf("Auth server: %d workers, closed loop, %v x %d runs (median, spread); latency from the same runs",
			s.TokenWorkers, s.TokenDuration, s.Runs), func(p func(string, ...any)) {
			p("grant\talgorithm\ttokens/s\tspread\tratio\tp50 ms\tp99 ms\tp99.9 ms\terrors\t\n")
			for _, r := range rep.Tokens {
				p("%s\t%s\t%.0f\t%.1f%%\t%.2fx\t%.2f\t%.2f\t%.2f\t%d\t\n",
					r.Name, r.Algorithm, r.RPS.Median, r.RPS.SpreadPct, r.Ratio, r.P50.Median, r.P99.Median, r.P999.Median, r.Errors)
			}
		})
	}
	if rep.GatewayRSS != nil {
		section("Gateway memory", func(p func(string, ...any)) {
			p("gateway peak RSS (VmHWM) at %d connections\t%.1f MiB\t(%.0f req/s)\t\n",
				rep.GatewayRSS.Connections, float64(rep.GatewayRSS.VMHWMKiB)/1024, rep.GatewayRSS.RPS)
			if b := rep.BareRSS; b != nil {
				p("bare-proxy peak RSS (VmHWM) at %d connections\t%.1f MiB\t(%.0f req/s)\t\n",
					b.Connections, float64(b.VMHWMKiB)/1024, b.RPS)
			}
		})
	}
	if len(rep.TokenSizes) > 0 {
		section("Access token size", func(p func(string, ...any)) {
			p("grants\tformat\tbytes\t\n")
			for _, t := range rep.TokenSizes {
				p("%d\t%s\t%d\t\n", t.Grants, t.Format, t.Bytes)
			}
		})
	}
	if len(rep.Micro) > 0 {
		section("Go micro-benchmarks", func(p func(string, ...any)) {
			p("package\tbenchmark\tns/op\tB/op\tallocs/op\t\n")
			for _, m := range rep.Micro {
				p("%s\t%s\t%.0f\t%.0f\t%.0f\t\n", m.Package, m.Name, m.NsPerOp, m.BytesPerOp, m.AllocsPerOp)
			}
		})
	}
	if werr != nil {
		return werr
	}
	_, _ = fmt.Fprintf(w, "\nLoad average: %s at the start, %s at the end (2 CPUs; above 2, other work competed with the bench)\n",
		rep.Machine.LoadStart, rep.Machine.LoadEnd)
	_, _ = fmt.Fprintf(w, "\nTargets (issue 8)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range rep.Targets {
		_, _ = fmt.Fprintf(tw, "%s\t%s\twant %s\tgot %s\n", t.Status, t.Name, t.Want, t.Got)
	}
	for _, s := range rep.Skipped {
		_, _ = fmt.Fprintf(tw, "SKIPPED\t%s\n", s)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
