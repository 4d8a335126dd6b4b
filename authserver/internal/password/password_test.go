package password_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/portcullis/portcullis/authserver/internal/password"
)

// cheap keeps the tests fast; the algorithm is the same at any cost.
var cheap = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func newHasher(t *testing.T, p password.Params, n int) *password.Hasher {
	t.Helper()
	h, err := password.New(p, n)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashVerify(t *testing.T) {
	h := newHasher(t, cheap, 2)
	ctx := t.Context()
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string with the configured parameters", hash)
	}
	if hash2, _ := h.Hash(ctx, "correct horse"); hash2 == hash {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	ok, rehash, err := h.Verify(ctx, hash, "correct horse")
	if err != nil || !ok || rehash {
		t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, rehash, err = h.Verify(ctx, hash, "wrong horse")
	if err != nil || ok || rehash {
		t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

func TestNeedsRehashOnParameterChange(t *testing.T) {
	old := newHasher(t, cheap, 1)
	hash, err := old.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	stronger := newHasher(t, password.Params{MemoryKiB: 128, Iterations: 2, Parallelism: 1}, 1)
	ok, rehash, err := stronger.Verify(t.Context(), hash, "pw")
	if err != nil || !ok || !rehash {
		t.Fatalf("Verify(old params) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestBcryptImport(t *testing.T) {
	h := newHasher(t, cheap, 1)
	b, err := bcrypt.GenerateFromPassword([]byte("legacy"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		hash := prefix + string(b[4:])
		ok, rehash, err := h.Verify(t.Context(), hash, "legacy")
		if err != nil || !ok || !rehash {
			t.Errorf("%s: Verify(right) = %v, %v, %v; want true, true, nil", prefix, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(t.Context(), hash, "nope")
		if err != nil || ok || rehash {
			t.Errorf("%s: Verify(wrong) = %v, %v, %v; want false, false, nil", prefix, ok, rehash, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	h := newHasher(t, cheap, 1)
	for _, hash := range []string{
		"", "plain", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA", "$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$2a$04$short",
	} {
		if ok, _, err := h.Verify(t.Context(), hash, "x"); ok || !errors.Is(err, password.ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformed", hash, ok, err)
		}
	}
}

func TestVerifyDummyCostsLikeAVerify(t *testing.T) {
	// Costly enough that argon2 dominates the timing, not scheduling noise.
	h := newHasher(t, password.Params{MemoryKiB: 8 * 1024, Iterations: 2, Parallelism: 1}, 1)
	hash, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	fastest := func(f func()) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	verify := fastest(func() { _, _, _ = h.Verify(t.Context(), hash, "wrong") })
	dummy := fastest(func() { h.VerifyDummy(t.Context(), "wrong") })
	// Loose bounds: the machine is shared, but a dummy that skipped the
	// work would be ~1000x faster.
	if dummy < verify/4 || dummy > verify*4 {
		t.Fatalf("VerifyDummy took %v, a real verify %v: an unknown user is distinguishable", dummy, verify)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := password.NewSecret(), password.NewSecret()
	if len(a) != 43 || a == b {
		t.Fatalf("NewSecret = %q, %q; want two different 43-character strings", a, b)
	}
}
