package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are the argon2id cost parameters. The zero value is not usable;
// start from DefaultParams or the configuration.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams follow RFC 9106's second recommended option (64 MiB, t=1)
// with the parallelism we can afford on small machines.
var DefaultParams = Params{MemoryKiB: 64 * 1024, Iterations: 1, Parallelism: 2}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformed is returned by Verify for a hash it cannot parse.
var ErrMalformed = errors.New("malformed password hash")

// Validate checks the parameters are within argon2's limits.
func (p Params) Validate() error {
	var errs []error
	if p.Iterations < 1 {
		errs = append(errs, errors.New("iterations must be at least 1"))
	}
	if p.Parallelism < 1 {
		errs = append(errs, errors.New("parallelism must be at least 1"))
	}
	if p.MemoryKiB < 8*uint32(p.Parallelism) {
		errs = append(errs, errors.New("memory_kib must be at least 8 x parallelism"))
	}
	return errors.Join(errs...)
}

// Hasher hashes and verifies with fixed parameters and a bounded number of
// concurrent computations. It is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	dummy  string // a hash of a random secret, for VerifyDummy
}

// New returns a Hasher using p that runs at most maxConcurrent hashes at
// once (at least 1).
func New(p Params, maxConcurrent int) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("password hasher: %w", err)
	}
	if maxConcurrent < 1 {
		maxConcurrent = 1
	}
	h := &Hasher{params: p, sem: make(chan struct{}, maxConcurrent)}
	var random [32]byte
	_, _ = rand.Read(random[:])
	h.dummy = h.encode(random[:])
	return h, nil
}

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Params { return h.params }

// acquire takes a hashing slot or fails when ctx ends first.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a password hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC string of secret:
// $argon2id$v=19$m=MEM,t=ITER,p=PAR$SALT$HASH (unpadded standard base64).
func (h *Hasher) Hash(ctx context.Context, secret string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode([]byte(secret)), nil
}

func (h *Hasher) encode(secret []byte) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey(secret, salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether secret matches hash (compared in constant time),
// and whether the hash should be replaced by a fresh Hash(secret) after a
// successful login: it is bcrypt, or argon2id with other parameters than the
// configured ones. A mismatch is (false, false, nil); err is reserved for an
// unparseable hash or a context that ended while waiting for a slot.
func (h *Hasher) Verify(ctx context.Context, hash, secret string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		p, salt, key, err := decode(hash)
		if err != nil {
			return false, false, err
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		defer h.release()
		// keyLen is bounded by decode, so the uint32 conversion cannot wrap.
		got := argon2.IDKey([]byte(secret), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(key))) //nolint:gosec // bounded by decode
		if subtle.ConstantTimeCompare(got, key) != 1 {
			return false, false, nil
		}
		return true, p != h.params || len(key) != keyLen || len(salt) != saltLen, nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		defer h.release()
		// bcrypt.CompareHashAndPassword compares in constant time. Go's
		// bcrypt reads $2y$ (PHP's spelling) only as $2a$; they are the same
		// algorithm.
		normalised := hash
		if strings.HasPrefix(hash, "$2y$") {
			normalised = "$2a$" + hash[4:]
		}
		err := bcrypt.CompareHashAndPassword([]byte(normalised), []byte(secret))
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: bcrypt: %w", ErrMalformed, err)
		}
	default:
		return false, false, ErrMalformed
	}
}

// VerifyDummy spends the same work as verifying a password against a hash
// made with the current parameters, and always fails. Call it when the user
// does not exist so that response time does not reveal which usernames do.
func (h *Hasher) VerifyDummy(ctx context.Context, secret string) {
	_, _, _ = h.Verify(ctx, h.dummy, secret)
}

// decode parses an argon2id PHC string.
func decode(hash string) (Params, []byte, []byte, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return Params{}, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w: unsupported argon2 version", ErrMalformed)
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters: %w", ErrMalformed, err)
	}
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// Refuse absurd costs from a tampered row rather than allocating them.
	if p.MemoryKiB > 4*1024*1024 || p.Iterations > 64 {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformed)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, fmt.Errorf("%w: salt", ErrMalformed)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return Params{}, nil, nil, fmt.Errorf("%w: hash", ErrMalformed)
	}
	return p, salt, key, nil
}

// NewSecret returns a new client secret: 32 random bytes, base64url without
// padding (43 characters). Store only its Hash.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
