package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
	"github.com/portcullis/portcullis/gateway/internal/revocation"
	shared "github.com/portcullis/portcullis/shared/revocation"
)

// revocationFeed is a stand-in for the auth server's feed; the auth
// server's handler and the whole chain run together in the auth server's
// end-to-end tests.
type revocationFeed struct {
	mu     sync.Mutex
	up     bool
	events []shared.Event
}

func (f *revocationFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.up {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	page := shared.FeedPage{Events: []shared.Event{}, Cursor: strconv.FormatInt(since, 10)}
	for _, ev := range f.events {
		if ev.Seq > since {
			page.Events = append(page.Events, ev)
			page.Cursor = strconv.FormatInt(ev.Seq, 10)
		}
	}
	_ = json.NewEncoder(w).Encode(page)
}

func (f *revocationFeed) set(up bool, evs ...shared.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.up = up
	for _, ev := range evs {
		ev.Seq = int64(len(f.events) + 1)
		ev.EmittedAt = time.Now()
		f.events = append(f.events, ev)
	}
}

func getWithToken(t *testing.T, url, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("WWW-Authenticate"), string(b)
}

// TestRevocationInTheRequestPath: the revocation seam with the real
// revocation state: refused before the first sync (and /readyz 503), then a
// revoked jti and a subject's not_before are refused with 401 "token
// revoked" whether or not the token was cached, other tokens pass, and the
// metrics are on /metrics.
func TestRevocationInTheRequestPath(t *testing.T) {
	clock := gatewaytest.NewClock(time.Now())
	is := gatewaytest.NewIssuer(t, clock, "", "ES256")
	feed := &revocationFeed{}
	feedSrv := httptest.NewServer(feed)
	t.Cleanup(feedSrv.Close)

	rv, err := revocation.New(revocation.Config{Feed: feedSrv.URL, ClientID: "gw", ClientSecret: "s",
		Interval: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond}, revocation.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { rv.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	up := gatewaytest.Upstream(t)
	cfg := gatewaytest.Config([]config.Issuer{gatewaytest.PortcullisIssuer(is)}, []config.Resource{
		{Name: "api", Path: "/api/{rest...}", Upstream: up.URL, Access: "token"},
	})
	_, srv := gatewaytest.StartUnready(t, cfg, gateway.Options{Now: clock.Now, Revocations: rv})

	alice := is.Claims("alice")
	aliceTok := is.Sign(t, "", alice)
	bobTok := is.Token(t, "bob")
	carolTok := is.Token(t, "carol")

	// Feed down at start: nothing verified can pass yet.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, body := getWithToken(t, srv.URL+cfg.Paths.Ready, "")
		if code == http.StatusServiceUnavailable && strings.Contains(body, "revocation set not in sync") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz before the first sync: %d %s", code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, wa, _ := getWithToken(t, srv.URL+"/api/x", bobTok); code != http.StatusUnauthorized || !strings.Contains(wa, "token revoked") {
		t.Fatalf("token before the first sync: %d %s", code, wa)
	}

	feed.set(true)
	gatewaytest.WaitReady(t, srv.URL+cfg.Paths.Ready)
	for _, tok := range []string{aliceTok, bobTok, carolTok} {
		if code, _, _ := getWithToken(t, srv.URL+"/api/x", tok); code != http.StatusOK {
			t.Fatalf("valid token refused after sync: %d", code)
		}
	}

	feed.set(true,
		shared.Event{Kind: shared.KindJTI, JTI: alice["jti"].(string), Expires: time.Now().Add(time.Hour)},
		shared.Event{Kind: shared.KindSubject, Subject: "carol", NotBefore: clock.Now().Add(time.Second), Expires: time.Now().Add(time.Hour)})
	for _, tok := range []string{aliceTok, carolTok} { // both cached by now
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, wa, body := getWithToken(t, srv.URL+"/api/x", tok)
			if code == http.StatusUnauthorized {
				if !strings.Contains(wa, `error="invalid_token"`) || !strings.Contains(wa, `error_description="token revoked"`) ||
					!strings.Contains(body, `"token revoked"`) {
					t.Fatalf("revoked token refused with %s / %s", wa, body)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("revoked token still accepted: %d", code)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if code, _, _ := getWithToken(t, srv.URL+"/api/x", bobTok); code != http.StatusOK {
		t.Fatalf("unaffected token refused: %d", code)
	}
	clock.Advance(2 * time.Second)
	if code, _, _ := getWithToken(t, srv.URL+"/api/x", is.Token(t, "carol")); code != http.StatusOK {
		t.Fatalf("carol's token issued after her not_before refused: %d", code)
	}
	_, _, metrics := getWithToken(t, srv.URL+cfg.Paths.Metrics, "")
	for _, m := range []string{`portcullis_gateway_revocation_set_size{source="feed"} 2`,
		`portcullis_gateway_revocation_synced{source="feed"} 1`, "portcullis_gateway_revocation_lag_seconds_bucket"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}
