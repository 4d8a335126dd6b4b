package gateway_test

import (
	"fmt"
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
			_, srv := gatewaytest.Start(b, cfg, gateway.Options{Now: clock.Now, Revocations: set})
			e.run(b, srv.URL+"/accounts/acme/apps/billing/x", true)
		})
	}
}
