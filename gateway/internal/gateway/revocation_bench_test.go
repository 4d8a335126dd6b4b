package gateway_test

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
	"github.com/portcullis/portcullis/shared/revocation"
)

// BenchmarkGatewayRevocationSet is the full request path (cached token,
// roles resource) with the revocation check on and a set of 0 or 100,000
// entries (half jti, half subject rules), none matching the tokens sent.
// Issue 6 asks for the two to cost the same within noise; the check itself
// is measured in isolation by shared/revocation's BenchmarkSetRevoked.
func BenchmarkGatewayRevocationSet(b *testing.B) {
	for _, entries := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			e, is, clock := newBenchEnv(b)
			e.run(b, revocationGateway(b, e, is, clock, entries), true)
		})
	}
}

// BenchmarkGatewayRevocationSetInterleaved sends the same requests through
// both gateways (empty set, 100,000 entries) in alternating rounds of 256
// requests from 8 goroutines, so that load from elsewhere on the machine
// falls on both alike, and reports each one's cost per request. Run with
// -benchtime=Nx: N rounds.
func BenchmarkGatewayRevocationSetInterleaved(b *testing.B) {
	e, is, clock := newBenchEnv(b)
	urls := [2]string{revocationGateway(b, e, is, clock, 0), revocationGateway(b, e, is, clock, 100_000)}
	for _, u := range urls {
		for i := range benchTokens {
			e.get(b, u, e.tokens[i], true)
		}
	}
	const perRound, workers = 256, 8
	var spent [2]time.Duration
	b.ResetTimer()
	for r := 0; b.Loop(); r++ {
		for k := range 2 {
			i := (k + r) % 2 // alternate which goes first
			start := time.Now()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for j := w; j < perRound; j += workers {
						e.get(b, urls[i], e.tokens[j%benchTokens], true)
					}
				})
			}
			wg.Wait()
			spent[i] += time.Since(start)
		}
	}
	n := float64(b.N * perRound)
	b.ReportMetric(float64(spent[0].Nanoseconds())/n, "ns/req-empty")
	b.ReportMetric(float64(spent[1].Nanoseconds())/n, "ns/req-100k")
}

func revocationGateway(b *testing.B, e *benchEnv, is *gatewaytest.Issuer, clock *gatewaytest.Clock, entries int) string {
	b.Helper()
	set := revocation.NewSet(clock.Now)
	evs := make([]revocation.Event, 0, entries)
	for i := range entries {
		if i%2 == 0 {
			evs = append(evs, revocation.Event{Kind: revocation.KindJTI, JTI: fmt.Sprintf("revoked-%d", i),
				Expires: clock.Now().Add(time.Hour)})
		} else {
			evs = append(evs, revocation.Event{Kind: revocation.KindSubject, Subject: fmt.Sprintf("gone-%d", i),
				NotBefore: clock.Now(), Expires: clock.Now().Add(time.Hour)})
		}
	}
	if _, err := set.Apply(evs...); err != nil {
		b.Fatal(err)
	}
	cfg := gatewaytest.Config([]config.Issuer{gatewaytest.PortcullisIssuer(is)}, []config.Resource{
		{Name: "tenant", Path: "/accounts/{account}/apps/{app}/{rest...}", Upstream: e.upstream.URL,
			Account: "{account}", Application: "{app}", Access: "roles", Roles: []string{"developer"}},
	})
	_, srv := gatewaytest.Start(b, cfg, gateway.Options{Now: clock.Now, Revocations: set, Logger: slog.New(slog.DiscardHandler)})
	return srv.URL + "/accounts/acme/apps/billing/x"
}
