package orchestrator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/load"
	"github.com/portcullis/portcullis/deploy/bench/internal/procs"
	"github.com/portcullis/portcullis/deploy/bench/internal/report"
	"github.com/portcullis/portcullis/deploy/bench/internal/stateful"
	"github.com/portcullis/portcullis/deploy/bench/internal/stats"
)

// The bench's request path: a roles resource (account acme, application
// billing, role developer) on the gateway, the same path elsewhere.
const (
	apiPath    = "/api/items"
	publicPath = "/public/items"
)

var rowOrder = []string{
	report.RowUpstream, report.RowBareProxy, report.RowGatewayPublic, report.RowRolesCached,
	report.RowRolesNoCache, report.RowStatefulLite, report.RowStatefulPG,
}

// proxyConfig is one proxy row while it is being measured.
type proxyConfig struct {
	name, desc string
	target     load.Target // URL starting with "{base}" until started
	start      starter     // nil: target is already running (the upstream)
	proc       *procs.Proc
	row        report.Row
}

// proxyRows measures every proxy configuration against one upstream. All
// configurations are started first and their runs interleaved (run 1 of
// every row, then run 2, ...), so that a burst of other work on the shared
// machine lands on every row alike instead of on whichever row it catches.
func (o *orch) proxyRows(ctx context.Context) error {
	if err := o.startUpstream(ctx); err != nil {
		return err
	}
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	// bare-proxy first: its maximum sets the fixed rate of every latency run.
	cfgs := []*proxyConfig{
		{name: report.RowBareProxy, desc: "plain httputil.ReverseProxy, transport tuned as the gateway's",
			target: load.Target{URL: "{base}" + apiPath}, start: o.startSelf("bare-proxy")},
		{name: report.RowUpstream, desc: "the upstream alone (the ceiling)",
			target: load.Target{URL: o.upstreamURL + apiPath}},
	}
	gw, err := o.gatewayConfigs(ctx, &cleanups)
	if err != nil {
		return err
	}
	cfgs = append(cfgs, gw.configs...)
	for _, kind := range []string{"sqlite", "postgres"} {
		c, err := o.statefulConfig(ctx, kind, &cleanups)
		if err != nil {
			return err
		}
		if c != nil {
			cfgs = append(cfgs, c)
		}
	}

	for _, c := range cfgs {
		if c.start == nil {
			continue
		}
		base, p, err := c.start(ctx)
		if p != nil {
			cleanups = append(cleanups, p.Stop)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		c.proc = p
		c.target.URL = base + strings.TrimPrefix(c.target.URL, "{base}")
	}
	for _, c := range cfgs {
		o.log.Info("warming up", "row", c.name, "url", c.target.URL)
		warm, err := o.closedLoop(ctx, c.target, o.plan.warmup, o.plan.conns)
		if err != nil {
			return fmt.Errorf("%s warm-up: %w", c.name, err)
		}
		if warm.Errors > 0 {
			return fmt.Errorf("%s warm-up: %d of %d requests failed (%s)%s", c.name, warm.Errors, warm.Requests, warm.ErrorSample, childLog(c.proc))
		}
		c.row = report.Row{Name: c.name, Description: c.desc}
	}
	// Closed loop first: its medians set the fixed rates of the latency runs.
	for i := range o.plan.runs {
		for _, c := range cfgs {
			closed, err := o.closedLoop(ctx, c.target, o.plan.closed, o.plan.conns)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", c.name, i+1, err)
			}
			c.row.Runs = append(c.row.Runs, report.Run{Closed: closed})
			o.log.Info("run", "row", c.name, "n", i+1, "closed", closed.String())
		}
	}
	for _, c := range cfgs {
		var maxima []float64
		for _, r := range c.row.Runs {
			maxima = append(maxima, r.Closed.RPS)
		}
		c.row.FixedRate = o.fixedRate(c.name, stats.Median(maxima))
	}
	for i := range o.plan.runs {
		for _, c := range cfgs {
			open, err := load.RunVegetaOpen(ctx, c.target, load.Open{Rate: c.row.FixedRate, Duration: o.plan.open})
			if err != nil {
				return fmt.Errorf("%s run %d: %w", c.name, i+1, err)
			}
			c.row.Runs[i].Open = &open
			o.log.Info("run", "row", c.name, "n", i+1, "open", open.String())
		}
	}
	for _, c := range cfgs {
		c.row.Summarize()
		if c.row.Errors > 0 {
			o.log.Error("requests failed", "row", c.name, "errors", c.row.Errors, "child_log", childLog(c.proc))
		}
		o.rep.Proxy = append(o.rep.Proxy, c.row)
		if c.proc != nil {
			c.proc.Stop()
		}
	}
	slices.SortStableFunc(o.rep.Proxy, func(a, b report.Row) int {
		return slices.Index(rowOrder, a.Name) - slices.Index(rowOrder, b.Name)
	})
	return gw.after(ctx)
}

// starter starts a configuration and returns its base URL and readiness.
type starter func(ctx context.Context) (base string, p *procs.Proc, err error)

func (o *orch) startUpstream(ctx context.Context) error {
	port, err := procs.FreePort(ctx)
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var p *procs.Proc
	if demo := o.bin("demo-upstream"); demo != "" {
		p, err = o.group.Start(ctx, "demo-upstream", nil, demo, "-listen", addr)
	} else {
		o.log.Warn("bin/demo-upstream not built: using the bench's own upstream")
		p, err = o.group.Start(ctx, "upstream", nil, o.cfg.Self, "upstream", "-listen", addr)
	}
	if err != nil {
		return err
	}
	o.upstreamURL = "http://" + addr
	// demo-upstream answers every path with 200, /readyz included.
	return p.WaitReady(ctx, o.upstreamURL+"/readyz", 30*time.Second)
}

// startSelf starts one of this program's own server subcommands in front of
// the upstream.
func (o *orch) startSelf(sub string, extra ...string) starter {
	return func(ctx context.Context) (string, *procs.Proc, error) {
		port, err := procs.FreePort(ctx)
		if err != nil {
			return "", nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		args := append([]string{sub, "-listen", addr, "-upstream", o.upstreamURL}, extra...)
		p, err := o.group.Start(ctx, sub, nil, o.cfg.Self, args...)
		if err != nil {
			return "", nil, err
		}
		base := "http://" + addr
		return base, p, p.WaitReady(ctx, base+"/readyz", 60*time.Second)
	}
}

// closedLoop runs the closed-loop generator (wrk, or vegeta without it).
func (o *orch) closedLoop(ctx context.Context, t load.Target, d time.Duration, conns int) (load.Result, error) {
	c := load.Closed{Connections: conns, Threads: o.plan.threads, Duration: d}
	if o.wrk != "" {
		dir, err := os.MkdirTemp(o.tmp, "wrk-")
		if err != nil {
			return load.Result{}, fmt.Errorf("wrk dir: %w", err)
		}
		return load.RunWrk(ctx, o.wrk, dir, t, c)
	}
	return load.RunVegetaClosed(ctx, t, c)
}

// fixedRate picks the open-loop rate of a row whose closed-loop maximum is
// maximum. The first row measured (bare-proxy) sets the common rate, a
// quarter of its maximum: far enough below saturation that the percentiles
// measure the configuration rather than a queue, even when the shared
// machine's capacity wobbles between runs. Every row runs at that common
// rate, so latencies compare like for like (the p99 target compares
// gateway-roles with bare-proxy), unless it would be more than half the row's
// own maximum; such a row runs at a quarter of its own.
func (o *orch) fixedRate(name string, maximum float64) int {
	quarter := max(int(maximum/4/100)*100, 100)
	if o.rate == 0 {
		o.rate = quarter
		o.log.Info("fixed rate for latency runs", "rate", o.rate, "from", name)
	}
	if float64(o.rate) <= maximum/2 {
		return o.rate
	}
	return min(o.rate, quarter)
}

func childLog(p *procs.Proc) string {
	if p == nil {
		return ""
	}
	return "\n--- " + p.Name + " log ---\n" + p.Output()
}

// statefulConfig seeds a stateful-db database of kind sqlite or postgres
// and returns its row, or nil when PostgreSQL is not available.
func (o *orch) statefulConfig(ctx context.Context, kind string, cleanups *[]func()) (*proxyConfig, error) {
	name, dsn := report.RowStatefulLite, "sqlite:"+filepath.Join(o.tmp, "stateful.db")
	if kind == "postgres" {
		name = report.RowStatefulPG
		if o.cfg.PostgresDSN == "" {
			o.skip("%s: no -postgres DSN", name)
			return nil, nil
		}
		pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		admin, err := stateful.Open(pingCtx, o.cfg.PostgresDSN, 1)
		cancel()
		if err != nil {
			o.skip("%s: PostgreSQL unreachable (%v)", name, err)
			return nil, nil
		}
		schema := fmt.Sprintf("portcullis_bench_%d", time.Now().UnixNano())
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			_ = admin.Close()
			o.skip("%s: cannot create a schema (%v)", name, err)
			return nil, nil
		}
		*cleanups = append(*cleanups, func() {
			// The bench's schema goes whatever happened, even after Ctrl-C.
			dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := admin.ExecContext(dropCtx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				o.log.Error("could not drop the bench schema", "schema", schema, "err", err)
			}
			_ = admin.Close()
		})
		dsn = stateful.WithSearchPath(o.cfg.PostgresDSN, schema)
	}
	db, err := stateful.Open(ctx, dsn, 4)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	seed, err := db.Seed(ctx, o.plan.sessions, time.Now())
	_ = db.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &proxyConfig{
		name:   name,
		desc:   fmt.Sprintf("per-request session lookup + grants join on %s (%d users, 3 grants each)", kind, o.plan.sessions),
		target: load.Target{URL: "{base}" + apiPath, Tokens: seed.Tokens},
		start:  o.startSelf("stateful-proxy", "-database", dsn),
	}, nil
}
