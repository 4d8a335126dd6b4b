package claims

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/shared/roles"
)

// TypeAccessToken is the JOSE "typ" header of an access token (RFC 9068 2.1).
const TypeAccessToken = "at+jwt"

// DefaultAudience is the audience the auth server puts in tokens unless
// configured otherwise.
const DefaultAudience = "portcullis"

// Format selects how the roles claim is written.
type Format uint8

const (
	// FormatScoped writes [{"role":..,"account":..,"application":..}].
	FormatScoped Format = iota
	// FormatCompact writes ["ROLE", "ROLE:ACCOUNT", "ROLE:ACCOUNT/APPLICATION"].
	FormatCompact
)

// ParseFormat maps the configuration names to a Format. "compact" (auth
// server) and "strings" (gateway) are the same wire format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "scoped":
		return FormatScoped, nil
	case "compact", "strings":
		return FormatCompact, nil
	default:
		return FormatScoped, fmt.Errorf("unknown roles format %q (want scoped or compact/strings)", s)
	}
}

// Roles is the "roles" claim. It always marshals as a JSON array (never
// null) and unmarshals from either wire format.
type Roles struct {
	Grants []roles.Grant
	Format Format
}

// MarshalJSON writes the grants in r.Format; an empty set is [].
func (r Roles) MarshalJSON() ([]byte, error) {
	if len(r.Grants) == 0 {
		return []byte("[]"), nil
	}
	if r.Format == FormatCompact {
		s := make([]string, len(r.Grants))
		for i, g := range r.Grants {
			s[i] = g.String()
		}
		return json.Marshal(s)
	}
	return json.Marshal(r.Grants)
}

// UnmarshalJSON accepts an array of grant objects or of compact strings
// (mixed arrays are accepted too; each element is decoded by its own type).
func (r *Roles) UnmarshalJSON(b []byte) error {
	grants, format, err := DecodeRoles(b)
	if err != nil {
		return err
	}
	r.Grants, r.Format = grants, format
	return nil
}

// DecodeRoles decodes a roles claim value: null, an array of objects, or an
// array of compact strings. The returned format is that of the first element.
func DecodeRoles(b []byte) ([]roles.Grant, Format, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil, FormatScoped, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, FormatScoped, fmt.Errorf("roles claim: want an array: %w", err)
	}
	out := make([]roles.Grant, 0, len(raw))
	format := FormatScoped
	for i, el := range raw {
		el = bytes.TrimSpace(el)
		if len(el) > 0 && el[0] == '"' {
			var s string
			if err := json.Unmarshal(el, &s); err != nil {
				return nil, format, fmt.Errorf("roles claim element %d: %w", i, err)
			}
			g, err := roles.ParseCompact(s)
			if err != nil {
				return nil, format, fmt.Errorf("roles claim element %d: %w", i, err)
			}
			if i == 0 {
				format = FormatCompact
			}
			out = append(out, g)
			continue
		}
		var g roles.Grant
		if err := json.Unmarshal(el, &g); err != nil {
			return nil, format, fmt.Errorf("roles claim element %d: %w", i, err)
		}
		if g.Role == "" {
			return nil, format, fmt.Errorf("roles claim element %d: missing role", i)
		}
		out = append(out, g)
	}
	return out, format, nil
}

// AccessToken is the claim set of a Portcullis access token. It implements
// jwt.Claims so that it can be signed with golang-jwt/jwt/v5 directly.
type AccessToken struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.ClaimStrings `json:"aud"`
	ExpiresAt Time             `json:"exp"`
	NotBefore Time             `json:"nbf"`
	IssuedAt  Time             `json:"iat"`
	ID        string           `json:"jti"`
	// ClientID is the OAuth2 client the token was issued to (RFC 9068 2.2).
	ClientID string `json:"client_id"`
	// Scope is the space-separated list of granted scopes, when any.
	Scope string `json:"scope,omitempty"`
	// Roles holds every role grant of the subject (or the subset inside the
	// account the token request was narrowed to), plus global ones.
	Roles Roles `json:"roles"`
}

// GetExpirationTime implements jwt.Claims.
func (c *AccessToken) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.ExpiresAt.numeric(), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *AccessToken) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt.numeric(), nil }

// GetNotBefore implements jwt.Claims.
func (c *AccessToken) GetNotBefore() (*jwt.NumericDate, error) { return c.NotBefore.numeric(), nil }

// GetIssuer implements jwt.Claims.
func (c *AccessToken) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *AccessToken) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *AccessToken) GetAudience() (jwt.ClaimStrings, error) { return c.Audience, nil }

// Time is a JWT NumericDate (RFC 7519 2) written with millisecond
// precision, e.g. 1764345600.123. Whole seconds are not enough for
// revocation: a "log out" cut-off and the token refreshed right after it
// usually fall in the same second, and whole-second iat values would make
// the gateway refuse the fresh token too. Fractional NumericDates are valid
// JWT and every mainstream JWT library reads them.
type Time struct{ time.Time }

// At returns t truncated to the millisecond, the precision tokens carry.
func At(t time.Time) Time { return Time{t.Truncate(time.Millisecond)} }

// MarshalJSON writes seconds since the epoch with up to three decimals. The
// zero time is written as 0 (and read back as the zero time), which lets
// optional times such as a revocation event's not_before use the same type.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("0"), nil
	}
	ms := t.UnixMilli()
	b := strconv.AppendInt(make([]byte, 0, 16), ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		if frac < 0 { // before 1970: keep the arithmetic honest
			return json.Marshal(float64(ms) / 1000)
		}
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		b = bytes.TrimRight(b, "0")
	}
	return b, nil
}

// UnmarshalJSON reads a NumericDate, integer or fractional, to the
// millisecond; null and 0 read as the zero time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("numeric date %q: not a number", b)
	}
	if f == 0 {
		*t = Time{}
		return nil
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000)))
	return nil
}

func (t Time) numeric() *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return &jwt.NumericDate{Time: t.Time}
}
