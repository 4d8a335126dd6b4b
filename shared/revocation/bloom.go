package revocation

import "sync/atomic"

// bloom is a blocked Bloom filter: each key sets three bits of one 64-bit
// word, so a lookup reads a single word. Bits are only ever set in place
// (atomically, by the set's one writer); removing keys means building a
// new filter. The words slice never changes size after construction.
type bloom struct {
	words []atomic.Uint64
	mask  uint64 // len(words)-1
}

const (
	// minBloomWords keeps the filter at 256 KiB even for an empty set, so
	// the lookup path and its memory footprint do not depend on the size
	// of the set until it outgrows this (about 85,000 keys at 24 bits per
	// key; past that it doubles, keeping the false-positive rate under 1%).
	minBloomWords = 1 << 15
	bitsPerKey    = 24
)

func newBloom(keys int) *bloom {
	n := uint64(minBloomWords)
	for keys > 0 && n*64 < uint64(keys)*bitsPerKey {
		n <<= 1
	}
	return &bloom{words: make([]atomic.Uint64, n), mask: n - 1}
}

// capacity is the number of keys the filter was sized for.
func (b *bloom) capacity() int { return len(b.words) * 64 / bitsPerKey }

// The word index uses bits 8 and up of the hash (bits 0-7 pick the set's
// shard); the three bit positions come from the top 18 bits, so index and
// positions are independent for any filter smaller than 2^38 words.
func (b *bloom) word(h uint64) *atomic.Uint64 { return &b.words[(h>>8)&b.mask] }

func bits(h uint64) uint64 { return 1<<(h>>58) | 1<<((h>>52)&63) | 1<<((h>>46)&63) }

func (b *bloom) add(h uint64) { b.word(h).Or(bits(h)) }

func (b *bloom) mayContain(h uint64) bool {
	m := bits(h)
	return b.word(h).Load()&m == m
}
