package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
)

// Key is one verification key as published by an issuer.
type Key struct {
	// Public is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	Public crypto.PublicKey
	// Algorithm is the JWK "alg" when the issuer published one; a token
	// signed with another algorithm is refused even if the key type would
	// fit (RFC 8725 3.1). Empty means "any allowed algorithm of this type".
	Algorithm string
}

// Keys finds an issuer's verification key by kid. Implementations return
// errors that match ErrUnknownKey (no such kid, after whatever refresh the
// implementation allows itself) or ErrKeysUnavailable (no usable key set at
// all, e.g. never fetched or too stale); any other error is treated as
// ErrKeysUnavailable. kid may be empty when the token has no kid header.
// Key is called on every uncached verification and must be safe for
// concurrent use.
type Keys interface {
	Key(ctx context.Context, kid string) (Key, error)
}

// StaticKeys is a fixed key set by kid, for the auth server's own keys and
// for tests. An empty kid matches only when the set holds exactly one key.
type StaticKeys map[string]Key

// Key implements Keys.
func (s StaticKeys) Key(_ context.Context, kid string) (Key, error) {
	if len(s) == 0 {
		return Key{}, ErrKeysUnavailable
	}
	if kid == "" {
		if len(s) == 1 {
			for _, k := range s {
				return k, nil
			}
		}
		return Key{}, newErr(ReasonUnknownKey, errors.New("token has no kid and the issuer has several keys"))
	}
	k, ok := s[kid]
	if !ok {
		return Key{}, ErrUnknownKey
	}
	return k, nil
}

// Algorithms this package can be configured to accept. HMAC and "none" are
// not in the list and cannot be added: a public key must never be usable as
// a shared secret (RFC 8725 2.1, 3.1).
var supportedAlgorithms = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// DefaultAlgorithms is the allow-list used when none is configured.
var DefaultAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// SupportedAlgorithm reports whether alg may appear in an allow-list.
func SupportedAlgorithm(alg string) bool { return supportedAlgorithms[alg] }

// minRSABits refuses toy RSA keys (RFC 7518 3.3 requires 2048).
const minRSABits = 2048

// checkKeyType ensures the key is of the type the algorithm needs, so a key
// published for one family can never verify a token of another.
func checkKeyType(alg string, pub crypto.PublicKey) error {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("algorithm %s needs an RSA key, the key is %T", alg, pub)
		}
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits is below %d", k.N.BitLen(), minRSABits)
		}
	case "ES256", "ES384", "ES512":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("algorithm %s needs an EC key, the key is %T", alg, pub)
		}
		want := curveFor(alg)
		if k.Curve != want {
			return fmt.Errorf("algorithm %s needs curve %s", alg, want.Params().Name)
		}
	case "EdDSA":
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return fmt.Errorf("algorithm EdDSA needs an Ed25519 key, the key is %T", pub)
		}
	default:
		return fmt.Errorf("algorithm %s is not supported", alg)
	}
	return nil
}

func curveFor(alg string) elliptic.Curve {
	switch alg {
	case "ES384":
		return elliptic.P384()
	case "ES512":
		return elliptic.P521()
	default:
		return elliptic.P256()
	}
}
