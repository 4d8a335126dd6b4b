package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// propagationBound is what the tests assert; the target (issue 6) is one
// second, and each wait logs the measured figure.
const propagationBound = 3 * time.Second

func TestRevocationEndToEndRedis(t *testing.T) {
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PORTCULLIS_TEST_REDIS_ADDR not set")
	}
	// The auth server's revocation keys use the fixed "portcullis:" prefix;
	// a database of its own (8-15) keeps this run's keys apart from other
	// users of the shared server. (Pub/sub is server-wide; a foreign event
	// could only revoke subjects and jtis this test never uses.)
	n, _ := rand.Int(rand.Reader, big.NewInt(8))
	exercise(t, newStack(t, options{redisURL: fmt.Sprintf("redis://%s/%d", addr, 8+n.Int64())}))
}

func TestRevocationEndToEndFeed(t *testing.T) {
	exercise(t, newStack(t, options{}))
}

// exercise runs the scenarios on a stack: logout, RFC 7009
// revocation, role removal and user disable each make the old access token
// refused by two gateways, promptly, while an unaffected user's token keeps
// working; a gateway started afterwards refuses the token too.
func exercise(t *testing.T, s *stack) {
	up := upstream(t)
	s.addGateway(t, up)
	s.addGateway(t, up)

	bob := s.login(t, "bob")
	alice := s.login(t, "alice")
	s.expectStatus(t, "/api/x", alice.Access, http.StatusOK)
	s.expectStatus(t, "/billing/x", alice.Access, http.StatusOK)

	var figures []string
	note := func(what string, d time.Duration) {
		figures = append(figures, fmt.Sprintf("%s %v", what, d.Round(time.Millisecond)))
	}

	t.Run("logout", func(t *testing.T) {
		start := time.Now()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.authURL+"/oauth2/logout", nil)
		req.Header.Set("Authorization", "Bearer "+alice.Access)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		note("logout", s.waitRefused(t, "logout", alice.Access, start, propagationBound))
		s.expectStatus(t, "/api/x", bob.Access, http.StatusOK)
		// The refresh token of that login is revoked too.
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {alice.Refresh}}
		req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, s.authURL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(s.web.id, s.web.secret)
		resp, err = http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("refresh after logout: %d, want 400 invalid_grant", resp.StatusCode)
		}
	})

	t.Run("RFC 7009 revocation", func(t *testing.T) {
		nextMillisecond()
		tok := s.login(t, "alice")
		s.expectStatus(t, "/api/x", tok.Access, http.StatusOK)
		start := time.Now()
		form := url.Values{"token": {tok.Access}, "token_type_hint": {"access_token"}}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.authURL+"/oauth2/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(s.web.id, s.web.secret)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		note("revoke", s.waitRefused(t, "RFC 7009 revocation", tok.Access, start, propagationBound))
		s.expectStatus(t, "/api/x", bob.Access, http.StatusOK)
	})

	var disabled tokens
	t.Run("role removal", func(t *testing.T) {
		nextMillisecond()
		tok := s.login(t, "alice")
		s.expectStatus(t, "/billing/x", tok.Access, http.StatusOK)
		// Measured from the moment the CLI exits (it emits the event just
		// before): the propagation, not the process start-up.
		s.cli(t, "", "role", "revoke", "--username", "alice", "--role", "developer", "--account", "acme", "--application", "billing")
		start := time.Now()
		note("role removal", s.waitRefused(t, "role removal", tok.Access, start, propagationBound))
		s.expectStatus(t, "/billing/x", bob.Access, http.StatusOK)

		nextMillisecond()
		fresh := s.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.Refresh}})
		if r := fmt.Sprint(claims(t, fresh.Access)["roles"]); strings.Contains(r, "developer") {
			t.Fatalf("refreshed token still carries the removed role: %s", r)
		}
		s.expectStatus(t, "/api/x", fresh.Access, http.StatusOK)
		s.expectStatus(t, "/billing/x", fresh.Access, http.StatusForbidden)
		disabled = fresh
	})

	t.Run("user disable", func(t *testing.T) {
		if disabled.Access == "" {
			nextMillisecond()
			disabled = s.login(t, "alice")
		}
		s.expectStatus(t, "/api/x", disabled.Access, http.StatusOK)
		s.cli(t, "", "user", "disable", "--username", "alice")
		start := time.Now()
		note("user disable", s.waitRefused(t, "user disable", disabled.Access, start, propagationBound))
		s.expectStatus(t, "/api/x", bob.Access, http.StatusOK)
		s.expectStatus(t, "/billing/x", bob.Access, http.StatusOK)
	})

	t.Run("gateway started after the events", func(t *testing.T) {
		late := s.addGateway(t, up)
		for _, tok := range []string{alice.Access, disabled.Access} {
			if code, wa := call(t, late, "/api/x", tok); code != http.StatusUnauthorized || !strings.Contains(wa, "token revoked") {
				t.Fatalf("late gateway: %d %s, want 401 token revoked", code, wa)
			}
		}
		if code, _ := call(t, late, "/api/x", bob.Access); code != http.StatusOK {
			t.Fatalf("late gateway refuses bob: %d", code)
		}
	})
	t.Logf("propagation to 2 gateways: %s", strings.Join(figures, ", "))
}

// TestRedisOutageConverges stops Redis under a running auth server and
// gateway, revokes a token while it is down, and starts it again: the
// gateway keeps serving its last known set meanwhile, then converges (the
// auth server's repair loop republishes; the gateway reconnects and
// reloads). miniredis stands in for Redis because the shared server cannot
// be stopped.
func TestRedisOutageConverges(t *testing.T) {
	mr := miniredis.RunT(t)
	addr := mr.Addr()
	s := newStack(t, options{redisURL: "redis://" + addr})
	g := s.addGateway(t, upstream(t))

	early := s.login(t, "bob")
	tok := s.login(t, "alice")
	start := time.Now()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.authURL+"/oauth2/logout", nil)
	req.Header.Set("Authorization", "Bearer "+early.Access)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	s.waitRefused(t, "logout before the outage", early.Access, start, propagationBound)

	mr.Close()
	// Revoked while Redis is down: recorded in the feed, not published.
	form := url.Values{"token": {tok.Access}}
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, s.authURL+"/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.web.id, s.web.secret)
	resp, err = http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke with Redis down: %d", resp.StatusCode)
	}
	// The last known set keeps serving, and the gateway stays ready
	// (fail_closed is off).
	if code, _ := call(t, g, "/api/x", early.Access); code != http.StatusUnauthorized {
		t.Fatalf("token revoked before the outage accepted during it: %d", code)
	}
	waitStatus(t, g+"/readyz", http.StatusOK, time.Second)

	down := time.Now()
	must(t, mr.Restart())
	d := s.waitRefused(t, "revocation made during the outage", tok.Access, down, 20*time.Second)
	t.Logf("converged %v after Redis came back", d.Round(time.Millisecond))
	if code, _ := call(t, g, "/api/x", early.Access); code != http.StatusUnauthorized {
		t.Fatalf("earlier revocation lost after the reload: %d", code)
	}
}
