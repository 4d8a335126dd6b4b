package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
)

// DefaultMaxTokenSize bounds the work an unauthenticated caller can make us
// do: a token longer than this is refused before it is decoded.
const DefaultMaxTokenSize = 8 << 10

// Config describes what one trusted issuer's tokens must look like.
type Config struct {
	// Issuer must equal the token's iss exactly.
	Issuer string
	// Audiences: the token's aud must contain at least one of them.
	Audiences []string
	// Algorithms is the allow-list; empty means DefaultAlgorithms.
	Algorithms []string
	// SubjectClaim names the claim holding the subject: a top-level claim
	// name (taken whole, so "https://example.com/uid" works) or a JSON
	// pointer starting with "/". Default "sub".
	SubjectClaim string
	// RolesClaim names the claim holding the roles, same syntax as
	// SubjectClaim. Default "roles".
	RolesClaim string
	// RolesFormat is "scoped" ([{role, account, application}], the default)
	// or "strings" (["ROLE", "ROLE:ACCOUNT", "ROLE:ACCOUNT/APPLICATION"];
	// "compact" is a synonym).
	RolesFormat string
	// Leeway absorbs clock skew on exp, nbf and iat.
	Leeway time.Duration
	// MaxTokenSize in bytes; 0 means DefaultMaxTokenSize.
	MaxTokenSize int
	// Keys finds the issuer's verification keys. Required.
	Keys Keys
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Token is what a verified access token says.
type Token struct {
	Subject   string
	ClientID  string
	Issuer    string
	ID        string // jti
	Scope     string
	Audience  []string
	ExpiresAt time.Time
	IssuedAt  time.Time // zero when absent
	NotBefore time.Time // zero when absent
	Roles     []roles.Grant
	// KeyID and Algorithm say which key verified the signature, so that a
	// cache of verified tokens can drop entries whose key was withdrawn.
	KeyID     string
	Algorithm string
}

// Verifier checks the tokens of one issuer. It is safe for concurrent use.
type Verifier struct {
	issuer       string
	keys         Keys
	algs         []string
	maxSize      int
	subject      claimPath
	roles        claimPath
	format       claims.Format
	parser       *jwt.Parser
	needsMembers bool
}

// New validates cfg and builds a Verifier.
func New(cfg Config) (*Verifier, error) {
	var problems []string
	if cfg.Issuer == "" {
		problems = append(problems, "issuer is required")
	}
	if len(cfg.Audiences) == 0 {
		problems = append(problems, "at least one audience is required")
	}
	for _, a := range cfg.Audiences {
		if a == "" {
			problems = append(problems, "audiences must not be empty strings")
		}
	}
	if cfg.Keys == nil {
		problems = append(problems, "a key source is required")
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms
	}
	for _, a := range algs {
		if !SupportedAlgorithm(a) {
			problems = append(problems, fmt.Sprintf("algorithm %q is not allowed (want RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA)", a))
		}
	}
	if cfg.Leeway < 0 {
		problems = append(problems, "leeway must not be negative")
	}
	if cfg.MaxTokenSize < 0 {
		problems = append(problems, "max token size must not be negative")
	}
	subject, err := parseClaimPath(orDefault(cfg.SubjectClaim, "sub"))
	if err != nil {
		problems = append(problems, "subject claim: "+err.Error())
	}
	rolesPath, err := parseClaimPath(orDefault(cfg.RolesClaim, "roles"))
	if err != nil {
		problems = append(problems, "roles claim: "+err.Error())
	}
	format, err := claims.ParseFormat(cfg.RolesFormat)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("verify: invalid config for issuer %q: %s", cfg.Issuer, strings.Join(problems, "; "))
	}

	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	maxSize := cfg.MaxTokenSize
	if maxSize == 0 {
		maxSize = DefaultMaxTokenSize
	}
	v := &Verifier{
		issuer:  cfg.Issuer,
		keys:    cfg.Keys,
		algs:    append([]string(nil), algs...),
		maxSize: maxSize,
		subject: subject,
		roles:   rolesPath,
		format:  format,
	}
	v.needsMembers = !subject.is("sub") || !rolesPath.is("roles")
	// The alg allow-list is enforced in keyFunc, the only place a key comes
	// from, so no signature is ever checked with a refused alg and a refused
	// alg gets its own reason (WithValidMethods would report it as a bad
	// signature).
	v.parser = jwt.NewParser(
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audiences...),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Issuer is the issuer this verifier trusts.
func (v *Verifier) Issuer() string { return v.issuer }

// MaxTokenSize is the configured size limit in bytes.
func (v *Verifier) MaxTokenSize() int { return v.maxSize }

// Verify checks raw (the compact JWS, without "Bearer ") and returns what it
// says. Every error is an *Error.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if len(raw) > v.maxSize {
		return nil, newErr(ReasonTooLarge, fmt.Errorf("%d bytes, limit %d", len(raw), v.maxSize))
	}
	c := &tokenClaims{v: v}
	var used Key
	var kid string
	keyFunc := func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		if !v.allowed(alg) {
			return nil, newErr(ReasonAlgorithm, fmt.Errorf("alg %q is not in the allow-list", alg))
		}
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		var err error
		if kid, err = headerKID(t.Header); err != nil {
			return nil, err
		}
		used, err = v.keys.Key(ctx, kid)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && (e.Reason == ReasonUnknownKey || e.Reason == ReasonKeysUnavailable) {
				return nil, err
			}
			return nil, newErr(ReasonKeysUnavailable, err)
		}
		if used.Algorithm != "" && used.Algorithm != alg {
			return nil, newErr(ReasonAlgorithm, fmt.Errorf("key %q is published for %s, token uses %s", kid, used.Algorithm, alg))
		}
		if err := checkKeyType(alg, used.Public); err != nil {
			return nil, newErr(ReasonAlgorithm, fmt.Errorf("key %q: %w", kid, err))
		}
		return used.Public, nil
	}
	t, err := v.parser.ParseWithClaims(raw, c, keyFunc)
	if err != nil {
		e := classify(err)
		// jwt/v5 reports a missing iss or aud as a generic missing claim.
		if e.Reason == ReasonClaims && errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
			switch {
			case c.Issuer == "":
				e.Reason = ReasonIssuer
			case len(c.Audience) == 0:
				e.Reason = ReasonAudience
			}
		}
		return nil, e
	}
	if c.subject == "" {
		return nil, newErr(ReasonClaims, errors.New("the subject claim is missing or empty"))
	}
	if c.rolesOK != nil {
		return nil, newErr(ReasonClaims, c.rolesOK)
	}
	grants := c.grants
	out := &Token{
		Subject:   c.subject,
		ClientID:  c.ClientID,
		Issuer:    c.Issuer,
		ID:        c.ID,
		Scope:     string(c.Scope),
		Audience:  c.Audience,
		Roles:     grants,
		KeyID:     kid,
		Algorithm: t.Method.Alg(),
	}
	if out.ClientID == "" {
		out.ClientID = c.AZP
	}
	if c.ExpiresAt.set {
		out.ExpiresAt = c.ExpiresAt.Time
	}
	if c.IssuedAt.set {
		out.IssuedAt = c.IssuedAt.Time
	}
	if c.NotBefore.set {
		out.NotBefore = c.NotBefore.Time
	}
	return out, nil
}

func (v *Verifier) allowed(alg string) bool {
	for _, a := range v.algs {
		if a == alg {
			return true
		}
	}
	return false
}

// checkHeader enforces the typ allow-list (RFC 9068 2.1, RFC 8725 3.11) and
// refuses critical extensions we do not understand (RFC 7515 4.1.11).
func checkHeader(h map[string]any) error {
	if _, ok := h["crit"]; ok {
		return newErr(ReasonMalformed, errors.New("critical header extensions are not supported"))
	}
	typ, ok := h["typ"].(string)
	if !ok {
		return newErr(ReasonType, errors.New("typ header missing or not a string"))
	}
	t := strings.ToLower(strings.TrimPrefix(strings.ToLower(typ), "application/"))
	if t != claims.TypeAccessToken && t != "jwt" {
		return newErr(ReasonType, errors.New("typ header is neither at+jwt nor JWT"))
	}
	return nil
}

func headerKID(h map[string]any) (string, error) {
	raw, ok := h["kid"]
	if !ok {
		return "", nil
	}
	kid, ok := raw.(string)
	if !ok {
		return "", newErr(ReasonMalformed, errors.New("kid header is not a string"))
	}
	return kid, nil
}

// classify maps jwt/v5 errors to Reasons. Errors from keyFunc are already
// *Error and pass through.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var r Reason
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		r = ReasonMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Only an algorithm jwt/v5 does not know gets here.
		r = ReasonAlgorithm
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		r = ReasonSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		r = ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		r = ReasonNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		r = ReasonIssuedInFuture
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		r = ReasonIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		r = ReasonAudience
	default:
		r = ReasonClaims
	}
	return newErr(r, err)
}
