package orchestrator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/load"
	"github.com/portcullis/portcullis/deploy/bench/internal/procs"
	"github.com/portcullis/portcullis/deploy/bench/internal/report"
)

// Config is what the command line sets.
type Config struct {
	Mode        string // full or quick
	Root        string // repository root
	Self        string // this executable, started again for bench-own configurations
	PostgresDSN string // empty: skip stateful-db on PostgreSQL
	FixedRate   int    // 0: derived from bare-proxy
	NoWrk       bool
	// Out receives results.json and gateway.svg; empty means docs/bench in
	// full mode and nowhere in quick mode (a quick run's figures are too
	// short to publish).
	Out    string
	Stdout io.Writer
	Log    *slog.Logger
}

// plan is the shape of a run: how long, how often, how many.
type plan struct {
	runs          int
	warmup        time.Duration
	closed        time.Duration // closed-loop duration per run
	open          time.Duration // fixed-rate duration per run
	conns         int
	threads       int
	tokenWorkers  int
	tokenDuration time.Duration
	tokenWarmup   time.Duration
	grants        []string // token grants measured
	gatewayUsers  int
	sessions      int
	algorithms    []algorithm
	rssConns      int
	rssDuration   time.Duration
	benchtime     string // "" skips the micro-benchmarks
	tokenSizes    bool
}

type algorithm struct {
	name    string // as reported: EdDSA, ES256, RS256-2048, RS256-4096
	keysAlg string // keys.algorithm
	rsaBits int
}

// DefaultAlgorithm is the auth server's default (keys.algorithm).
const DefaultAlgorithm = "EdDSA"

var allAlgorithms = []algorithm{
	{"EdDSA", "EdDSA", 0},
	{"ES256", "ES256", 0},
	{"RS256-2048", "RS256", 2048},
	{"RS256-4096", "RS256", 4096},
}

func planFor(mode string) (plan, error) {
	switch mode {
	case "full":
		return plan{
			runs: 3, warmup: time.Second, closed: 3 * time.Second, open: 3 * time.Second,
			conns: 64, threads: 2,
			tokenWorkers: 8, tokenDuration: 2 * time.Second, tokenWarmup: 500 * time.Millisecond,
			grants:       []string{report.GrantClientCreds, report.GrantRefresh, report.GrantPassword},
			gatewayUsers: 64, sessions: 1000,
			algorithms: allAlgorithms,
			rssConns:   1000, rssDuration: 3 * time.Second,
			benchtime: "200ms", tokenSizes: true,
		}, nil
	case "quick":
		return plan{
			runs: 3, warmup: 500 * time.Millisecond, closed: time.Second, open: time.Second,
			conns: 64, threads: 2,
			tokenWorkers: 8, tokenDuration: time.Second, tokenWarmup: 300 * time.Millisecond,
			// The password grant runs argon2id at production cost: too slow
			// for a quick run.
			grants:       []string{report.GrantClientCreds, report.GrantRefresh},
			gatewayUsers: 20, sessions: 200,
			algorithms: []algorithm{allAlgorithms[0], allAlgorithms[3]},
			rssConns:   1000, rssDuration: 2 * time.Second,
		}, nil
	default:
		return plan{}, fmt.Errorf("-mode %q: want full or quick", mode)
	}
}

// orch is one run in progress.
type orch struct {
	cfg   Config
	plan  plan
	log   *slog.Logger
	group *procs.Group
	tmp   string
	wrk   string // path of wrk, "" for vegeta
	rate  int    // fixed rate for latency runs
	rep   *report.Report

	upstreamURL string
}

// Run performs the benchmark, prints the table and writes the results.
func Run(ctx context.Context, cfg Config) error {
	p, err := planFor(cfg.Mode)
	if err != nil {
		return err
	}
	start := time.Now()
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return fmt.Errorf("root: %w", err)
	}
	cfg.Root = root
	tmp, err := os.MkdirTemp("", "portcullis-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	raiseFileLimit(cfg.Log)

	o := &orch{cfg: cfg, plan: p, log: cfg.Log, tmp: tmp, rate: cfg.FixedRate,
		group: &procs.Group{Log: cfg.Log, Dir: tmp}}
	defer o.group.StopAll()
	if !cfg.NoWrk {
		o.wrk = load.WrkPath()
	}
	tool := "wrk"
	if o.wrk == "" {
		tool = "vegeta-closed"
		cfg.Log.Warn("wrk not installed (apt-get install wrk): using vegeta for the closed loop")
	}
	o.rep = &report.Report{
		GeneratedAt: start.UTC(),
		Mode:        cfg.Mode,
		Machine:     machine(),
		Settings: report.Settings{
			LoadTool: tool, Connections: p.conns, Threads: p.threads, Duration: p.closed, OpenDuration: p.open, Warmup: p.warmup,
			Runs: p.runs, TokenWorkers: p.tokenWorkers, TokenDuration: p.tokenDuration,
			GatewayUsers: p.gatewayUsers, StatefulSessions: p.sessions,
		},
	}

	if err := o.proxyRows(ctx); err != nil {
		return err
	}
	if err := o.tokenRows(ctx); err != nil {
		return err
	}
	o.group.StopAll()
	allocs := report.Allocs{Cached: -1, Public: -1, Bare: -1}
	if p.benchtime != "" {
		allocs = o.microBenchmarks(ctx)
	} else {
		o.skip("micro-benchmarks: not run in quick mode")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}

	o.rep.Machine.LoadEnd = loadAvg()
	o.rep.Settings.FixedRate = o.rate
	o.rep.ComputeRatios()
	o.rep.CheckTargets(DefaultAlgorithm, allocs)
	if err := o.rep.WriteTable(cfg.Stdout); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(cfg.Stdout, "\nbench took %v\n", time.Since(start).Round(time.Second))
	if failed := o.rep.Failed(); len(failed) > 0 {
		// Figures from a run with errors measure error handling, not the
		// configuration: refuse to publish them.
		path := filepath.Join(tmp, "..", "portcullis-bench-failed.json")
		_ = o.rep.WriteJSON(path)
		return fmt.Errorf("requests failed, results not written to docs/bench (see %s):\n  %s", path, strings.Join(failed, "\n  "))
	}
	out := cfg.Out
	if out == "" && cfg.Mode == "full" {
		out = filepath.Join(root, "docs", "bench")
	}
	if out == "" {
		return nil
	}
	if err := o.rep.WriteJSON(filepath.Join(out, "results.json")); err != nil {
		return err
	}
	if err := o.rep.WriteChart(filepath.Join(out, "gateway.svg")); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(cfg.Stdout, "wrote %s and %s\n", filepath.Join(out, "results.json"), filepath.Join(out, "gateway.svg"))
	// The published run also refreshes the tables of docs/benchmarks.md.
	if out == filepath.Join(root, "docs", "bench") {
		doc := filepath.Join(root, "docs", "benchmarks.md")
		if err := o.rep.UpdateMarkdownFile(doc); err != nil {
			return err
		}
		_, _ = fmt.Fprintf(cfg.Stdout, "updated %s\n", doc)
	}
	return nil
}

func (o *orch) skip(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	o.log.Warn("skipped", "what", msg)
	o.rep.Skipped = append(o.rep.Skipped, msg)
}

// bin returns the path of a built binary under bin/, or "" if absent.
func (o *orch) bin(name string) string {
	p := filepath.Join(o.cfg.Root, "bin", name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return p
	}
	return ""
}

// raiseFileLimit lifts the soft open-file limit to the hard one, for this
// process and the children it starts (wrk at 1,000 connections).
func raiseFileLimit(log *slog.Logger) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			log.Warn("could not raise the open-file limit", "err", err)
		}
	}
}

func machine() report.Machine {
	m := report.Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.LoadStart = loadAvg()
	return m
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
