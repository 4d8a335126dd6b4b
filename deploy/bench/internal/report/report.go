package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/load"
	"github.com/portcullis/portcullis/deploy/bench/internal/stats"
)

// Report is everything one `make bench` run measured.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	Mode        string    `json:"mode"`
	Machine     Machine   `json:"machine"`
	Settings    Settings  `json:"settings"`
	// Proxy rows: upstream, bare-proxy, gateway-*, stateful-db-*.
	Proxy []Row `json:"proxy"`
	// Token rows: one per grant and signing algorithm, then JWKS.
	Tokens     []Row `json:"tokens"`
	GatewayRSS *RSS  `json:"gateway_rss,omitempty"`
	// BareRSS is the same measurement of bare-proxy, for comparison.
	BareRSS    *RSS           `json:"bare_proxy_rss,omitempty"`
	TokenSizes []TokenSize    `json:"token_sizes,omitempty"`
	Micro      []MicroBench   `json:"micro_benchmarks,omitempty"`
	Targets    []TargetResult `json:"targets"`
	// Skipped lists what could not be measured in this run, and why.
	Skipped []string `json:"skipped,omitempty"`
}

// Machine describes where the figures were taken.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	Kernel    string `json:"kernel"`
	// Load averages (1, 5, 15 min) when the run started and ended: the
	// machine is shared, and a high figure means other work competed for
	// the two cores during the run.
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end"`
}

// Settings are the load generator settings shared by every row.
type Settings struct {
	LoadTool         string        `json:"load_tool"` // closed-loop tool: wrk or vegeta-closed
	Connections      int           `json:"connections"`
	Threads          int           `json:"threads"`
	Duration         time.Duration `json:"duration_ns"`
	Warmup           time.Duration `json:"warmup_ns"`
	Runs             int           `json:"runs"`
	FixedRate        int           `json:"fixed_rate"` // open-loop rate for the latency figures
	OpenDuration     time.Duration `json:"open_duration_ns"`
	TokenWorkers     int           `json:"token_workers"`
	TokenDuration    time.Duration `json:"token_duration_ns"`
	GatewayUsers     int           `json:"gateway_users"` // distinct users (and tokens) in the gateway-roles pool
	StatefulSessions int           `json:"stateful_sessions"`
}

// Row is one configuration, run Settings.Runs times.
type Row struct {
	Name        string `json:"name"`
	Algorithm   string `json:"algorithm,omitempty"` // token rows
	Description string `json:"description"`
	// RPS is closed-loop requests (or tokens) per second.
	RPS stats.Summary `json:"rps"`
	// Latency percentiles in milliseconds: from the fixed-rate run for
	// proxy rows, from the closed loop for token rows.
	P50  stats.Summary `json:"p50_ms"`
	P99  stats.Summary `json:"p99_ms"`
	P999 stats.Summary `json:"p999_ms"`
	// FixedRate is the open-loop rate the latency was measured at (proxy
	// rows): Settings.FixedRate (a quarter of bare-proxy's maximum), or a
	// quarter of the row's own maximum when the common rate is over a third
	// of it.
	FixedRate int   `json:"fixed_rate,omitempty"`
	Errors    int64 `json:"errors"`
	// Ratio is RPS.Median over the reference's (bare-proxy for proxy rows,
	// the fastest algorithm of the same grant for token rows).
	Ratio   float64 `json:"ratio"`
	RatioTo string  `json:"ratio_to"`
	Runs    []Run   `json:"runs"`
}

// Run is one repetition of a row.
type Run struct {
	Closed load.Result  `json:"closed"`
	Open   *load.Result `json:"open,omitempty"`
}

// RSS is the gateway's peak resident set under many connections.
type RSS struct {
	Connections int     `json:"connections"`
	VMHWMKiB    int64   `json:"vm_hwm_kib"`
	RPS         float64 `json:"rps"`
}

// TokenSize is the size of one access token.
type TokenSize struct {
	Grants int    `json:"grants"`
	Format string `json:"format"` // scoped or compact
	Bytes  int    `json:"bytes"`
}

// MicroBench is one `go test -bench` result.
type MicroBench struct {
	Package     string  `json:"package"`
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// TargetResult is one target of issue 8 checked against this run.
type TargetResult struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	// Status is PASS, MISS or N/A (not measurable in this run).
	Status string `json:"status"`
}

// Summarize fills the row's summaries from its runs. Latency comes from the
// open-loop runs when there are any.
func (r *Row) Summarize() {
	var rps, p50, p99, p999 []float64
	r.Errors = 0
	for _, run := range r.Runs {
		rps = append(rps, run.Closed.RPS)
		lat := run.Closed
		if run.Open != nil {
			lat = *run.Open
			r.Errors += run.Open.Errors
		}
		r.Errors += run.Closed.Errors
		p50 = append(p50, ms(lat.P50))
		p99 = append(p99, ms(lat.P99))
		p999 = append(p999, ms(lat.P999))
	}
	r.RPS = stats.Summarize(rps)
	r.P50 = stats.Summarize(p50)
	r.P99 = stats.Summarize(p99)
	r.P999 = stats.Summarize(p999)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Find returns the proxy or token row with name (and algorithm, for token
// rows), or nil.
func (rep *Report) Find(name, algorithm string) *Row {
	for i := range rep.Proxy {
		if rep.Proxy[i].Name == name {
			return &rep.Proxy[i]
		}
	}
	for i := range rep.Tokens {
		if rep.Tokens[i].Name == name && rep.Tokens[i].Algorithm == algorithm {
			return &rep.Tokens[i]
		}
	}
	return nil
}

// WriteJSON writes the report, indented, to path (creating its directory).
func (rep *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil { // #nosec G306 -- a published document
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
