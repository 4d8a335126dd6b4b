package revocation_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/shared/revocation"
)

func subscribe(t *testing.T, rc *redis.Client, prefix string) *redis.PubSub {
	t.Helper()
	ps := rc.Subscribe(t.Context(), revocation.Channel(prefix))
	if _, err := ps.Receive(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	return ps
}

func receive(t *testing.T, ps *redis.PubSub) revocation.Event {
	t.Helper()
	msg, err := ps.ReceiveTimeout(t.Context(), 2*time.Second)
	if err != nil {
		t.Fatalf("no event published: %v", err)
	}
	m, ok := msg.(*redis.Message)
	if !ok {
		t.Fatalf("unexpected pub/sub message %T", msg)
	}
	var ev revocation.Event
	if err := json.Unmarshal([]byte(m.Payload), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func liveKey(t *testing.T, mr *miniredis.Miniredis, key string) (revocation.Event, time.Duration) {
	t.Helper()
	v, err := mr.Get(key)
	if err != nil {
		t.Fatalf("key %s: %v", key, err)
	}
	var ev revocation.Event
	if err := json.Unmarshal([]byte(v), &ev); err != nil {
		t.Fatal(err)
	}
	return ev, mr.TTL(key)
}

func TestRevokeTokenRecordsPublishesAndExpires(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	mr, rc := newMiniredis(t)
	e := newEmitter(t, st, rc, "p:", c)
	ps := subscribe(t, rc, "p:")

	exp := t0.Add(5 * time.Minute)
	if err := e.RevokeToken(t.Context(), "tok-1", exp); err != nil {
		t.Fatal(err)
	}
	// The feed: one jti event, moot 30s (the leeway) after the token's exp.
	rows, err := st.ListRevocationEvents(t.Context(), 0, c.Now(), 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("store holds %d events (%v), want 1", len(rows), err)
	}
	if rows[0].Kind != "jti" || rows[0].JTI != "tok-1" || !rows[0].ExpiresAt.Equal(exp.Add(30*time.Second)) {
		t.Fatalf("stored event %+v", rows[0])
	}
	// Pub/sub.
	got := receive(t, ps)
	if got.Seq != rows[0].Seq || got.Kind != revocation.KindJTI || got.JTI != "tok-1" || !got.EmittedAt.Equal(t0) {
		t.Fatalf("published %+v", got)
	}
	// The live key expires on its own when the event is moot.
	ev, ttl := liveKey(t, mr, "p:revoked:jti:tok-1")
	if ev.JTI != "tok-1" || ttl < 5*time.Minute+29*time.Second || ttl > 5*time.Minute+31*time.Second {
		t.Fatalf("live key %+v with TTL %v, want about 5m30s", ev, ttl)
	}
	mr.FastForward(5*time.Minute + 31*time.Second)
	if mr.Exists("p:revoked:jti:tok-1") {
		t.Fatal("live key outlived its event")
	}
}

func TestRevokeSubjectSetsNotBeforeAndRetention(t *testing.T) {
	c := newClock(t0.Add(1500 * time.Microsecond)) // not on a millisecond
	st := newStore(t, c)
	mr, rc := newMiniredis(t)
	e := newEmitter(t, st, rc, "p:", c)
	ps := subscribe(t, rc, "p:")

	if err := e.RevokeSubject(t.Context(), "u1", "web"); err != nil {
		t.Fatal(err)
	}
	got := receive(t, ps)
	wantNBF := t0.Add(2 * time.Millisecond) // rounded up, never down
	if got.Kind != revocation.KindSubject || got.Subject != "u1" || got.ClientID != "web" ||
		!got.NotBefore.Equal(wantNBF) || !got.Expires.Equal(wantNBF.Add(5*time.Minute+30*time.Second)) {
		t.Fatalf("published %+v", got)
	}
	if _, ttl := liveKey(t, mr, "p:revoked:sub:u1:web"); ttl < 5*time.Minute+29*time.Second {
		t.Fatalf("TTL %v, want the retention (5m30s)", ttl)
	}
	if err := e.RevokeSubject(t.Context(), "u1", ""); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, ps); got.ClientID != "" || !mr.Exists("p:revoked:sub:u1") {
		t.Fatalf("subject-wide event %+v not kept under its own key", got)
	}
}

func TestMootTokenNeedsNoEvent(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	e := newEmitter(t, st, nil, "p:", c)
	if err := e.RevokeToken(t.Context(), "old", t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	rows, err := st.ListRevocationEvents(t.Context(), 0, time.Time{}, 10)
	if err != nil || len(rows) != 0 {
		t.Fatalf("moot token recorded: %d events, %v", len(rows), err)
	}
}

func TestPublishFailureIsRepairedAfterRedisComesBack(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	mr, rc := newMiniredis(t)
	e := newEmitter(t, st, rc, "p:", c)

	mr.Close()
	if err := e.RevokeToken(t.Context(), "tok-1", t0.Add(time.Minute)); err != nil {
		t.Fatalf("Redis down must not fail the revocation: %v", err)
	}
	if _, err := e.Reconcile(t.Context()); err == nil {
		t.Fatal("Reconcile with Redis down reported success")
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	ps := subscribe(t, rc, "p:")
	n, err := e.Reconcile(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("Reconcile wrote %d events (%v), want 1", n, err)
	}
	if got := receive(t, ps); got.JTI != "tok-1" {
		t.Fatalf("republished %+v", got)
	}
	if !mr.Exists("p:revoked:jti:tok-1") {
		t.Fatal("live key missing after repair")
	}
	// Nothing new: the next pass writes nothing.
	if n, err := e.Reconcile(t.Context()); err != nil || n != 0 {
		t.Fatalf("second Reconcile wrote %d (%v), want 0", n, err)
	}
}

func TestReconcileRefillsARedisThatLostItsData(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	mr, rc := newMiniredis(t)
	e := newEmitter(t, st, rc, "p:", c)
	for _, jti := range []string{"a", "b", "c"} {
		if err := e.RevokeToken(t.Context(), jti, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.RevokeSubject(t.Context(), "u1", ""); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Reconcile(t.Context()); err != nil || n != 0 {
		t.Fatalf("Reconcile after clean publishes wrote %d (%v)", n, err)
	}
	mr.FlushAll() // a restart without persistence
	n, err := e.Reconcile(t.Context())
	if err != nil || n != 4 {
		t.Fatalf("Reconcile after data loss wrote %d (%v), want 4", n, err)
	}
	for _, k := range []string{"p:revoked:jti:a", "p:revoked:jti:b", "p:revoked:jti:c", "p:revoked:sub:u1"} {
		if !mr.Exists(k) {
			t.Fatalf("%s not restored", k)
		}
	}
}

func TestRepairNeverReplacesANewerRuleWithAnOlderOne(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	mr, rc := newMiniredis(t)
	e := newEmitter(t, st, rc, "p:", c)
	if err := e.RevokeSubject(t.Context(), "u1", ""); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := e.RevokeSubject(t.Context(), "u1", ""); err != nil {
		t.Fatal(err)
	}
	mr.Del("p:revocations:reconciled") // force a full pass over both events
	if n, err := e.Reconcile(t.Context()); err != nil || n != 0 {
		t.Fatalf("Reconcile wrote %d (%v), want 0", n, err)
	}
	ev, _ := liveKey(t, mr, "p:revoked:sub:u1")
	if !ev.NotBefore.Equal(t0.Add(time.Minute)) {
		t.Fatalf("live rule has not_before %v, want the later one", ev.NotBefore)
	}
}

func TestPruneDropsMootEvents(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	e := newEmitter(t, st, nil, "", c)
	if err := e.RevokeToken(t.Context(), "short", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := e.RevokeSubject(t.Context(), "u1", ""); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Minute)
	if n, err := e.Prune(t.Context()); err != nil || n != 1 {
		t.Fatalf("Prune deleted %d (%v), want 1 (the jti event)", n, err)
	}
	c.Advance(4 * time.Minute)
	if n, err := e.Prune(t.Context()); err != nil || n != 1 {
		t.Fatalf("Prune deleted %d (%v), want 1 (the subject event)", n, err)
	}
}

// TestEmitterAgainstRealRedis runs the publish path against a real server:
// the Lua script, the key's TTL and the channel.
func TestEmitterAgainstRealRedis(t *testing.T) {
	rc, prefix := realRedis(t)
	c := newClock(time.Now())
	st := newStore(t, c)
	e := newEmitter(t, st, rc, prefix, c)
	ps := subscribe(t, rc, prefix)

	if err := e.RevokeToken(t.Context(), "tok-1", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, ps); got.JTI != "tok-1" {
		t.Fatalf("published %+v", got)
	}
	ttl, err := rc.PTTL(t.Context(), prefix+"revoked:jti:tok-1").Result()
	if err != nil || ttl < 89*time.Second || ttl > 91*time.Second {
		t.Fatalf("PTTL %v (%v), want about 90s", ttl, err)
	}
	if err := rc.Del(t.Context(), prefix+"revoked:jti:tok-1", prefix+"revocations:reconciled").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Reconcile(t.Context()); err != nil || n != 1 {
		t.Fatalf("Reconcile wrote %d (%v), want 1", n, err)
	}
	if got := receive(t, ps); got.JTI != "tok-1" {
		t.Fatalf("republished %+v", got)
	}
}
