package signer_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
	"github.com/portcullis/portcullis/shared/verify"
)

// benchAlgs are the candidates for keys.algorithm, plus RS256-4096 as the
// yardstick of the ">= 10x RS256-4096" target.
var benchAlgs = []struct {
	name, alg string
	bits      int
}{
	{"EdDSA", signer.EdDSA, 0},
	{"ES256", signer.ES256, 0},
	{"RS256-2048", signer.RS256, 2048},
	{"RS256-4096", signer.RS256, 4096},
}

func benchSigner(b *testing.B, alg string, bits int) (*signer.Signer, *clock) {
	b.Helper()
	st := newStoreB(b)
	clk := &clock{t: time.Now()}
	c := cfg(alg, encKey())
	if bits > 0 {
		c.RSABits = bits
	}
	s, err := signer.New(st, c, nil, clk.Now)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s, clk
}

// accessClaims is a typical token: a user with three grants.
func accessClaims(now time.Time) *claims.AccessToken {
	return &claims.AccessToken{
		Issuer: "http://127.0.0.1:9096", Subject: "u_0123456789abcdef",
		Audience: jwt.ClaimStrings{"portcullis"}, ExpiresAt: claims.At(now.Add(5 * time.Minute)),
		IssuedAt: claims.At(now), NotBefore: claims.At(now), ID: "jti-0123456789abcdef",
		ClientID: "cl_0123456789", Scope: "read write",
		Roles: claims.Roles{Grants: []roles.Grant{{Role: "developer", Account: "acme", Application: "billing"},
			{Role: "consumer", Account: "acme", Application: "shop"}, {Role: "account_manager", Account: "globex"}}},
	}
}

func BenchmarkSign(b *testing.B) {
	for _, a := range benchAlgs {
		b.Run(a.name, func(b *testing.B) {
			s, clk := benchSigner(b, a.alg, a.bits)
			c := accessClaims(clk.Now())
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Sign(c, claims.TypeAccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, a := range benchAlgs {
		b.Run(a.name, func(b *testing.B) {
			s, clk := benchSigner(b, a.alg, a.bits)
			tok, err := s.Sign(accessClaims(clk.Now()), claims.TypeAccessToken)
			if err != nil {
				b.Fatal(err)
			}
			v, err := verify.New(verify.Config{Issuer: "http://127.0.0.1:9096", Audiences: []string{"portcullis"}, Keys: s, Now: clk.Now})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
