package password

import (
	"context"
	"errors"
	"testing"
)

func TestFullPoolHonoursContext(t *testing.T) {
	h, err := New(Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Occupy both slots as two in-flight hashes would.
	h.sem <- struct{}{}
	h.sem <- struct{}{}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with a full pool and a cancelled context = %v; want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, h.dummy, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a full pool and a cancelled context = %v; want context.Canceled", err)
	}
	h.release()
	if _, err := h.Hash(t.Context(), "pw"); err != nil {
		t.Fatalf("Hash with a free slot: %v", err)
	}
	if len(h.sem) != 1 {
		t.Fatalf("slot not returned after Hash: %d in use, want 1", len(h.sem))
	}
}
