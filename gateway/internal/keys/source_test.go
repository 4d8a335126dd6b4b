package keys_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
	"github.com/portcullis/portcullis/gateway/internal/keys"
	"github.com/portcullis/portcullis/shared/verify"
)

func opts(issuer string) keys.Options {
	return keys.Options{
		Issuer:             issuer,
		StaleMax:           time.Hour,
		RefreshMin:         time.Second,
		RefreshMax:         time.Minute,
		RefetchMinInterval: 10 * time.Millisecond,
	}
}

func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

// The background refresh follows the JWKS Cache-Control (bounded by
// refresh_min) and a withdrawn key stops verifying without any request.
func TestBackgroundRefreshDropsWithdrawnKey(t *testing.T) {
	is := gatewaytest.NewIssuer(t, gatewaytest.NewClock(time.Now()), "", "EdDSA")
	is.CacheControl = "max-age=1"
	old := is.Key(t, "").KID
	s := keys.New(opts(is.ID))
	s.Start(context.Background())
	defer s.Stop()
	eventually(t, 5*time.Second, "ready", s.Ready)
	if !s.Has(old) {
		t.Fatal("key not loaded")
	}
	next := is.AddKey(t, "ES256")
	is.RemoveKey(old)
	eventually(t, 5*time.Second, "the withdrawn key to disappear", func() bool { return !s.Has(old) && s.Has(next) })
	if _, err := s.Key(context.Background(), old); !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("withdrawn key: %v", err)
	}
}

// Forced refetches (unknown kids) must not add background schedules: after
// many of them the background fetch rate is still that of one schedule.
func TestForcedRefetchesDoNotPileUp(t *testing.T) {
	is := gatewaytest.NewIssuer(t, gatewaytest.NewClock(time.Now()), "", "EdDSA")
	is.CacheControl = "max-age=1"
	s := keys.New(opts(is.ID))
	s.Start(context.Background())
	defer s.Stop()
	eventually(t, 5*time.Second, "ready", s.Ready)
	for range 15 {
		_, _ = s.Key(context.Background(), "made-up")
		time.Sleep(15 * time.Millisecond)
	}
	before := is.Fetches()
	time.Sleep(2500 * time.Millisecond)
	if n := is.Fetches() - before; n > 4 {
		t.Fatalf("%d background fetches in 2.5s with max-age=1: schedules piled up", n)
	}
}

func TestDiscoveryMustNameTheSameIssuer(t *testing.T) {
	is := gatewaytest.NewIssuer(t, gatewaytest.NewClock(time.Now()), "", "EdDSA")
	// Discovery is fetched from {issuer}/.well-known/...: serve the real
	// document (naming is.ID) under the other issuer's path.
	mux := http.NewServeMux()
	mux.HandleFunc("/other/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":"` + is.ID + `","jwks_uri":"` + is.Server.URL + `/jwks.json"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := keys.New(opts(srv.URL + "/other"))
	if err := s.Load(context.Background()); err == nil {
		t.Fatal("discovery naming another issuer was accepted")
	}
	if s.Ready() {
		t.Fatal("ready without keys")
	}
	if _, err := s.Key(context.Background(), "x"); !errors.Is(err, verify.ErrKeysUnavailable) {
		t.Fatalf("lookup without keys: %v", err)
	}
}

func TestSymmetricKeysAreNeverUsed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}`))
	}))
	defer srv.Close()
	o := opts("https://issuer.test")
	o.JWKSURI = srv.URL
	s := keys.New(o)
	if err := s.Load(context.Background()); err == nil {
		t.Fatal("a JWKS with only an HMAC key was accepted")
	}
	if s.Has("h") || s.Ready() {
		t.Fatal("symmetric key installed")
	}
}
