package stateful

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/proxy"
)

// newStatefulServer seeds db and serves the stateful proxy in front of an
// upstream that echoes what it received.
func newStatefulServer(t *testing.T, db *DB) (*httptest.Server, Seed) {
	t.Helper()
	ctx := t.Context()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seed, err := db.Seed(ctx, 5, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "upstream saw %s auth=%q", r.URL.Path, r.Header.Get("Authorization"))
	}))
	t.Cleanup(upstream.Close)
	u, _ := url.Parse(upstream.URL)
	dec, err := NewDecider(ctx, db, Account, Application, []string{RequiredRole})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dec.Close() })
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	srv := httptest.NewServer(Handler(dec, proxy.New(u, proxy.NewTransport(), logger), logger))
	t.Cleanup(srv.Close)
	return srv, seed
}

func get(t *testing.T, srv *httptest.Server, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/items", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func runDecisionCases(t *testing.T, db *DB) {
	srv, seed := newStatefulServer(t, db)
	if len(seed.Tokens) != 5 {
		t.Fatalf("seeded %d sessions, want 5", len(seed.Tokens))
	}
	for i, tok := range seed.Tokens {
		status, body := get(t, srv, tok)
		if status != http.StatusOK || !strings.Contains(body, "upstream saw /api/items") {
			t.Fatalf("session %d: status %d body %q, want 200 from upstream", i, status, body)
		}
		if strings.Contains(body, tok) {
			t.Fatalf("session token forwarded upstream: %q", body)
		}
	}
	tests := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"no token", "", http.StatusUnauthorized, "invalid_token"},
		{"unknown session", "not-a-session", http.StatusUnauthorized, "invalid_token"},
		{"grants elsewhere only", seed.Denied, http.StatusForbidden, "insufficient_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, srv, tc.token)
			if status != tc.status || !strings.Contains(body, `"error":"`+tc.code+`"`) {
				t.Fatalf("status %d body %q, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}

	// A session past its expiry is refused even though the row exists.
	dec, err := NewDecider(t.Context(), db, Account, Application, []string{RequiredRole})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	dec.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	if got, err := dec.Decide(t.Context(), seed.Tokens[0]); err != nil || got != Unauthorized {
		t.Fatalf("expired session: %v, %v; want Unauthorized", got, err)
	}
	// A deactivated user's session stops working at the next request.
	if _, err := db.ExecContext(t.Context(), db.d.rebind(`UPDATE users SET active = ? WHERE id = ?`), false, "user-000001"); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, srv, seed.Tokens[1]); status != http.StatusUnauthorized {
		t.Fatalf("inactive user: status %d, want 401", status)
	}
}

func TestStatefulProxySQLite(t *testing.T) {
	db, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "bench.db"), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	runDecisionCases(t, db)
}

func TestStatefulProxyPostgres(t *testing.T) {
	dsn := os.Getenv("PORTCULLIS_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PORTCULLIS_TEST_POSTGRES_DSN not set")
	}
	ctx := t.Context()
	schema := fmt.Sprintf("bench_test_%d", time.Now().UnixNano())
	admin, err := Open(ctx, dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	db, err := Open(ctx, WithSearchPath(dsn, schema), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	runDecisionCases(t, db)
}
