package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Issuers dispatches a token to the Verifier of the issuer it claims, so
// that each issuer's keys verify only that issuer's tokens (RFC 8725 3.8).
// The iss read here is unverified; it only chooses which verifier (and
// therefore which keys) will then check everything, iss included.
type Issuers struct {
	byIssuer map[string]*Verifier
	only     *Verifier // set when there is exactly one issuer
	maxSize  int
}

// NewIssuers indexes verifiers by issuer; two with the same issuer are an
// error.
func NewIssuers(vs ...*Verifier) (*Issuers, error) {
	is := &Issuers{byIssuer: make(map[string]*Verifier, len(vs))}
	for _, v := range vs {
		if _, dup := is.byIssuer[v.issuer]; dup {
			return nil, fmt.Errorf("verify: issuer %q configured twice", v.issuer)
		}
		is.byIssuer[v.issuer] = v
		is.maxSize = max(is.maxSize, v.maxSize)
	}
	if len(vs) == 1 {
		is.only = vs[0]
	}
	return is, nil
}

// Verifier returns the verifier for iss.
func (is *Issuers) Verifier(iss string) (*Verifier, bool) {
	v, ok := is.byIssuer[iss]
	return v, ok
}

// Verify picks the verifier by the token's iss and verifies with it. A
// token from an issuer that is not configured fails with ReasonIssuer.
func (is *Issuers) Verify(ctx context.Context, raw string) (*Token, *Verifier, error) {
	if len(raw) > is.maxSize {
		return nil, nil, newErr(ReasonTooLarge, fmt.Errorf("%d bytes, limit %d", len(raw), is.maxSize))
	}
	if is.only != nil {
		// One issuer: no need to peek; its verifier checks iss exactly.
		t, err := is.only.Verify(ctx, raw)
		return t, is.only, err
	}
	iss, err := UnverifiedIssuer(raw)
	if err != nil {
		return nil, nil, err
	}
	v, ok := is.byIssuer[iss]
	if !ok {
		return nil, nil, newErr(ReasonIssuer, errors.New("no verifier for the token's issuer"))
	}
	t, err := v.Verify(ctx, raw)
	return t, v, err
}

// UnverifiedIssuer reads the iss claim of a compact JWS without checking
// anything. Use it only to choose which issuer's verifier to run.
func UnverifiedIssuer(raw string) (string, error) {
	_, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return "", newErr(ReasonMalformed, errors.New("not a compact JWS"))
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return "", newErr(ReasonMalformed, errors.New("not a compact JWS"))
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", newErr(ReasonMalformed, fmt.Errorf("payload: %w", err))
	}
	var p struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return "", newErr(ReasonMalformed, errors.New("payload is not a JSON object with a string iss"))
	}
	if p.Iss == "" {
		return "", newErr(ReasonIssuer, errors.New("the token has no iss"))
	}
	return p.Iss, nil
}
