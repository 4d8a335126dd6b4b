package gateway_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
	"github.com/portcullis/portcullis/gateway/internal/proxy"
	"github.com/portcullis/portcullis/shared/roles"
)

// The benchmarks below run in one process and one run so that they compare
// like with like: the same tiny JSON upstream, the same tuned client, and
// the bare proxy using the very transport settings the gateway uses. Every
// request crosses real loopback listeners (client -> proxy -> upstream).
// allocs/op counts the whole process (client, proxy and upstream), so the
// differences between rows are what the gateway adds.

const benchTokens = 256 // distinct users/tokens, as a realistic pool

type benchEnv struct {
	upstream *httptest.Server
	client   *http.Client
	tokens   []string
}

func newBenchEnv(b *testing.B) (*benchEnv, *gatewaytest.Issuer, *gatewaytest.Clock) {
	b.Helper()
	clock := gatewaytest.NewClock(time.Now())
	is := gatewaytest.NewIssuer(b, clock, "", "EdDSA")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(up.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 512
	tr.MaxIdleConns = 0
	e := &benchEnv{upstream: up, client: &http.Client{Transport: tr}}
	for i := range benchTokens {
		e.tokens = append(e.tokens, is.Token(b, fmt.Sprintf("user-%d", i),
			roles.Grant{Role: "developer", Account: "acme", Application: "billing"}))
	}
	return e, is, clock
}

func (e *benchEnv) gateway(b *testing.B, is *gatewaytest.Issuer, clock *gatewaytest.Clock, cache bool) string {
	b.Helper()
	cfg := gatewaytest.Config([]config.Issuer{gatewaytest.PortcullisIssuer(is)}, []config.Resource{
		{Name: "public", Path: "/public/{rest...}", Upstream: e.upstream.URL, Access: "public"},
		{Name: "tenant", Path: "/accounts/{account}/apps/{app}/{rest...}", Upstream: e.upstream.URL,
			Account: "{account}", Application: "{app}", Access: "roles", Roles: []string{"developer", "consumer"}},
	})
	cfg.TokenCache.Enabled = &cache
	_, srv := gatewaytest.Start(b, cfg, gateway.Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	return srv.URL
}

func (e *benchEnv) bareProxy(b *testing.B) string {
	b.Helper()
	target, _ := url.Parse(e.upstream.URL)
	c := config.File{}
	c.ApplyDefaults()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: proxy.NewTransport(proxy.TransportOptions{
			DialTimeout:           c.Upstream.DialTimeout,
			ResponseHeaderTimeout: c.Upstream.ResponseHeaderTimeout,
			IdleConnTimeout:       c.Upstream.IdleConnTimeout,
			MaxIdleConnsPerHost:   c.Upstream.MaxIdleConnsPerHost,
		}),
	}
	srv := httptest.NewServer(rp)
	b.Cleanup(srv.Close)
	return srv.URL
}

func (e *benchEnv) run(b *testing.B, url string, withToken bool) {
	b.Helper()
	var next atomic.Uint64
	// Warm: connections, and (when on) the token cache for every token.
	for i := range benchTokens {
		e.get(b, url, e.tokens[i], withToken)
	}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.get(b, url, e.tokens[next.Add(1)%benchTokens], withToken)
		}
	})
}

func (e *benchEnv) get(b *testing.B, url, token string, withToken bool) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if withToken {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("%s: status %d", url, res.StatusCode)
	}
}

// BenchmarkBareProxy is the reference: httputil.ReverseProxy, tuned the
// same way, to the same upstream.
func BenchmarkBareProxy(b *testing.B) {
	e, _, _ := newBenchEnv(b)
	e.run(b, e.bareProxy(b)+"/accounts/acme/apps/billing/x", true) // same requests, token included
}

// BenchmarkGatewayPublic: the full chain for a public resource.
func BenchmarkGatewayPublic(b *testing.B) {
	e, is, clock := newBenchEnv(b)
	e.run(b, e.gateway(b, is, clock, true)+"/public/x", false)
}

// BenchmarkGatewayRolesCached: a roles resource with wildcard tenant, a pool
// of distinct valid tokens, verified-token cache on (all hits once warm).
func BenchmarkGatewayRolesCached(b *testing.B) {
	e, is, clock := newBenchEnv(b)
	e.run(b, e.gateway(b, is, clock, true)+"/accounts/acme/apps/billing/x", true)
}

// BenchmarkGatewayRolesUncached: the same with the cache off, so every
// request pays a full signature verification (EdDSA).
func BenchmarkGatewayRolesUncached(b *testing.B) {
	e, is, clock := newBenchEnv(b)
	e.run(b, e.gateway(b, is, clock, false)+"/accounts/acme/apps/billing/x", true)
}

// BenchmarkGatewayRatios interleaves the four configurations in short
// rounds (each round: the same number of requests through each, 8 client
// goroutines) so that load from elsewhere on the machine hits them alike,
// and reports each one's throughput relative to the bare proxy. Run with
// -benchtime=Nx: N rounds.
func BenchmarkGatewayRatios(b *testing.B) {
	e, is, clock := newBenchEnv(b)
	type row struct {
		name      string
		url       string
		withToken bool
		elapsed   time.Duration
		cpu       time.Duration
	}
	rows := []*row{
		// The bare proxy gets the same requests, token included.
		{name: "bare", url: e.bareProxy(b) + "/accounts/acme/apps/billing/x", withToken: true},
		{name: "public", url: e.gateway(b, is, clock, true) + "/public/x"},
		{name: "cached", url: e.gateway(b, is, clock, true) + "/accounts/acme/apps/billing/x", withToken: true},
		{name: "uncached", url: e.gateway(b, is, clock, false) + "/accounts/acme/apps/billing/x", withToken: true},
	}
	const perRound, workers = 400, 8
	for _, r := range rows { // warm connections and caches
		for i := range benchTokens {
			e.get(b, r.url, e.tokens[i], r.withToken)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range rows {
			var next atomic.Uint64
			cpu0 := processCPU()
			start := time.Now()
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						n := next.Add(1)
						if n > perRound {
							return
						}
						e.get(b, r.url, e.tokens[n%benchTokens], r.withToken)
					}
				}()
			}
			wg.Wait()
			r.elapsed += time.Since(start)
			r.cpu += processCPU() - cpu0
		}
	}
	b.StopTimer()
	bare, bareCPU := rows[0].elapsed, rows[0].cpu
	for _, r := range rows {
		rps := float64(perRound*b.N) / r.elapsed.Seconds()
		b.ReportMetric(rps, r.name+"-req/s")
		b.ReportMetric(float64(r.cpu.Microseconds())/float64(perRound*b.N), r.name+"-cpu-us/req")
		if r.name != "bare" {
			b.ReportMetric(float64(bare)/float64(r.elapsed), r.name+"/bare")
			// CPU spent per request by the whole process (client, proxy,
			// upstream): the ratio that holds even when other processes
			// compete for the cores and make wall-clock figures noisy.
			b.ReportMetric(float64(bareCPU)/float64(r.cpu), r.name+"/bare-cpu")
		}
	}
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
