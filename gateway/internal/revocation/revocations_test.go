package revocation_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/gateway/internal/revocation"
	shared "github.com/portcullis/portcullis/shared/revocation"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// eventually polls cond until it holds or the bound passes. Sources are
// asynchronous; this waits for their effect, it does not stand in for
// expiry (that runs on injected clocks in shared/revocation's tests).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, cfg revocation.Config, reg prometheus.Registerer) *revocation.Revocations {
	t.Helper()
	cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	r, err := revocation.New(cfg, revocation.Deps{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if reg != nil {
		if err := r.RegisterMetrics(reg); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

// emit does what the auth server's emitter does: write the live key with its
// TTL and publish the event.
func emit(t *testing.T, rc *redis.Client, prefix string, ev shared.Event) {
	t.Helper()
	ev.EmittedAt = time.Now()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := rc.Set(ctx, shared.Key(prefix, &ev), b, shared.TTL(&ev, time.Now())).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Publish(ctx, shared.Channel(prefix), b).Err(); err != nil {
		t.Fatal(err)
	}
}

func jti(id string) shared.Event {
	return shared.Event{Kind: shared.KindJTI, JTI: id, Expires: time.Now().Add(time.Hour)}
}

func logout(sub string, at time.Time) shared.Event {
	return shared.Event{Kind: shared.KindSubject, Subject: sub, NotBefore: at, Expires: at.Add(time.Hour)}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  revocation.Config
		want []string
	}{
		{"nothing", revocation.Config{}, []string{"set redis or feed"}},
		{"both", revocation.Config{Redis: "redis://x", Feed: "http://x"}, []string{"not both"}},
		{"bad redis URL", revocation.Config{Redis: "http://x"}, []string{"revocation.redis"}},
		{"feed without credentials", revocation.Config{Feed: "ftp://x"},
			[]string{"revocation.feed", "revocation.client_id", "revocation.client_secret"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	ok := revocation.Config{Feed: "https://auth.example/oauth2/revocations", ClientID: "gw", ClientSecret: "s"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRedisSourceCatchesUpThenFollows(t *testing.T) {
	mr := miniredis.RunT(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rc.Close() })
	now := time.Now()
	// Emitted before the gateway starts: the catch-up case.
	emit(t, rc, "p:", jti("old-token"))
	emit(t, rc, "p:", logout("alice", now))

	reg := prometheus.NewRegistry()
	r := start(t, revocation.Config{Redis: "redis://" + mr.Addr(), Prefix: "p:"}, reg)
	eventually(t, "first sync", func() bool { return r.Ready() == nil })

	if !r.Revoked("old-token", "bob", "web", now) {
		t.Fatal("token revoked before the gateway started is accepted")
	}
	if !r.Revoked("any", "alice", "web", now.Add(-time.Second)) {
		t.Fatal("alice's token from before her logout is accepted")
	}
	if r.Revoked("fresh", "bob", "web", now) {
		t.Fatal("unaffected token refused")
	}

	emit(t, rc, "p:", jti("live-token"))
	eventually(t, "live event applied", func() bool { return r.Revoked("live-token", "", "", now) })

	if st := r.Status(); !st.Synced || st.Source != "redis" || st.Size != 3 {
		t.Fatalf("status %+v", st)
	}
	if got := gaugeValue(t, reg, "portcullis_gateway_revocation_set_size"); got != 3 {
		t.Fatalf("set size metric %v", got)
	}
	if n := testutil.CollectAndCount(reg, "portcullis_gateway_revocation_lag_seconds"); n != 1 {
		t.Fatalf("lag histogram missing (%d series)", n)
	}
	if got := gaugeValue(t, reg, "portcullis_gateway_revocation_synced"); got != 1 {
		t.Fatalf("synced gauge %v", got)
	}
}

// gaugeValue reads a gauge from the registry, as /metrics would show it.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestTokensRefusedUntilFirstSync(t *testing.T) {
	mr := miniredis.RunT(t)
	addr := mr.Addr()
	mr.Close() // Redis is down when the gateway starts
	r := start(t, revocation.Config{Redis: "redis://" + addr}, nil)
	if !r.Revoked("j", "s", "c", time.Now()) || r.Ready() == nil {
		t.Fatal("a gateway that never loaded its set accepts tokens or says ready")
	}
	eventually(t, "source error recorded", func() bool { return r.Status().LastError != "" })
	if err := mr.StartAddr(addr); err != nil {
		t.Fatal(err)
	}
	eventually(t, "first sync after Redis came up", func() bool { return r.Ready() == nil })
	if r.Revoked("j", "s", "c", time.Now()) {
		t.Fatal("token refused after sync")
	}
}

func TestRedisLossKeepsLastSetAndConverges(t *testing.T) {
	for _, failClosed := range []bool{false, true} {
		t.Run("fail_closed="+strconv.FormatBool(failClosed), func(t *testing.T) {
			mr := miniredis.RunT(t)
			rc := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { _ = rc.Close() })
			// A short ping period exercises the idle ping/pong path too.
			r := start(t, revocation.Config{Redis: "redis://" + mr.Addr(), FailClosed: failClosed,
				PingEvery: 20 * time.Millisecond}, nil)
			eventually(t, "first sync", func() bool { return r.Ready() == nil })
			emit(t, rc, shared.DefaultPrefix, jti("before-outage"))
			eventually(t, "event applied", func() bool { return r.Revoked("before-outage", "", "", time.Now()) })

			mr.Close()
			eventually(t, "outage noticed", func() bool { return !r.Status().Synced })
			if !r.Revoked("before-outage", "", "", time.Now()) {
				t.Fatal("last known set dropped during the outage")
			}
			if got := r.Revoked("unrelated", "bob", "web", time.Now()); got != failClosed {
				t.Fatalf("unrelated token revoked=%v during the outage, want %v", got, failClosed)
			}
			if ready := r.Ready() == nil; ready == failClosed {
				t.Fatalf("ready=%v during the outage with fail_closed=%v", ready, failClosed)
			}

			// Redis comes back (with its data, plus an event the auth
			// server's repair loop wrote meanwhile; no live publish
			// reaches the gateway for it).
			if err := mr.Restart(); err != nil {
				t.Fatal(err)
			}
			ev := jti("during-outage")
			b, _ := json.Marshal(ev)
			if err := mr.Set(shared.Key(shared.DefaultPrefix, &ev), string(b)); err != nil {
				t.Fatal(err)
			}
			eventually(t, "reconnected and reloaded", func() bool {
				return r.Status().Synced && r.Revoked("during-outage", "", "", time.Now())
			})
			if r.Revoked("unrelated", "bob", "web", time.Now()) || r.Ready() != nil {
				t.Fatal("gateway did not return to normal after the reload")
			}
		})
	}
}

func TestRedisSourceAgainstRealRedis(t *testing.T) {
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PORTCULLIS_TEST_REDIS_ADDR not set")
	}
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	prefix := "pctest:" + hex.EncodeToString(rb[:]) + ":"
	t.Cleanup(func() {
		keys, _ := rc.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			_ = rc.Del(context.Background(), keys...).Err()
		}
	})
	for i := range 2500 { // more than one SCAN batch
		emit(t, rc, prefix, jti("bulk-"+strconv.Itoa(i)))
	}
	r := start(t, revocation.Config{Redis: "redis://" + addr, Prefix: prefix}, nil)
	eventually(t, "first sync", func() bool { return r.Ready() == nil })
	if r.Status().Size != 2500 || !r.Revoked("bulk-2499", "", "", time.Now()) {
		t.Fatalf("loaded %d entries", r.Status().Size)
	}
	start := time.Now()
	emit(t, rc, prefix, logout("alice", time.Now()))
	eventually(t, "live event", func() bool { return r.Revoked("", "alice", "", start.Add(-time.Second)) })
	t.Logf("live event applied %v after publish", time.Since(start))
}

// feedServer is a stand-in auth server feed (the real handler is tested in
// the auth server; the end-to-end tests run both together).
type feedServer struct {
	mu     sync.Mutex
	events []shared.Event
	fail   bool
	sinces []string
}

func (f *feedServer) add(ev shared.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev.Seq = int64(len(f.events) + 1)
	ev.EmittedAt = time.Now()
	f.events = append(f.events, ev)
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, secret, ok := r.BasicAuth(); !ok || id != "gw" || secret != "s%3Acret" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	if f.fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	f.sinces = append(f.sinces, r.URL.Query().Get("since"))
	page := shared.FeedPage{Events: []shared.Event{}, Cursor: strconv.FormatInt(since, 10)}
	for _, ev := range f.events {
		if ev.Seq > since && len(page.Events) < 2 { // pages of two
			page.Events = append(page.Events, ev)
			page.Cursor = strconv.FormatInt(ev.Seq, 10)
		}
	}
	page.More = len(page.Events) == 2
	_ = json.NewEncoder(w).Encode(page)
}

func TestFeedSourcePollsWithCursor(t *testing.T) {
	f := &feedServer{}
	now := time.Now()
	f.add(jti("a"))
	f.add(jti("b"))
	f.add(logout("alice", now))
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	r := start(t, revocation.Config{Feed: srv.URL + shared.FeedPath, ClientID: "gw", ClientSecret: "s:cret",
		Interval: 20 * time.Millisecond}, nil)
	eventually(t, "first sync", func() bool { return r.Ready() == nil })
	if !r.Revoked("a", "", "", now) || !r.Revoked("b", "", "", now) || !r.Revoked("x", "alice", "", now.Add(-time.Second)) {
		t.Fatal("catch-up over several pages incomplete")
	}
	f.add(jti("c"))
	eventually(t, "new event polled", func() bool { return r.Revoked("c", "", "", now) })

	f.mu.Lock()
	sinces := append([]string(nil), f.sinces...)
	f.mu.Unlock()
	if sinces[0] != "" || sinces[1] != "2" || !contains(sinces, "3") {
		t.Fatalf("cursors asked for: %v", sinces)
	}

	// The feed fails: the set keeps serving (fail-open), the status says so.
	f.mu.Lock()
	f.fail = true
	f.mu.Unlock()
	eventually(t, "failure noticed", func() bool { return !r.Status().Synced })
	if !r.Revoked("c", "", "", now) || r.Revoked("fresh", "bob", "", now) || r.Ready() != nil {
		t.Fatal("fail-open gateway changed behaviour during a feed outage")
	}
	f.mu.Lock()
	f.fail = false
	f.mu.Unlock()
	eventually(t, "back in sync", func() bool { return r.Status().Synced })
}

func TestFeedSourceFailClosed(t *testing.T) {
	f := &feedServer{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	r := start(t, revocation.Config{Feed: srv.URL, ClientID: "gw", ClientSecret: "s:cret",
		Interval: 20 * time.Millisecond, FailClosed: true}, nil)
	eventually(t, "first sync", func() bool { return r.Ready() == nil })
	f.mu.Lock()
	f.fail = true
	f.mu.Unlock()
	eventually(t, "refusing while out of sync", func() bool { return r.Revoked("fresh", "bob", "", time.Now()) })
	if r.Ready() == nil {
		t.Fatal("fail-closed gateway out of sync says ready")
	}
	f.mu.Lock()
	f.fail = false
	f.mu.Unlock()
	eventually(t, "accepting again", func() bool { return !r.Revoked("fresh", "bob", "", time.Now()) })
}

func TestFeedSourceReportsBadCredentials(t *testing.T) {
	srv := httptest.NewServer(&feedServer{})
	t.Cleanup(srv.Close)
	r := start(t, revocation.Config{Feed: srv.URL, ClientID: "gw", ClientSecret: "wrong", Interval: 20 * time.Millisecond}, nil)
	eventually(t, "error recorded", func() bool { return strings.Contains(r.Status().LastError, "invalid_client") })
	if r.Ready() == nil {
		t.Fatal("ready without ever loading the set")
	}
}

func TestRevokedDoesNotAllocate(t *testing.T) {
	f := &feedServer{}
	f.add(jti("a"))
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	r := start(t, revocation.Config{Feed: srv.URL, ClientID: "gw", ClientSecret: "s:cret"}, nil)
	eventually(t, "first sync", func() bool { return r.Ready() == nil })
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { r.Revoked("a", "bob", "web", now) }); n != 0 {
		t.Fatalf("Revoked allocates %.1f times", n)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
