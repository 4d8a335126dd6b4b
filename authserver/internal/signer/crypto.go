package signer

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Supported signing algorithms. Symmetric algorithms are deliberately absent
// (RFC 8725 3.1): a verifier must never be able to mint tokens.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Algorithms lists the supported algorithms, for discovery documents.
var Algorithms = []string{RS256, ES256, EdDSA}

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 3.3).
const MinRSABits = 2048

// EncryptionKeySize is the AES-256 key length in bytes.
const EncryptionKeySize = 32

// sealVersion prefixes every encrypted private key so the format can change
// without guessing.
const sealVersion byte = 1

// methodFor maps an algorithm name to its jwt/v5 signing method.
func methodFor(alg string) (jwt.SigningMethod, error) {
	switch alg {
	case RS256:
		return jwt.SigningMethodRS256, nil
	case ES256:
		return jwt.SigningMethodES256, nil
	case EdDSA:
		return jwt.SigningMethodEdDSA, nil
	default:
		return nil, fmt.Errorf("unsupported signing algorithm %q (want RS256, ES256 or EdDSA)", alg)
	}
}

// generate creates a fresh private key for alg.
func generate(alg string, rsaBits int) (crypto.Signer, error) {
	switch alg {
	case RS256:
		if rsaBits < MinRSABits {
			return nil, fmt.Errorf("rsa_bits %d is below the minimum %d", rsaBits, MinRSABits)
		}
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, fmt.Errorf("generate RSA key: %w", err)
		}
		return k, nil
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate P-256 key: %w", err)
		}
		return k, nil
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate Ed25519 key: %w", err)
		}
		return k, nil
	default:
		_, err := methodFor(alg)
		return nil, err
	}
}

// publicJWK renders the public half of priv as a JWK carrying kid, alg and
// use=sig, and returns the kid: the RFC 7638 SHA-256 thumbprint, so that the
// same key always has the same id on every replica.
func publicJWK(priv crypto.Signer, alg string) (kid string, raw []byte, err error) {
	k, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return "", nil, fmt.Errorf("public JWK: %w", err)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", nil, fmt.Errorf("JWK thumbprint: %w", err)
	}
	kid = base64.RawURLEncoding.EncodeToString(tp)
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		return "", nil, fmt.Errorf("set kid: %w", err)
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.SignatureAlgorithm(alg)); err != nil {
		return "", nil, fmt.Errorf("set alg: %w", err)
	}
	if err := k.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
		return "", nil, fmt.Errorf("set use: %w", err)
	}
	raw, err = json.Marshal(k)
	if err != nil {
		return "", nil, fmt.Errorf("marshal JWK: %w", err)
	}
	return kid, raw, nil
}

// seal encrypts a PKCS#8 private key with AES-256-GCM. The kid is the
// additional data, so a ciphertext moved onto another key row fails to open.
func seal(encKey []byte, kid string, priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	aead, err := newAEAD(encKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	out := make([]byte, 0, 1+len(nonce)+len(der)+aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, der, []byte(kid)), nil
}

// open reverses seal.
func open(encKey []byte, kid string, sealed []byte) (crypto.Signer, error) {
	aead, err := newAEAD(encKey)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	if len(sealed) < 1+ns || sealed[0] != sealVersion {
		return nil, errors.New("encrypted private key: unknown format")
	}
	der, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("decrypt private key %s (wrong keys.encryption_key?): %w", kid, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key %s: %w", kid, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key %s: %T is not a signer", kid, k)
	}
	return s, nil
}

func newAEAD(encKey []byte) (cipher.AEAD, error) {
	if len(encKey) != EncryptionKeySize {
		return nil, fmt.Errorf("encryption key must be %d bytes, got %d", EncryptionKeySize, len(encKey))
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// ParseEncryptionKey decodes keys.encryption_key: 32 bytes written as 64 hex
// digits or as base64 (standard or URL alphabet, padded or not).
func ParseEncryptionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*EncryptionKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == EncryptionKeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("encryption key must be %d bytes as 64 hex digits or base64", EncryptionKeySize)
}

// LoadOrCreateKeyFile reads the encryption key from path, creating the file
// (mode 0600, parent directories 0700) with a fresh random key when it does
// not exist. A file readable by group or others is refused: it guards every
// signing key.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the path comes from the operator's configuration
	if err == nil {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("stat key file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("key file %s has mode %v: want 0600", path, fi.Mode().Perm())
		}
		k, err := ParseEncryptionKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	k := make([]byte, EncryptionKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate encryption key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key file directory: %w", err)
	}
	// O_EXCL: two replicas starting together on one volume must not each
	// write a different key; the loser reads the winner's.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // operator-configured path
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateKeyFile(path)
		}
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close key file: %w", err)
	}
	return k, nil
}
