package revocation_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/shared/revocation"
)

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func jtiEvent(jti string, exp time.Time) revocation.Event {
	return revocation.Event{Kind: revocation.KindJTI, JTI: jti, Expires: exp}
}

func subEvent(sub, client string, nbf time.Time, ttl time.Duration) revocation.Event {
	return revocation.Event{Kind: revocation.KindSubject, Subject: sub, ClientID: client, NotBefore: nbf, Expires: nbf.Add(ttl)}
}

func mustApply(t *testing.T, s *revocation.Set, evs ...revocation.Event) {
	t.Helper()
	if _, err := s.Apply(evs...); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func TestSetJTIRevokedUntilSwept(t *testing.T) {
	c := newClock(t0)
	s := revocation.NewSet(c.Now)
	mustApply(t, s, jtiEvent("tok-1", t0.Add(5*time.Minute)))

	if !s.Revoked("tok-1", "alice", "web", t0) {
		t.Fatal("revoked jti accepted")
	}
	if s.Revoked("tok-2", "alice", "web", t0) {
		t.Fatal("other jti of the same subject refused")
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
	c.Advance(4 * time.Minute)
	if n := s.Sweep(); n != 0 || !s.Revoked("tok-1", "", "", time.Time{}) {
		t.Fatalf("sweep before exp removed %d entries", n)
	}
	c.Advance(time.Minute)
	if n := s.Sweep(); n != 1 {
		t.Fatalf("sweep at exp removed %d entries, want 1", n)
	}
	if s.Revoked("tok-1", "", "", time.Time{}) || s.Len() != 0 {
		t.Fatalf("moot jti still in the set (len %d)", s.Len())
	}
}

func TestSetSubjectNotBefore(t *testing.T) {
	c := newClock(t0)
	s := revocation.NewSet(c.Now)
	nbf := t0.Add(500 * time.Millisecond)
	mustApply(t, s, subEvent("alice", "", nbf, 5*time.Minute))

	cases := []struct {
		name    string
		sub     string
		client  string
		iat     time.Time
		revoked bool
	}{
		{"issued before not_before", "alice", "web", t0, true},
		{"issued a millisecond before", "alice", "cli", nbf.Add(-time.Millisecond), true},
		{"issued at not_before", "alice", "web", nbf, false},
		{"issued after", "alice", "", nbf.Add(time.Second), false},
		{"no issue time", "alice", "web", time.Time{}, true},
		{"other subject", "bob", "web", t0, false},
		{"empty subject", "", "web", t0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Revoked("some-jti", tc.sub, tc.client, tc.iat); got != tc.revoked {
				t.Fatalf("Revoked = %v, want %v", got, tc.revoked)
			}
		})
	}
}

func TestSetSubjectOfOneClient(t *testing.T) {
	s := revocation.NewSet(newClock(t0).Now)
	mustApply(t, s, subEvent("alice", "web", t0, 5*time.Minute))

	if !s.Revoked("j", "alice", "web", t0.Add(-time.Second)) {
		t.Fatal("token of the revoked client accepted")
	}
	if s.Revoked("j", "alice", "cli", t0.Add(-time.Second)) {
		t.Fatal("token of another client refused")
	}
	if s.Revoked("j", "alice", "", t0.Add(-time.Second)) {
		t.Fatal("token without client refused by a client rule")
	}
	// A later subject-wide rule covers every client.
	mustApply(t, s, subEvent("alice", "", t0.Add(time.Second), 5*time.Minute))
	if !s.Revoked("j", "alice", "cli", t0.Add(500*time.Millisecond)) {
		t.Fatal("subject-wide rule not applied to another client")
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (one client rule, one subject rule)", s.Len())
	}
}

func TestSetKeepsLatestRuleWhateverTheOrder(t *testing.T) {
	c := newClock(t0)
	s := revocation.NewSet(c.Now)
	later := subEvent("alice", "", t0.Add(time.Minute), 5*time.Minute)
	earlier := subEvent("alice", "", t0, 5*time.Minute)
	mustApply(t, s, later, earlier, later)

	if !s.Revoked("", "alice", "", t0.Add(30*time.Second)) {
		t.Fatal("earlier event replaced the later not_before")
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
	// The rule lives until the later event is moot, not the earlier one.
	c.Advance(5*time.Minute + time.Second)
	s.Sweep()
	if !s.Revoked("", "alice", "", t0.Add(30*time.Second)) {
		t.Fatal("rule swept at the earlier event's expiry")
	}
	c.Advance(time.Minute)
	if s.Sweep() != 1 || s.Len() != 0 {
		t.Fatalf("rule not swept at the later event's expiry (len %d)", s.Len())
	}
}

func TestSetSweepKeepsLiveRulesOfASubject(t *testing.T) {
	c := newClock(t0)
	s := revocation.NewSet(c.Now)
	mustApply(t, s,
		subEvent("alice", "", t0, time.Minute),
		subEvent("alice", "web", t0, 10*time.Minute),
		subEvent("alice", "cli", t0, 2*time.Minute))
	c.Advance(3 * time.Minute)
	if n := s.Sweep(); n != 2 {
		t.Fatalf("Sweep removed %d, want 2", n)
	}
	if s.Revoked("", "alice", "cli", t0.Add(-time.Second)) {
		t.Fatal("moot client rule still applies")
	}
	if !s.Revoked("", "alice", "web", t0.Add(-time.Second)) {
		t.Fatal("live client rule swept with its moot siblings")
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
}

func TestSetApplySkipsMootAndInvalidEvents(t *testing.T) {
	s := revocation.NewSet(newClock(t0).Now)
	n, err := s.Apply(
		jtiEvent("old", t0.Add(-time.Second)),                                                      // moot: skipped silently
		revocation.Event{Kind: revocation.KindJTI, JTI: "x"},                                       // no exp
		revocation.Event{Kind: "session", Subject: "alice"},                                        // unknown kind
		revocation.Event{Kind: revocation.KindSubject, Subject: "bob", Expires: t0.Add(time.Hour)}, // no not_before
		jtiEvent("live", t0.Add(time.Minute)),
	)
	if n != 1 {
		t.Fatalf("applied %d, want 1", n)
	}
	if !errors.Is(err, revocation.ErrUnknownKind) || !errors.Is(err, revocation.ErrIncomplete) {
		t.Fatalf("error %v does not report the unknown kind and the incomplete events", err)
	}
	if s.Revoked("old", "", "", t0) || !s.Revoked("live", "", "", t0) || s.Len() != 1 {
		t.Fatalf("set content wrong (len %d)", s.Len())
	}
}

func TestSetRevokedDoesNotAllocate(t *testing.T) {
	s := revocation.NewSet(newClock(t0).Now)
	for i := range 1000 {
		mustApply(t, s, jtiEvent(fmt.Sprintf("j%d", i), t0.Add(time.Hour)),
			subEvent(fmt.Sprintf("u%d", i), "web", t0, time.Hour))
	}
	allocs := testing.AllocsPerRun(1000, func() {
		s.Revoked("j5", "u5", "web", t0)
		s.Revoked("nope", "u5", "web", t0.Add(time.Second))
		s.Revoked("nope", "nobody", "web", t0)
	})
	if allocs != 0 {
		t.Fatalf("Revoked allocates %.1f times per call", allocs)
	}
}

// TestSetConcurrentReadersAndWriters runs under -race: readers never see a
// half-applied shard, and an applied event is visible to every later read.
func TestSetConcurrentReadersAndWriters(t *testing.T) {
	c := newClock(t0)
	s := revocation.NewSet(c.Now)
	const writes = 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s.Revoked("j1", "u1", "web", t0)
			}
		}()
	}
	for i := range writes {
		jti := fmt.Sprintf("j%d", i)
		mustApply(t, s, jtiEvent(jti, t0.Add(time.Duration(i%10+1)*time.Minute)))
		if !s.Revoked(jti, "", "", t0) {
			t.Errorf("event %d not visible after Apply", i)
		}
		if i%100 == 0 {
			s.Sweep()
		}
	}
	close(stop)
	wg.Wait()
	if s.Len() != writes {
		t.Fatalf("Len = %d, want %d", s.Len(), writes)
	}
	c.Advance(5*time.Minute + time.Second)
	s.Sweep()
	if s.Len() != writes/2 {
		t.Fatalf("after sweep Len = %d, want %d", s.Len(), writes/2)
	}
}

// TestSetOutgrowsItsFilter applies more entries than the initial filter was
// sized for, in one burst and then one by one: every entry must still be
// found and absent keys still pass.
func TestSetOutgrowsItsFilter(t *testing.T) {
	c := newClock(t0)
	s := revocation.NewSet(c.Now)
	const burst = 180_000
	evs := make([]revocation.Event, burst)
	for i := range evs {
		evs[i] = jtiEvent(fmt.Sprintf("j%d", i), t0.Add(time.Hour))
	}
	mustApply(t, s, evs...)
	mustApply(t, s, subEvent("late", "", t0, time.Hour))
	for i := 0; i < burst; i += 997 {
		if !s.Revoked(fmt.Sprintf("j%d", i), "", "", t0) {
			t.Fatalf("j%d not found after the filter grew", i)
		}
	}
	if !s.Revoked("", "late", "", t0.Add(-time.Second)) {
		t.Fatal("entry applied after the rebuild not found")
	}
	if s.Revoked("absent", "nobody", "", t0) {
		t.Fatal("absent key revoked")
	}
	if s.Len() != burst+1 {
		t.Fatalf("Len = %d", s.Len())
	}
}
