package orchestrator

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/authseed"
	"github.com/portcullis/portcullis/deploy/bench/internal/load"
	"github.com/portcullis/portcullis/deploy/bench/internal/procs"
	"github.com/portcullis/portcullis/deploy/bench/internal/report"
)

const benchPassword = "bench-password-not-secret"

// userGrants are the grants of every pool user, as in the stateful rows:
// three each, one of them the resource's.
var userGrants = [][3]string{
	{"consumer", "acme", "reports"},
	{"developer", "globex", "api"},
	{"developer", "acme", "billing"},
}

// gatewaySet is the gateway rows and what runs after them.
type gatewaySet struct {
	configs []*proxyConfig
	// after measures peak RSS and token sizes once the rows are done.
	after func(ctx context.Context) error
}

// gatewayConfigs seeds an auth server with a pool of distinct users and
// returns the gateway rows: a public and a roles resource, with the token
// cache on and off. The auth server keeps running (the gateways fetch its
// JWKS) until the cleanups run.
func (o *orch) gatewayConfigs(ctx context.Context, cleanups *[]func()) (gatewaySet, error) {
	none := gatewaySet{after: func(context.Context) error { return nil }}
	gw, as := o.bin("gateway"), o.bin("authserver")
	if gw == "" || as == "" {
		for _, r := range []string{report.RowGatewayPublic, report.RowRolesCached, report.RowRolesNoCache} {
			o.skip("%s: bin/gateway or bin/authserver not built (make build)", r)
		}
		return none, nil
	}
	srv, proc, tokens, err := o.seedGatewayPool(ctx, as)
	if err != nil {
		return none, fmt.Errorf("seed the gateway's token pool: %w", err)
	}
	*cleanups = append(*cleanups, proc.Stop)

	gateway := func(cache bool) starter {
		return func(ctx context.Context) (string, *procs.Proc, error) {
			return o.startGateway(ctx, gw, srv.URL, cache)
		}
	}
	set := gatewaySet{configs: []*proxyConfig{
		{name: report.RowGatewayPublic, desc: "gateway, public resource (routing, headers, logging, metrics)",
			target: load.Target{URL: "{base}" + publicPath}, start: gateway(true)},
		{name: report.RowRolesCached, desc: fmt.Sprintf("gateway, roles resource, %d distinct users' tokens, verified-token cache on", len(tokens)),
			target: load.Target{URL: "{base}" + apiPath, Tokens: tokens}, start: gateway(true)},
		{name: report.RowRolesNoCache, desc: "gateway, roles resource, token_cache.enabled: false (signature check per request)",
			target: load.Target{URL: "{base}" + apiPath, Tokens: tokens}, start: gateway(false)},
	}}
	set.after = func(ctx context.Context) error {
		if err := o.gatewayRSS(ctx, gw, srv.URL, tokens); err != nil {
			return err
		}
		if !o.plan.tokenSizes {
			return nil
		}
		proc.Stop()
		return o.tokenSizes(ctx, srv)
	}
	return set, nil
}

// seedGatewayPool creates the pool's users through the auth server's CLI,
// starts the server and logs every user in once.
func (o *orch) seedGatewayPool(ctx context.Context, bin string) (*authseed.Server, *procs.Proc, []string, error) {
	started := time.Now()
	port, err := procs.FreePort(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	srv, err := authseed.New(bin, filepath.Join(o.tmp, "auth-gateway"), port,
		authseed.Options{Algorithm: DefaultAlgorithm, CheapPasswords: true})
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := srv.CLI(ctx, "", "migrate"); err != nil {
		return nil, nil, nil, err
	}
	if err := srv.CreateApps(ctx, "acme", "billing", "reports"); err != nil {
		return nil, nil, nil, err
	}
	if err := srv.CreateApps(ctx, "globex", "api"); err != nil {
		return nil, nil, nil, err
	}
	client, err := srv.CreateClient(ctx, "bench-gateway")
	if err != nil {
		return nil, nil, nil, err
	}
	n := o.plan.gatewayUsers
	if err := authseed.Parallel(n, func(i int) error {
		return srv.CreateUser(ctx, poolUser(i), benchPassword, userGrants)
	}); err != nil {
		return nil, nil, nil, err
	}
	proc, err := o.startAuthServer(ctx, srv, "authserver-gateway")
	if err != nil {
		return nil, nil, nil, err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	tokens := make([]string, n)
	for i := range n {
		tr, err := srv.Login(ctx, c, client, poolUser(i), benchPassword)
		if err != nil {
			proc.Stop()
			return nil, nil, nil, fmt.Errorf("log in %s: %w", poolUser(i), err)
		}
		tokens[i] = tr.AccessToken
	}
	o.log.Info("gateway token pool ready", "users", n, "took", time.Since(started).Round(time.Millisecond))
	return srv, proc, tokens, nil
}

func poolUser(i int) string { return fmt.Sprintf("bench-user-%04d", i) }

func (o *orch) startAuthServer(ctx context.Context, srv *authseed.Server, name string) (*procs.Proc, error) {
	p, err := o.group.Start(ctx, name, nil, srv.Bin, "--config", srv.Config, "serve")
	if err != nil {
		return nil, err
	}
	if err := p.WaitReady(ctx, srv.URL+"/readyz", 90*time.Second); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// startGateway writes a gateway config in front of the upstream, trusting
// the auth server at issuer, and starts `gateway serve`.
func (o *orch) startGateway(ctx context.Context, bin, issuer string, cache bool) (string, *procs.Proc, error) {
	port, err := procs.FreePort(ctx)
	if err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\n", addr)
	fmt.Fprintf(&b, "issuers:\n  - issuer: %s\n    jwks_uri: %s/.well-known/jwks.json\n    audiences: [portcullis]\n", issuer, issuer)
	b.WriteString("resources:\n")
	fmt.Fprintf(&b, "  - name: public\n    path: /public/{rest...}\n    upstream: %s\n    access: public\n", o.upstreamURL)
	fmt.Fprintf(&b, "  - name: billing-api\n    path: /api/{rest...}\n    upstream: %s\n    account: acme\n    application: billing\n    access: roles\n    roles: [developer]\n", o.upstreamURL)
	fmt.Fprintf(&b, "token_cache:\n  enabled: %t\n", cache)
	cfg := filepath.Join(o.tmp, fmt.Sprintf("gateway-%d.yaml", port))
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		return "", nil, fmt.Errorf("write gateway config: %w", err)
	}
	p, err := o.group.Start(ctx, "gateway", nil, bin, "serve", "--config", cfg)
	if err != nil {
		return "", nil, err
	}
	base := "http://" + addr
	return base, p, p.WaitReady(ctx, base+"/readyz", 60*time.Second)
}

// gatewayRSS loads a fresh gateway (cache on), and a fresh bare proxy for
// comparison, with rssConns connections and reads their peak resident set.
func (o *orch) gatewayRSS(ctx context.Context, bin, issuer string, tokens []string) error {
	gw, err := o.peakRSS(ctx, "gateway", func(ctx context.Context) (string, *procs.Proc, error) {
		return o.startGateway(ctx, bin, issuer, true)
	}, load.Target{URL: "{base}" + apiPath, Tokens: tokens})
	if err != nil {
		return err
	}
	o.rep.GatewayRSS = gw
	bare, err := o.peakRSS(ctx, "bare-proxy", o.startSelf("bare-proxy"), load.Target{URL: "{base}" + apiPath})
	if err != nil {
		return err
	}
	o.rep.BareRSS = bare
	return nil
}

func (o *orch) peakRSS(ctx context.Context, name string, start starter, t load.Target) (*report.RSS, error) {
	base, p, err := start(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s for RSS: %w", name, err)
	}
	defer p.Stop()
	t.URL = base + strings.TrimPrefix(t.URL, "{base}")
	res, err := o.closedLoop(ctx, t, o.plan.rssDuration, o.plan.rssConns)
	if err != nil {
		return nil, fmt.Errorf("%s RSS load: %w", name, err)
	}
	if res.Errors > 0 {
		return nil, fmt.Errorf("%s RSS load: %d of %d requests failed (%s)%s", name, res.Errors, res.Requests, res.ErrorSample, childLog(p))
	}
	kib, err := procs.PeakRSSKiB(p.Pid())
	if err != nil {
		return nil, err
	}
	o.log.Info("peak RSS", "process", name, "connections", o.plan.rssConns, "vm_hwm_kib", kib, "result", res.String())
	return &report.RSS{Connections: o.plan.rssConns, VMHWMKiB: kib, RPS: res.RPS}, nil
}

// tokenSizes measures access tokens for users holding 1, 10 and 100
// grants, in the scoped and the compact roles format, signed with the
// default algorithm.
func (o *orch) tokenSizes(ctx context.Context, srv *authseed.Server) error {
	const apps = 34 // x 3 application roles = 102 possible grants
	names := make([]string, apps)
	for i := range names {
		names[i] = fmt.Sprintf("app-%02d", i)
	}
	if err := srv.CreateApps(ctx, "sizes", names...); err != nil {
		return err
	}
	var all [][3]string
	for _, app := range names {
		for _, role := range []string{"application_manager", "developer", "consumer"} {
			all = append(all, [3]string{role, "sizes", app})
		}
	}
	counts := []int{1, 10, 100}
	type userGrant struct {
		user  string
		grant [3]string
	}
	var pending []userGrant
	for _, n := range counts {
		u := fmt.Sprintf("size-%d", n)
		if err := srv.CreateUser(ctx, u, benchPassword, nil); err != nil {
			return err
		}
		for _, g := range all[:n] {
			pending = append(pending, userGrant{u, g})
		}
	}
	if err := authseed.Parallel(len(pending), func(i int) error {
		return srv.Grant(ctx, "--username", pending[i].user, pending[i].grant)
	}); err != nil {
		return err
	}
	client, err := srv.CreateClient(ctx, "bench-sizes")
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	for _, format := range []string{"scoped", "compact"} {
		if err := srv.WriteConfig(authseed.Options{Algorithm: DefaultAlgorithm, CheapPasswords: true, RolesFormat: format}); err != nil {
			return err
		}
		p, err := o.startAuthServer(ctx, srv, "authserver-sizes")
		if err != nil {
			return err
		}
		for _, n := range counts {
			tr, err := srv.Login(ctx, c, client, fmt.Sprintf("size-%d", n), benchPassword)
			if err != nil {
				p.Stop()
				return fmt.Errorf("token size (%d grants, %s): %w", n, format, err)
			}
			o.rep.TokenSizes = append(o.rep.TokenSizes, report.TokenSize{Grants: n, Format: format, Bytes: len(tr.AccessToken)})
		}
		p.Stop()
	}
	return nil
}
