package claims

import (
	"bytes"
	"encoding/json"
	"fmt"

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

// AccessToken is the claim set of a Portcullis access token.
type AccessToken struct {
	jwt.RegisteredClaims
	// ClientID is the OAuth2 client the token was issued to (RFC 9068 2.2).
	ClientID string `json:"client_id"`
	// Scope is the space-separated list of granted scopes, when any.
	Scope string `json:"scope,omitempty"`
	// Roles holds every role grant of the subject (or the subset inside the
	// account the token request was narrowed to), plus global ones.
	Roles Roles `json:"roles"`
}
