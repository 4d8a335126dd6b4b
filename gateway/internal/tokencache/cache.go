package tokencache

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
	"time"
)

type entry[V any] struct {
	hash    uint64
	raw     string
	expires int64 // unix nanoseconds
	val     V
}

// Cache maps verified tokens to V. Its zero value is not usable; use New.
type Cache[V any] struct {
	seed  maphash.Seed
	slots []atomic.Pointer[entry[V]]
	mask  uint64
}

// New returns a cache with room for at least size entries (rounded up to a
// power of two, minimum 2).
func New[V any](size int) *Cache[V] {
	n := uint64(2)
	if size > 2 {
		n = 1 << bits.Len64(uint64(size-1))
	}
	return &Cache[V]{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[entry[V]], n), mask: n - 1}
}

// Len is the capacity (number of slots).
func (c *Cache[V]) Len() int { return len(c.slots) }

// Get returns the value stored for raw if it has not expired at now. The
// full token is compared with ==: a timing difference there is not
// observable by a caller who cannot first produce a token with the same
// 64-bit hash under a per-process random seed.
func (c *Cache[V]) Get(raw string, now time.Time) (V, bool) {
	h := maphash.String(c.seed, raw)
	i := h & c.mask
	n := now.UnixNano()
	for _, j := range [2]uint64{i, i ^ 1} {
		e := c.slots[j].Load()
		if e != nil && e.hash == h && n < e.expires && e.raw == raw {
			return e.val, true
		}
	}
	var zero V
	return zero, false
}

// Put stores v for raw until expires (the token's exp: an entry never
// outlives its token). An expired or empty way is reused first; otherwise
// one of the two ways is overwritten, which is what bounds the cache.
func (c *Cache[V]) Put(raw string, expires time.Time, now time.Time, v V) {
	h := maphash.String(c.seed, raw)
	i := h & c.mask
	e := &entry[V]{hash: h, raw: raw, expires: expires.UnixNano(), val: v}
	n := now.UnixNano()
	for _, j := range [2]uint64{i, i ^ 1} {
		old := c.slots[j].Load()
		if old == nil || old.expires <= n || (old.hash == h && old.raw == raw) {
			c.slots[j].Store(e)
			return
		}
	}
	c.slots[i^((h>>32)&1)].Store(e)
}
