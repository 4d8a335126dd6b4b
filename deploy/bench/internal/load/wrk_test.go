package load

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Output of `wrk -t2 -c64 -d5s --latency -s portcullis-bench.lua URL`.
const wrkOut = `Running 5s test @ http://127.0.0.1:40123/api/items
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.04ms    2.21ms  40.68ms   83.55%
    Req/Sec     8.15k   533.96     9.21k    71.00%
  Latency Distribution
     50%    3.62ms
     75%    4.75ms
     90%    6.44ms
     99%   12.07ms
  81140 requests in 5.00s, 11.76MB read
Requests/sec:  16219.56
Transfer/sec:      2.35MB
`

func TestParseWrkStandardOutput(t *testing.T) {
	r, err := ParseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Tool: "wrk", Requests: 81140, Duration: 5 * time.Second, RPS: 16219.56,
		P50: 3620 * time.Microsecond, P99: 12070 * time.Microsecond}
	if r != want {
		t.Fatalf("got %+v\nwant %+v", r, want)
	}
}

func TestParseWrkErrorsAndSummaryLine(t *testing.T) {
	out := strings.Replace(wrkOut, "Requests/sec:", `  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:`, 1) +
		"PORTCULLIS-BENCH requests=81140 duration_us=5001234 p50_us=3601 p99_us=12071 p999_us=25003 status=7 connect=0 read=3 write=0 timeout=2\n"
	r, err := ParseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 12 {
		t.Errorf("errors = %d, want 12 (7 non-2xx + 5 socket)", r.Errors)
	}
	if r.P999 != 25003*time.Microsecond || r.P50 != 3601*time.Microsecond || r.Duration != 5001234*time.Microsecond {
		t.Errorf("summary line not used: %+v", r)
	}
}

func TestParseWrkRejectsGarbage(t *testing.T) {
	if _, err := ParseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Fatal("want an error for output without Requests/sec")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"812.00us": 812 * time.Microsecond,
		"1.50ms":   1500 * time.Microsecond,
		"2.00s":    2 * time.Second,
		"1.00m":    time.Minute,
	} {
		if got, err := parseWrkDuration(in); err != nil || got != want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseWrkDuration("3.0parsecs"); err == nil {
		t.Error("want an error for an unknown unit")
	}
}

// tokenServer counts requests per bearer token and fails any request without
// one of the expected tokens.
func tokenServer(t *testing.T, tokens []string) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	ok := map[string]bool{}
	for _, tok := range tokens {
		ok[tok] = true
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		seen[tok]++
		mu.Unlock()
		if !ok[tok] {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		// A copy: handlers of connections wrk left open may still write.
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}

func TestRunWrkRotatesTokens(t *testing.T) {
	wrk := WrkPath()
	if wrk == "" {
		t.Skip("wrk not installed")
	}
	tokens := []string{"tok-a", "tok-b", "tok-c"}
	srv, seen := tokenServer(t, tokens)
	r, err := RunWrk(context.Background(), wrk, t.TempDir(), Target{URL: srv.URL + "/x", Tokens: tokens},
		Closed{Connections: 4, Threads: 2, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.Requests == 0 || r.RPS <= 0 || r.P999 < r.P50 {
		t.Fatalf("unexpected result %+v", r)
	}
	for _, tok := range tokens {
		if seen()[tok] == 0 {
			t.Errorf("token %s never sent: %v", tok, seen())
		}
	}
}

func TestVegetaCountsErrors(t *testing.T) {
	srv, seen := tokenServer(t, []string{"good"})
	r, err := RunVegetaOpen(context.Background(), Target{URL: srv.URL, Tokens: []string{"good", "bad"}},
		Open{Rate: 200, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests < 50 || r.Errors == 0 || r.Errors == r.Requests || r.ErrorSample == "" {
		t.Fatalf("want about half the requests failed with a sample: %+v (seen %v)", r, seen())
	}
	c, err := RunVegetaClosed(context.Background(), Target{URL: srv.URL, Tokens: []string{"good"}},
		Closed{Connections: 2, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if c.Errors != 0 || c.Requests == 0 {
		t.Fatalf("closed loop: %+v", c)
	}
}

func TestRunLoopChainsRefreshTokens(t *testing.T) {
	// A token endpoint that accepts each refresh token once and rotates it.
	var mu sync.Mutex
	live := map[string]bool{"r0-0": true, "r1-0": true}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		old := r.PostForm.Get("refresh_token")
		if !live[old] {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		delete(live, old)
		n++
		next := old[:3] + strings.Repeat("x", n)
		live[next] = true
		_, _ = w.Write([]byte(`{"access_token":"at","refresh_token":"` + next + `"}`))
	}))
	defer srv.Close()
	r, err := RunLoop(context.Background(), "refresh", 2, 300*time.Millisecond, func(i int) (Worker, error) {
		return RefreshWorker(srv.Client(), srv.URL, "cli", "secret", []string{"r0-0", "r1-0"}[i]), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.Requests < 4 {
		t.Fatalf("want every chained refresh to succeed: %+v", r)
	}
}
