package orchestrator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// proxyRows measures every proxy configuration against one upstream.
func (o *orch) proxyRows(ctx context.Context) error {
	if err := o.startUpstream(ctx); err != nil {
		return err
	}
	// bare-proxy first: its maximum sets the fixed rate of every latency run.
	bare, err := o.measure(ctx, report.RowBareProxy, "plain httputil.ReverseProxy, transport tuned as the gateway's",
		load.Target{URL: "{base}" + apiPath}, o.startSelf("bare-proxy"))
	if err != nil {
		return err
	}
	o.rep.Proxy = append(o.rep.Proxy, bare)

	up, err := o.measure(ctx, report.RowUpstream, "the upstream alone (the ceiling)",
		load.Target{URL: o.upstreamURL + apiPath}, nil)
	if err != nil {
		return err
	}
	o.rep.Proxy = append(o.rep.Proxy, up)

	if err := o.gatewayRows(ctx); err != nil {
		return err
	}
	if err := o.statefulSQLite(ctx); err != nil {
		return err
	}
	if err := o.statefulPostgres(ctx); err != nil {
		return err
	}
	slices.SortStableFunc(o.rep.Proxy, func(a, b report.Row) int {
		return slices.Index(rowOrder, a.Name) - slices.Index(rowOrder, b.Name)
	})
	return nil
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

// measure starts a configuration (start nil: target is already running),
// warms it up, then runs the closed and the fixed-rate loop plan.runs times.
func (o *orch) measure(ctx context.Context, name, desc string, t load.Target, start starter) (report.Row, error) {
	row := report.Row{Name: name, Description: desc}
	var proc *procs.Proc
	if start != nil {
		base, p, err := start(ctx)
		if err != nil {
			return row, fmt.Errorf("%s: %w", name, err)
		}
		proc = p
		defer p.Stop()
		t.URL = base + t.URL[len("{base}"):]
	}
	o.log.Info("measuring", "row", name, "url", t.URL)
	warm, err := o.closedLoop(ctx, t, o.plan.warmup, o.plan.conns)
	if err != nil {
		return row, fmt.Errorf("%s warm-up: %w", name, err)
	}
	if warm.Errors > 0 {
		return row, fmt.Errorf("%s warm-up: %d of %d requests failed (%s)%s", name, warm.Errors, warm.Requests, warm.ErrorSample, childLog(proc))
	}
	// Closed loop first: its median sets the fixed rate of the latency runs.
	var maxima []float64
	for i := range o.plan.runs {
		closed, err := o.closedLoop(ctx, t, o.plan.closed, o.plan.conns)
		if err != nil {
			return row, fmt.Errorf("%s run %d: %w", name, i+1, err)
		}
		row.Runs = append(row.Runs, report.Run{Closed: closed})
		maxima = append(maxima, closed.RPS)
		o.log.Info("run", "row", name, "n", i+1, "closed", closed.String())
	}
	row.FixedRate = o.fixedRate(name, stats.Median(maxima))
	for i := range o.plan.runs {
		open, err := load.RunVegetaOpen(ctx, t, load.Open{Rate: row.FixedRate, Duration: o.plan.open})
		if err != nil {
			return row, fmt.Errorf("%s run %d: %w", name, i+1, err)
		}
		row.Runs[i].Open = &open
		o.log.Info("run", "row", name, "n", i+1, "open", open.String())
	}
	row.Summarize()
	if row.Errors > 0 {
		o.log.Error("requests failed", "row", name, "errors", row.Errors, "child_log", childLog(proc))
	}
	return row, nil
}

// fixedRate picks the open-loop rate of a row whose closed-loop maximum is
// maximum. The first row measured (bare-proxy) sets the common rate, a
// quarter of its maximum: far enough below saturation that the percentiles
// measure the configuration rather than a queue, even when the shared
// machine's capacity wobbles between runs. Every row runs at that common
// rate, so latencies compare like for like, unless it would be more than a
// third of the row's own maximum; such a row (stateful-db) runs at a quarter
// of its own.
func (o *orch) fixedRate(name string, maximum float64) int {
	quarter := max(int(maximum/4/100)*100, 100)
	if o.rate == 0 {
		o.rate = quarter
		o.log.Info("fixed rate for latency runs", "rate", o.rate, "from", name)
	}
	if float64(o.rate) <= maximum/3 {
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

func (o *orch) statefulSQLite(ctx context.Context) error {
	path := filepath.Join(o.tmp, "stateful.db")
	if err := o.seedStateful(ctx, "sqlite:"+path, report.RowStatefulLite, "sqlite"); err != nil {
		return err
	}
	return nil
}

func (o *orch) statefulPostgres(ctx context.Context) error {
	if o.cfg.PostgresDSN == "" {
		o.skip("%s: no -postgres DSN", report.RowStatefulPG)
		return nil
	}
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	admin, err := stateful.Open(pingCtx, o.cfg.PostgresDSN, 1)
	cancel()
	if err != nil {
		o.skip("%s: PostgreSQL unreachable (%v)", report.RowStatefulPG, err)
		return nil
	}
	defer func() { _ = admin.Close() }()
	schema := fmt.Sprintf("portcullis_bench_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		o.skip("%s: cannot create a schema (%v)", report.RowStatefulPG, err)
		return nil
	}
	defer func() {
		// The bench's schema goes whatever happened, even after Ctrl-C.
		dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dropCtx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			o.log.Error("could not drop the bench schema", "schema", schema, "err", err)
		}
	}()
	return o.seedStateful(ctx, stateful.WithSearchPath(o.cfg.PostgresDSN, schema), report.RowStatefulPG, "postgres")
}

// seedStateful migrates and seeds dsn, then measures the stateful proxy on it.
func (o *orch) seedStateful(ctx context.Context, dsn, name, kind string) error {
	db, err := stateful.Open(ctx, dsn, 4)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	seed, err := db.Seed(ctx, o.plan.sessions, time.Now())
	_ = db.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	row, err := o.measure(ctx, name,
		fmt.Sprintf("per-request session lookup + grants join on %s (%d users, 3 grants each)", kind, o.plan.sessions),
		load.Target{URL: "{base}" + apiPath, Tokens: seed.Tokens},
		o.startSelf("stateful-proxy", "-database", dsn))
	if err != nil {
		return err
	}
	o.rep.Proxy = append(o.rep.Proxy, row)
	return nil
}
