package report

import (
	"fmt"
	"strings"
)

// Row names the targets refer to.
const (
	RowUpstream      = "upstream"
	RowBareProxy     = "bare-proxy"
	RowGatewayPublic = "gateway-public"
	RowRolesCached   = "gateway-roles"
	RowRolesNoCache  = "gateway-roles-nocache"
	RowStatefulLite  = "stateful-db-sqlite"
	RowStatefulPG    = "stateful-db-postgres"
	RowJWKS          = "jwks"
	GrantClientCreds = "client_credentials"
	GrantRefresh     = "refresh_token"
	GrantPassword    = "password"
)

// ComputeRatios sets each row's Ratio: proxy rows against bare-proxy, token
// rows against the fastest algorithm of the same grant.
func (rep *Report) ComputeRatios() {
	if bare := rep.Find(RowBareProxy, ""); bare != nil && bare.RPS.Median > 0 {
		for i := range rep.Proxy {
			rep.Proxy[i].Ratio = rep.Proxy[i].RPS.Median / bare.RPS.Median
			rep.Proxy[i].RatioTo = RowBareProxy
		}
	}
	best := map[string]*Row{}
	for i := range rep.Tokens {
		r := &rep.Tokens[i]
		if b, ok := best[r.Name]; !ok || r.RPS.Median > b.RPS.Median {
			best[r.Name] = r
		}
	}
	for i := range rep.Tokens {
		r := &rep.Tokens[i]
		if b := best[r.Name]; b != nil && b.RPS.Median > 0 {
			r.Ratio = r.RPS.Median / b.RPS.Median
			r.RatioTo = b.Algorithm
		}
	}
}

// Allocs are allocs/op from the gateway's micro-benchmarks of one request
// through a real listener (negative when not measured).
type Allocs struct {
	Cached float64 // roles resource, token cache on
	Public float64 // public resource: the gateway's path without authorisation
	Bare   float64 // a bare httputil.ReverseProxy
}

// CheckTargets compares the run with the targets of issue 8. defaultAlg is
// the auth server's default signing algorithm.
func (rep *Report) CheckTargets(defaultAlg string, a Allocs) {
	rep.Targets = nil
	bare := rep.Find(RowBareProxy, "")
	cached := rep.Find(RowRolesCached, "")
	nocache := rep.Find(RowRolesNoCache, "")
	pg := rep.Find(RowStatefulPG, "")

	ratio := func(name string, a, b *Row, want float64) {
		t := TargetResult{Name: name, Want: fmt.Sprintf(">= %.2fx", want)}
		if a == nil || b == nil || b.RPS.Median == 0 {
			t.Status, t.Got = "N/A", "not measured"
		} else {
			got := a.RPS.Median / b.RPS.Median
			t.Got = fmt.Sprintf("%.2fx (%.0f vs %.0f req/s)", got, a.RPS.Median, b.RPS.Median)
			t.Status = passMiss(got >= want)
		}
		rep.Targets = append(rep.Targets, t)
	}
	ratio("gateway-roles (cached) / bare-proxy req/s", cached, bare, 0.90)

	t := TargetResult{Name: "gateway-roles (cached) p99 - bare-proxy p99", Want: "<= 1.00 ms"}
	if cached == nil || bare == nil {
		t.Status, t.Got = "N/A", "not measured"
	} else {
		d := cached.P99.Median - bare.P99.Median
		t.Got = fmt.Sprintf("%+.2f ms (%.2f vs %.2f ms at %d req/s)", d, cached.P99.Median, bare.P99.Median, cached.FixedRate)
		t.Status = passMiss(d <= 1.0)
	}
	rep.Targets = append(rep.Targets, t)

	ratio("gateway-roles (cache off) / bare-proxy req/s", nocache, bare, 0.65)
	ratio("gateway-roles / stateful-db on PostgreSQL req/s", cached, pg, 5)

	// Authorisation's own cost is the roles path less the public path: both
	// run the whole gateway chain, only the token check and role rule differ.
	t = TargetResult{Name: "allocations added by authorisation on the cached path", Want: "0 allocs/op"}
	if a.Cached < 0 || a.Public < 0 {
		t.Status, t.Got = "N/A", "micro-benchmarks not found"
	} else {
		d := a.Cached - a.Public
		t.Got = fmt.Sprintf("%+.0f allocs/op (roles cached %.0f vs public %.0f", d, a.Cached, a.Public)
		if a.Bare >= 0 {
			t.Got += fmt.Sprintf("; bare proxy %.0f", a.Bare)
		}
		t.Got += ")"
		t.Status = passMiss(d <= 0)
	}
	rep.Targets = append(rep.Targets, t)

	abs := func(grant string, want float64) {
		t := TargetResult{Name: fmt.Sprintf("%s tokens/s (%s)", grant, defaultAlg), Want: fmt.Sprintf(">= %.0f", want)}
		if r := rep.Find(grant, defaultAlg); r == nil {
			t.Status, t.Got = "N/A", "not measured"
		} else {
			t.Got = fmt.Sprintf("%.0f", r.RPS.Median)
			t.Status = passMiss(r.RPS.Median >= want)
		}
		rep.Targets = append(rep.Targets, t)
	}
	abs(GrantClientCreds, 2000)
	abs(GrantRefresh, 1000)
	for _, g := range []string{GrantClientCreds, GrantRefresh} {
		ratio(fmt.Sprintf("%s %s / RS256-4096 tokens/s", g, defaultAlg), rep.Find(g, defaultAlg), rep.Find(g, "RS256-4096"), 10)
	}
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// Failed reports the rows that saw errors, which make a run invalid.
func (rep *Report) Failed() []string {
	var out []string
	for _, rows := range [][]Row{rep.Proxy, rep.Tokens} {
		for _, r := range rows {
			if r.Errors > 0 {
				sample := ""
				for _, run := range r.Runs {
					for _, res := range []string{run.Closed.ErrorSample, openSample(run)} {
						if sample == "" && res != "" {
							sample = res
						}
					}
				}
				out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s: %d errors (%s)", r.Name, r.Algorithm, r.Errors, sample)))
			}
		}
	}
	return out
}

func openSample(r Run) string {
	if r.Open == nil {
		return ""
	}
	return r.Open.ErrorSample
}
