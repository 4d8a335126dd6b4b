package verify_test

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify measures one uncached verification per algorithm (what
// the gateway pays on a token-cache miss).
func BenchmarkVerify(b *testing.B) {
	k := keys(b)
	for _, tc := range []struct {
		name string
		m    jwt.SigningMethod
		key  any
		kid  string
	}{
		{"RS256", jwt.SigningMethodRS256, k.rsa, "rsa"},
		{"ES256", jwt.SigningMethodES256, k.ec, "ec"},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed, "ed"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			v := newVerifier(b, nil)
			tok := sign(b, tc.m, tc.key, map[string]any{"kid": tc.kid}, baseClaims())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
