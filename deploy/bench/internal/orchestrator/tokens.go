package orchestrator

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/authseed"
	"github.com/portcullis/portcullis/deploy/bench/internal/load"
	"github.com/portcullis/portcullis/deploy/bench/internal/procs"
	"github.com/portcullis/portcullis/deploy/bench/internal/report"
)

// passwordPool is the auth server's default password.max_concurrent.
const passwordPool = 4

// tokenRows measures the token endpoint per grant and signing algorithm,
// each algorithm on a fresh auth server of its own, and JWKS for the
// default algorithm.
func (o *orch) tokenRows(ctx context.Context) error {
	bin := o.bin("authserver")
	if bin == "" {
		o.skip("token rows: bin/authserver not built (make build)")
		return nil
	}
	for _, alg := range o.plan.algorithms {
		if err := o.tokenRowsFor(ctx, bin, alg); err != nil {
			return err
		}
	}
	return nil
}

func (o *orch) tokenRowsFor(ctx context.Context, bin string, alg algorithm) error {
	port, err := procs.FreePort(ctx)
	if err != nil {
		return err
	}
	// Production argon2id parameters: the password row measures logins as
	// they will be.
	srv, err := authseed.New(bin, filepath.Join(o.tmp, "auth-"+alg.name), port,
		authseed.Options{Algorithm: alg.keysAlg, RSABits: alg.rsaBits})
	if err != nil {
		return err
	}
	if _, err := srv.CLI(ctx, "", "migrate"); err != nil {
		return err
	}
	if err := srv.CreateApps(ctx, "acme", "billing"); err != nil {
		return err
	}
	grant := [3]string{"developer", "acme", "billing"}
	const user = "bench-tokens"
	if err := srv.CreateUser(ctx, user, benchPassword, [][3]string{grant}); err != nil {
		return err
	}
	client, err := srv.CreateClient(ctx, "bench-tokens")
	if err != nil {
		return err
	}
	if err := srv.Grant(ctx, "--client", client.ID, grant); err != nil {
		return err
	}
	p, err := o.startAuthServer(ctx, srv, "authserver-"+alg.name)
	if err != nil {
		return err
	}
	defer p.Stop()

	n := o.plan.tokenWorkers
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxIdleConns: n, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	// Refresh chains are started once (a password login per worker) and
	// carried through warm-up and every run.
	refresh := make([]load.Worker, n)
	for i := range refresh {
		first, err := srv.Login(ctx, c, client, user, benchPassword)
		if err != nil {
			return fmt.Errorf("%s: first refresh token: %w%s", alg.name, err, childLog(p))
		}
		refresh[i] = load.RefreshWorker(c, srv.TokenURL(), client.ID, client.Secret, first.RefreshToken)
	}
	grants := []struct {
		name   string
		worker func(i int) load.Worker
	}{
		{report.GrantClientCreds, func(int) load.Worker {
			return load.GrantWorker(c, srv.TokenURL(), client.ID, client.Secret, url.Values{"grant_type": {"client_credentials"}})
		}},
		{report.GrantRefresh, func(i int) load.Worker { return refresh[i] }},
		{report.GrantPassword, func(int) load.Worker {
			return load.GrantWorker(c, srv.TokenURL(), client.ID, client.Secret,
				url.Values{"grant_type": {"password"}, "username": {user}, "password": {benchPassword}})
		}},
	}
	for _, g := range grants {
		if !slices.Contains(o.plan.grants, g.name) {
			continue
		}
		newWorker := func(i int) (load.Worker, error) { return g.worker(i), nil }
		workers := n
		if g.name == report.GrantPassword {
			// argon2id runs in the server's bounded pool (password.max_concurrent,
			// default 4): more workers would only queue, and each queued login
			// stretches the end of every run by a whole hash.
			workers = min(n, passwordPool)
		}
		row := report.Row{Name: g.name, Algorithm: alg.name,
			Description: fmt.Sprintf("POST /oauth2/token grant_type=%s, %d workers, closed loop", g.name, workers)}
		o.log.Info("measuring", "grant", g.name, "algorithm", alg.name)
		if g.name != report.GrantPassword { // a hash needs no warming up
			if _, err := load.RunLoop(ctx, g.name, workers, o.plan.tokenWarmup, newWorker); err != nil {
				return err
			}
		}
		for i := range o.plan.runs {
			res, err := load.RunLoop(ctx, g.name, workers, o.plan.tokenDuration, newWorker)
			if err != nil {
				return err
			}
			row.Runs = append(row.Runs, report.Run{Closed: res})
			o.log.Info("run", "grant", g.name, "algorithm", alg.name, "n", i+1, "result", res.String())
		}
		row.Summarize()
		if row.Errors > 0 {
			o.log.Error("token requests failed", "grant", g.name, "algorithm", alg.name, "child_log", childLog(p))
		}
		o.rep.Tokens = append(o.rep.Tokens, row)
	}

	if alg.name == DefaultAlgorithm {
		row := report.Row{Name: report.RowJWKS, Algorithm: alg.name, Description: "GET /.well-known/jwks.json, closed loop"}
		t := load.Target{URL: srv.URL + "/.well-known/jwks.json"}
		if _, err := o.closedLoop(ctx, t, o.plan.tokenWarmup, o.plan.conns); err != nil {
			return err
		}
		for range o.plan.runs {
			res, err := o.closedLoop(ctx, t, o.plan.tokenDuration, o.plan.conns)
			if err != nil {
				return err
			}
			row.Runs = append(row.Runs, report.Run{Closed: res})
		}
		row.Summarize()
		o.rep.Tokens = append(o.rep.Tokens, row)
	}
	return nil
}
