package revocation

import (
	"errors"
	"hash/maphash"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// shardCount splits the set so that a write copies a small map rather than
// the whole set. It is a power of two; 256 shards keep a write to a set of
// 100,000 entries at a copy of a few hundred.
const shardCount = 256

// window is a not-before rule and the moment it becomes moot.
type window struct {
	notBefore time.Time
	expires   time.Time
}

// subjectEntry holds the rules of one subject: one for all of its tokens
// (zero notBefore when none) and one per client. Entries are immutable once
// published; writers replace them.
type subjectEntry struct {
	all     window
	clients map[string]window
}

// Set is an in-memory revocation set: jti -> revoked until it expires, and
// subject (optionally narrowed to a client) -> tokens issued before
// not_before are revoked.
//
// Reads are lock-free: each shard is an immutable map behind an atomic
// pointer, so Revoked costs a hash, two atomic loads and two map lookups,
// allocates nothing and never waits for a writer, which matters on the
// gateway's request path where every request calls it. Writers (the one
// goroutine of a revocation source, plus the sweeper) serialise on a mutex
// and replace only the shards they change (copy on write), so a write costs
// O(entries/256), not O(entries).
type Set struct {
	now  func() time.Time
	seed maphash.Seed

	jti [shardCount]atomic.Pointer[map[string]time.Time] // jti -> expires
	sub [shardCount]atomic.Pointer[map[string]*subjectEntry]
	// filter answers "certainly not in the set" for almost every lookup
	// with one load from a fixed-size bit array, before any map is
	// touched. It is what makes the check cost the same with 100,000
	// entries as with none: both take the same path through the same
	// amount of memory, and only the rare positive reaches a map.
	filter atomic.Pointer[bloom]

	mu   sync.Mutex // serialises writers
	size atomic.Int64
}

// NewSet returns an empty set whose expiry uses now (time.Now when nil).
func NewSet(now func() time.Time) *Set {
	if now == nil {
		now = time.Now
	}
	s := &Set{now: now, seed: maphash.MakeSeed()}
	s.filter.Store(newBloom(0))
	for i := range shardCount {
		j := map[string]time.Time{}
		u := map[string]*subjectEntry{}
		s.jti[i].Store(&j)
		s.sub[i].Store(&u)
	}
	return s
}

func (s *Set) hash(key string) uint64 { return maphash.String(s.seed, key) }

func shardOf(h uint64) int { return int(h & (shardCount - 1)) }

// Revoked reports whether a token is revoked: its jti is in the set, or it
// was issued before a not_before of its subject (for every client, or for
// its client). A zero issuedAt counts as issued before any not_before: a
// token that does not say when it was issued cannot prove it is newer.
func (s *Set) Revoked(jti, sub, clientID string, issuedAt time.Time) bool {
	f := s.filter.Load()
	if jti != "" {
		if h := s.hash(jti); f.mayContain(h) {
			if _, ok := (*s.jti[shardOf(h)].Load())[jti]; ok {
				return true
			}
		}
	}
	if sub == "" {
		return false
	}
	h := s.hash(sub)
	if !f.mayContain(h) {
		return false
	}
	e, ok := (*s.sub[shardOf(h)].Load())[sub]
	if !ok {
		return false
	}
	if !e.all.notBefore.IsZero() && issuedAt.Before(e.all.notBefore) {
		return true
	}
	if clientID != "" {
		if w, ok := e.clients[clientID]; ok && issuedAt.Before(w.notBefore) {
			return true
		}
	}
	return false
}

// Len is the number of entries: one per jti, per subject-wide rule and per
// subject-and-client rule.
func (s *Set) Len() int { return int(s.size.Load()) }

// Apply adds events to the set and returns how many it applied. Invalid
// events, events of unknown kinds and events already moot are skipped (a
// newer emitter may send kinds this version does not know); errors.Join of
// the validation errors is returned beside the count. A rule for a subject
// keeps the latest not_before and expiry it has seen, so order does not
// matter.
func (s *Set) Apply(events ...Event) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var (
		jti   [shardCount]map[string]time.Time // shards copied in this call
		sub   [shardCount]map[string]*subjectEntry
		errs  []error
		added int64
		n     int
	)
	for i := range events {
		e := &events[i]
		if err := e.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if !e.Expires.After(now) {
			continue
		}
		n++
		switch e.Kind {
		case KindJTI:
			h := s.hash(e.JTI)
			s.filter.Load().add(h)
			sh := shardOf(h)
			if jti[sh] == nil {
				jti[sh] = maps.Clone(*s.jti[sh].Load())
			}
			old, ok := jti[sh][e.JTI]
			if !ok {
				added++
			}
			if !ok || e.Expires.After(old) {
				jti[sh][e.JTI] = e.Expires
			}
		case KindSubject:
			h := s.hash(e.Subject)
			s.filter.Load().add(h)
			sh := shardOf(h)
			if sub[sh] == nil {
				sub[sh] = maps.Clone(*s.sub[sh].Load())
			}
			var d int64
			sub[sh][e.Subject], d = withRule(sub[sh][e.Subject], e)
			added += d
		}
	}
	for i := range shardCount {
		if jti[i] != nil {
			s.jti[i].Store(&jti[i])
		}
		if sub[i] != nil {
			s.sub[i].Store(&sub[i])
		}
	}
	s.size.Add(added)
	if f := s.filter.Load(); s.Len() > 2*f.capacity() {
		// A burst outgrew the filter: rebuild it now rather than at the next
		// sweep, so that it does not fill up and send every lookup to the maps.
		s.filter.Store(s.rebuildFilter())
	}
	return n, errors.Join(errs...)
}

// rebuildFilter returns a filter sized for the set and holding every key
// in the published shards. Callers hold s.mu.
func (s *Set) rebuildFilter() *bloom {
	f := newBloom(s.Len())
	for i := range shardCount {
		for k := range *s.jti[i].Load() {
			f.add(s.hash(k))
		}
		for k := range *s.sub[i].Load() {
			f.add(s.hash(k))
		}
	}
	return f
}

// withRule returns a copy of old (which may be nil) with e's rule merged in,
// and 1 when the rule is new.
func withRule(old *subjectEntry, e *Event) (*subjectEntry, int64) {
	ne := &subjectEntry{}
	if old != nil {
		ne.all = old.all
		if old.clients != nil {
			ne.clients = maps.Clone(old.clients)
		}
	}
	w := window{notBefore: e.NotBefore, expires: e.Expires}
	if e.ClientID == "" {
		isNew := ne.all.notBefore.IsZero()
		ne.all = merge(ne.all, w)
		return ne, boolInt(isNew)
	}
	if ne.clients == nil {
		ne.clients = map[string]window{}
	}
	cur, ok := ne.clients[e.ClientID]
	ne.clients[e.ClientID] = merge(cur, w)
	return ne, boolInt(!ok)
}

func merge(a, b window) window {
	if b.notBefore.After(a.notBefore) {
		a.notBefore = b.notBefore
	}
	if b.expires.After(a.expires) {
		a.expires = b.expires
	}
	return a
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Sweep drops the entries that are moot at the set's current time and
// returns how many it dropped. Callers run it periodically; until then a
// moot entry only costs memory (it cannot refuse a live token: a token
// matching it has expired).
func (s *Set) Sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	removed := 0
	for i := range shardCount {
		if m, n := sweepJTI(*s.jti[i].Load(), now); n > 0 {
			s.jti[i].Store(&m)
			removed += n
		}
		if m, n := sweepSub(*s.sub[i].Load(), now); n > 0 {
			s.sub[i].Store(&m)
			removed += n
		}
	}
	s.size.Add(-int64(removed))
	if removed > 0 {
		// Moot keys leave the filter only by a rebuild; readers holding the
		// old filter see a superset, which costs a map lookup, never a
		// wrong answer.
		s.filter.Store(s.rebuildFilter())
	}
	return removed
}

func sweepJTI(m map[string]time.Time, now time.Time) (map[string]time.Time, int) {
	n := 0
	for _, exp := range m {
		if !exp.After(now) {
			n++
		}
	}
	if n == 0 {
		return m, 0
	}
	out := make(map[string]time.Time, len(m)-n)
	for k, exp := range m {
		if exp.After(now) {
			out[k] = exp
		}
	}
	return out, n
}

func sweepSub(m map[string]*subjectEntry, now time.Time) (map[string]*subjectEntry, int) {
	n := 0
	for _, e := range m {
		n += e.moot(now)
	}
	if n == 0 {
		return m, 0
	}
	out := make(map[string]*subjectEntry, len(m))
	for k, e := range m {
		if e.moot(now) == 0 {
			out[k] = e
			continue
		}
		ne := &subjectEntry{}
		if !e.all.notBefore.IsZero() && e.all.expires.After(now) {
			ne.all = e.all
		}
		for c, w := range e.clients {
			if w.expires.After(now) {
				if ne.clients == nil {
					ne.clients = map[string]window{}
				}
				ne.clients[c] = w
			}
		}
		if !ne.all.notBefore.IsZero() || len(ne.clients) > 0 {
			out[k] = ne
		}
	}
	return out, n
}

// moot counts the entry's rules that are moot at now.
func (e *subjectEntry) moot(now time.Time) int {
	n := 0
	if !e.all.notBefore.IsZero() && !e.all.expires.After(now) {
		n++
	}
	for _, w := range e.clients {
		if !w.expires.After(now) {
			n++
		}
	}
	return n
}
