package revocation_test

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/revocation"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	shared "github.com/portcullis/portcullis/shared/revocation"
)

// staticClients stands in for the token service's client authentication,
// which this package receives as a dependency.
type staticClients map[string]struct {
	secret string
	client storage.Client
}

func (s staticClients) AuthenticateClient(_ context.Context, id, secret string) (*storage.Client, error) {
	c, ok := s[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return nil, revocation.ErrBadClient
	}
	return &c.client, nil
}

var feedClients = staticClients{
	"gateway": {"s3cret", storage.Client{ID: "gateway", Scopes: []string{"revocations"}}},
	"gw:2":    {"p&ss word", storage.Client{ID: "gw:2", Scopes: []string{"revocations"}}},
	"webapp":  {"other", storage.Client{ID: "webapp", Scopes: []string{"openid"}}},
}

func newFeed(t *testing.T, st revocation.EventStore, c *clock, pageSize int) string {
	t.Helper()
	e := echo.New()
	h := &revocation.FeedHandler{Store: st, Clients: feedClients, Logger: testLogger(t), Now: c.Now, PageSize: pageSize}
	h.Register(e.Group(""))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL + shared.FeedPath
}

func getFeed(t *testing.T, url, user, pass string) (*http.Response, map[string]json.RawMessage) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return resp, body
}

func TestFeedRefusesCallersWithoutTheScope(t *testing.T) {
	c := newClock(t0)
	url := newFeed(t, newStore(t, c), c, 0)
	cases := []struct {
		name, user, pass, query string
		status                  int
		code                    string
	}{
		{"no credentials", "", "", "", http.StatusUnauthorized, "invalid_client"},
		{"wrong secret", "gateway", "nope", "", http.StatusUnauthorized, "invalid_client"},
		{"unknown client", "ghost", "s3cret", "", http.StatusUnauthorized, "invalid_client"},
		{"client without the revocations scope", "webapp", "other", "", http.StatusBadRequest, "unauthorized_client"},
		{"form-encoded credentials are decoded", "gw%3A2", "p%26ss+word", "", http.StatusOK, ""},
		{"malformed cursor", "gateway", "s3cret", "?since=abc", http.StatusBadRequest, "invalid_request"},
		{"negative cursor", "gateway", "s3cret", "?since=-1", http.StatusBadRequest, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := getFeed(t, url+tc.query, tc.user, tc.pass)
			if tc.status == http.StatusOK {
				if resp.StatusCode != http.StatusOK || string(body["events"]) != "[]" {
					t.Fatalf("got %d %v", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != tc.status || string(body["error"]) != fmt.Sprintf("%q", tc.code) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body["error"], tc.status, tc.code)
			}
			if tc.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestFeedPagesThroughLiveEventsWithACursor(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	e := newEmitter(t, st, nil, "", c)
	url := newFeed(t, st, c, 2)
	if err := e.RevokeToken(t.Context(), "short-lived", t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := e.RevokeToken(t.Context(), fmt.Sprintf("tok-%d", i), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.RevokeSubject(t.Context(), "u1", "web"); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute) // the short-lived token's event is now moot

	var (
		seen   []shared.Event
		cursor string
	)
	for range 10 {
		resp, body := getFeed(t, url+"?since="+cursor, "gateway", "s3cret")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("status %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		var page shared.FeedPage
		raw, _ := json.Marshal(body)
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, page.Events...)
		cursor = page.Cursor
		if !page.More {
			break
		}
	}
	if len(seen) != 4 {
		t.Fatalf("feed returned %d events, want 4 live ones: %+v", len(seen), seen)
	}
	for i, ev := range seen {
		if err := ev.Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.JTI == "short-lived" {
			t.Fatal("moot event served")
		}
	}
	last := seen[3]
	if last.Kind != shared.KindSubject || last.Subject != "u1" || last.ClientID != "web" || last.EmittedAt.IsZero() {
		t.Fatalf("subject event %+v", last)
	}
	// Polling again from the cursor: nothing new, same cursor.
	_, body := getFeed(t, url+"?since="+cursor, "gateway", "s3cret")
	if string(body["events"]) != "[]" || string(body["cursor"]) != fmt.Sprintf("%q", cursor) {
		t.Fatalf("idle poll returned %s / %s", body["events"], body["cursor"])
	}
}
