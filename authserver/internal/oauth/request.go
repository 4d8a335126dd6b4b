package oauth

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/oauthsyntax"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// Grant types served by the token endpoint.
const (
	GrantPassword          = "password"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantAuthorizationCode = "authorization_code"
)

// Client authentication methods (RFC 8414 token_endpoint_auth_methods).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
	AuthNone  = "none"
)

// GrantTypes lists the grant types this server issues tokens for.
var GrantTypes = []string{GrantAuthorizationCode, GrantPassword, GrantClientCredentials, GrantRefreshToken}

// AuthMethods lists the supported client authentication methods.
var AuthMethods = []string{AuthBasic, AuthPost, AuthNone}

// Credentials is how a client identified itself on a request.
type Credentials struct {
	ClientID     string
	ClientSecret string
	Method       string // AuthBasic, AuthPost or AuthNone
}

// TokenRequest is a parsed token request: handlers never read raw form
// fields again after ParseTokenRequest.
type TokenRequest struct {
	GrantType    string
	Client       Credentials
	Username     string
	Password     string
	Scope        string
	RefreshToken string
	Account      string // narrow roles to this account (plus global ones)
	RemoteIP     string
	// authorization_code grant (RFC 6749 4.1.3, RFC 7636 4.5).
	Code         string
	RedirectURI  string
	CodeVerifier string
}

// ParseClientCredentials reads client authentication from HTTP Basic
// (RFC 6749 2.3.1: both parts form-urlencoded) or from the body
// (client_secret_post), or a bare client_id for public clients. Using two
// methods at once is refused (RFC 6749 2.3).
func ParseClientCredentials(form url.Values, basicUser, basicPass string, hasBasic bool) (Credentials, error) {
	postID, postSecret := form.Get("client_id"), form.Get("client_secret")
	if hasBasic {
		if postSecret != "" {
			return Credentials{}, oautherr.ErrInvalidRequest.WithDescription("use one client authentication method, not both")
		}
		id, err1 := url.QueryUnescape(basicUser)
		secret, err2 := url.QueryUnescape(basicPass)
		if err1 != nil || err2 != nil || id == "" {
			return Credentials{}, oautherr.ErrInvalidClient.WithDescription("malformed HTTP Basic client credentials")
		}
		if postID != "" && postID != id {
			return Credentials{}, oautherr.ErrInvalidRequest.WithDescription("client_id does not match the authenticated client")
		}
		return Credentials{ClientID: id, ClientSecret: secret, Method: AuthBasic}, nil
	}
	if postID == "" {
		return Credentials{}, oautherr.ErrInvalidClient.WithDescription("client authentication is required")
	}
	if postSecret != "" {
		return Credentials{ClientID: postID, ClientSecret: postSecret, Method: AuthPost}, nil
	}
	return Credentials{ClientID: postID, Method: AuthNone}, nil
}

// CheckSingleValues refuses repeated parameters (RFC 6749 3.1, 3.2).
func CheckSingleValues(form url.Values) error {
	for k, v := range form {
		if len(v) > 1 {
			return oautherr.ErrInvalidRequest.WithDescription("parameter " + k + " is repeated")
		}
	}
	return nil
}

// ParseTokenRequest builds a TokenRequest from the form body and the HTTP
// Basic credentials, checking what every grant needs.
func ParseTokenRequest(form url.Values, basicUser, basicPass string, hasBasic bool, remoteIP string) (*TokenRequest, error) {
	if err := CheckSingleValues(form); err != nil {
		return nil, err
	}
	r := &TokenRequest{
		GrantType: form.Get("grant_type"), Username: form.Get("username"), Password: form.Get("password"),
		Scope: form.Get("scope"), RefreshToken: form.Get("refresh_token"), Account: form.Get("account"), RemoteIP: remoteIP,
		Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"), CodeVerifier: form.Get("code_verifier"),
	}
	switch r.GrantType {
	case "":
		return nil, oautherr.ErrInvalidRequest.WithDescription("grant_type is required")
	case GrantPassword:
		if r.Username == "" || r.Password == "" {
			return nil, oautherr.ErrInvalidRequest.WithDescription("username and password are required")
		}
	case GrantRefreshToken:
		if r.RefreshToken == "" {
			return nil, oautherr.ErrInvalidRequest.WithDescription("refresh_token is required")
		}
	case GrantAuthorizationCode:
		if r.Code == "" || r.RedirectURI == "" {
			return nil, oautherr.ErrInvalidRequest.WithDescription("code and redirect_uri are required")
		}
	case GrantClientCredentials:
	default:
		return nil, oautherr.ErrUnsupportedGrantType.WithDescription("grant_type " + quote(r.GrantType) + " is not supported")
	}
	if !oauthsyntax.ValidScope(r.Scope) {
		return nil, oautherr.ErrInvalidScope.WithDescription("scope is malformed")
	}
	if r.Account != "" && !validName(r.Account) {
		return nil, oautherr.ErrInvalidRequest.WithDescription("account is not a valid account name")
	}
	creds, err := ParseClientCredentials(form, basicUser, basicPass, hasBasic)
	if err != nil {
		return nil, err
	}
	r.Client = creds
	return r, nil
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == 0x7f {
			return '?'
		}
		return r
	}, s) + `"`
}

// validName accepts account slugs: lowercase letters, digits, '-' and '_'.
func validName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// scopeSubset reports whether every scope in req is in allowed.
func scopeSubset(req string, allowed []string) bool {
	if req == "" {
		return true
	}
	for _, s := range strings.Split(req, " ") {
		found := false
		for _, a := range allowed {
			if a == s {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// issueState carries what one token request has learned across the
// library's hooks (which only pass a context).
type issueState struct {
	req    *TokenRequest
	client *storage.Client
	user   *storage.User         // set by the password grant
	parent *storage.RefreshToken // set by the refresh grant

	// authorization_code grant: the redeemed code, and what was issued
	// from it (recorded so that a replayed code can revoke it).
	code      *authcode.Code
	codeValue string
	familyID  string
	accessJTI string
	accessExp time.Time
}

type stateKey struct{}

func withState(ctx context.Context, st *issueState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *issueState {
	st, _ := ctx.Value(stateKey{}).(*issueState)
	return st
}
