package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
)

// claimPath locates a claim: a top-level member name, optionally followed by
// member names inside nested objects (from a JSON pointer).
type claimPath struct {
	name string
	rest []string
}

func (p claimPath) is(name string) bool { return p.name == name && len(p.rest) == 0 }

// parseClaimPath reads a claim setting. A leading "/" makes it a JSON
// pointer (RFC 6901, object members only); anything else, including a URL,
// is one top-level claim name taken whole.
func parseClaimPath(s string) (claimPath, error) {
	if s == "" {
		return claimPath{}, errors.New("empty claim name")
	}
	if !strings.HasPrefix(s, "/") {
		return claimPath{name: s}, nil
	}
	toks := strings.Split(s[1:], "/")
	for i, t := range toks {
		if t == "" {
			return claimPath{}, fmt.Errorf("JSON pointer %q has an empty segment", s)
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return claimPath{name: toks[0], rest: toks[1:]}, nil
}

// lookup walks the path through typed json.RawMessage maps; a missing member
// or a non-object on the way yields nil (the claim is absent).
func (p claimPath) lookup(members map[string]json.RawMessage) (json.RawMessage, error) {
	raw := members[p.name]
	for _, tok := range p.rest {
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			return nil, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("claim path segment %q: not an object", tok)
		}
		raw = obj[tok]
	}
	return raw, nil
}

// scope accepts the RFC 9068 space-separated string and, for third-party
// issuers, an array of strings (joined with spaces).
type scope string

func (s *scope) UnmarshalJSON(b []byte) error {
	if str, ok := fastString(b); ok {
		*s = scope(str)
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("scope claim: %w", err)
		}
		*s = scope(strings.Join(list, " "))
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("scope claim: %w", err)
	}
	*s = scope(str)
	return nil
}

// registered is the typed part of the payload every issuer shares. The
// registered claims are decoded by small hand-written decoders rather than
// jwt.RegisteredClaims, whose fields each run a nested json.Unmarshal: a
// cache miss in the gateway pays for every one of them.
type registered struct {
	Issuer    string      `json:"iss"`
	Subject   string      `json:"sub"`
	Audience  audience    `json:"aud"`
	ExpiresAt numericDate `json:"exp"`
	NotBefore numericDate `json:"nbf"`
	IssuedAt  numericDate `json:"iat"`
	ID        string      `json:"jti"`
	ClientID  string      `json:"client_id"`
	AZP       string      `json:"azp"` // auth0/OIDC style client id
	Scope     scope       `json:"scope"`
	Roles     rolesField  `json:"roles"`
}

// numericDate is a JSON NumericDate (RFC 7519 2): seconds since the epoch,
// possibly fractional. It keeps a jwt.NumericDate so the jwt.Claims getters
// can return a pointer into the claims without allocating.
type numericDate struct {
	set bool
	jwt.NumericDate
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		d.set = false
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("numeric date claim: want a number of seconds")
	}
	sec, frac := math.Modf(f)
	d.set = true
	d.Time = time.Unix(int64(sec), int64(frac*1e9))
	return nil
}

func (d *numericDate) get() *jwt.NumericDate {
	if !d.set {
		return nil
	}
	return &d.NumericDate
}

// audience is "aud": one string or an array of strings (RFC 7519 4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if s, ok := fastString(b); ok {
		*a = audience{s}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return fmt.Errorf("aud claim: %w", err)
		}
		*a = audience{one}
		return nil
	}
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud claim: want a string or an array of strings")
	}
	*a = many
	return nil
}

// fastString decodes a JSON string literal without escapes or control
// characters (the common case) without running a decoder.
func fastString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : len(b)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	return string(b[1 : len(b)-1]), true
}

// The jwt.Claims interface, read by jwt/v5's validator.

func (r *registered) GetExpirationTime() (*jwt.NumericDate, error) { return r.ExpiresAt.get(), nil }
func (r *registered) GetIssuedAt() (*jwt.NumericDate, error)       { return r.IssuedAt.get(), nil }
func (r *registered) GetNotBefore() (*jwt.NumericDate, error)      { return r.NotBefore.get(), nil }
func (r *registered) GetIssuer() (string, error)                   { return r.Issuer, nil }
func (r *registered) GetSubject() (string, error)                  { return r.Subject, nil }
func (r *registered) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(r.Audience), nil
}

// rolesField decodes the "roles" claim in the verifier's format during the
// one pass over the payload. A malformed value is kept as err (reported as
// ReasonClaims after the signature is checked), not as a decode failure.
type rolesField struct {
	format claims.Format
	grants []roles.Grant
	err    error
}

func (r *rolesField) UnmarshalJSON(b []byte) error {
	r.grants, r.err = decodeGrants(b, r.format)
	return nil
}

// tokenClaims is the jwt.Claims the parser fills. Its UnmarshalJSON decodes
// the registered claims into typed fields and, only when the configuration
// names other claims, the top-level members into json.RawMessage so the
// configured subject and roles can be found without any map[string]any.
type tokenClaims struct {
	registered
	v       *Verifier
	subject string
	grants  []roles.Grant
	rolesOK error
}

func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	c.Roles.format = c.v.format
	if err := json.Unmarshal(b, &c.registered); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	c.subject = c.Subject
	c.grants, c.rolesOK = c.Roles.grants, c.Roles.err
	if !c.v.needsMembers {
		return nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if !c.v.subject.is("sub") {
		raw, err := c.v.subject.lookup(members)
		if err != nil {
			return fmt.Errorf("subject claim: %w", err)
		}
		c.subject = ""
		if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
			if err := json.Unmarshal(raw, &c.subject); err != nil {
				return errors.New("subject claim: not a string")
			}
		}
	}
	if !c.v.roles.is("roles") {
		raw, err := c.v.roles.lookup(members)
		if err != nil {
			return fmt.Errorf("roles claim: %w", err)
		}
		c.grants, c.rolesOK = decodeGrants(raw, c.v.format)
	}
	return nil
}

// decodeGrants decodes the roles claim in the configured format. An absent
// or null claim is no grants; anything malformed refuses the token rather
// than silently dropping a grant.
func decodeGrants(raw json.RawMessage, format claims.Format) ([]roles.Grant, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if format == claims.FormatCompact {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errors.New("roles claim: want an array of strings")
		}
		out := make([]roles.Grant, 0, len(list))
		for i, s := range list {
			g, err := roles.ParseCompact(s)
			if err != nil {
				return nil, fmt.Errorf("roles claim element %d: malformed role string", i)
			}
			out = append(out, g)
		}
		return out, nil
	}
	var list []roles.Grant
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("roles claim: want an array of {role, account, application} objects")
	}
	for i, g := range list {
		if err := g.Validate(g.Scope()); err != nil {
			return nil, fmt.Errorf("roles claim element %d: malformed grant", i)
		}
	}
	return list, nil
}
