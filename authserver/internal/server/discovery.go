package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/signer"
)

// DiscoveryHandler serves the JWKS and the RFC 8414 / OpenID Connect
// discovery documents.
type DiscoveryHandler struct {
	Issuer string
	Signer *signer.Signer
	// Browser: the authorization, userinfo and logout endpoints are
	// served (issue 7), so they are advertised.
	Browser bool
}

// Register implements the handler-group convention.
func (h *DiscoveryHandler) Register(g *echo.Group) {
	// HEAD too: caches and monitors probe these documents with it (net/http
	// drops the body of a HEAD response).
	for _, r := range []struct {
		path string
		h    echo.HandlerFunc
	}{
		{"/.well-known/jwks.json", h.jwks},
		{"/.well-known/openid-configuration", h.metadata},
		{"/.well-known/oauth-authorization-server", h.metadata},
	} {
		g.GET(r.path, r.h)
		g.HEAD(r.path, r.h)
	}
}

// jwks serves every key that may verify a live token. max-age is at most
// half the prepublish period, so no cache outlives a rotation step: a key
// is in every fresh copy before it signs.
func (h *DiscoveryHandler) jwks(c echo.Context) error {
	hd := c.Response().Header()
	hd.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(h.Signer.JWKSMaxAge().Seconds())))
	return c.Blob(http.StatusOK, "application/jwk-set+json", h.Signer.JWKS())
}

// Metadata is the discovery document (RFC 8414 2; OpenID Connect
// Discovery 1.0 3 for the fields both share).
type Metadata struct {
	Issuer                                    string   `json:"issuer"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported"`
	AccessTokenSigningAlgValuesSupported      []string `json:"access_token_signing_alg_values_supported"`
	SubjectTypesSupported                     []string `json:"subject_types_supported"`
	ClaimsSupported                           []string `json:"claims_supported"`
	// Browser flow (authorization code with PKCE, OpenID Connect).
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint,omitempty"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	PromptValuesSupported                      []string `json:"prompt_values_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
}

func (h *DiscoveryHandler) metadata(c echo.Context) error {
	base := strings.TrimRight(h.Issuer, "/")
	algs := []string{h.Signer.Algorithm()}
	md := Metadata{
		Issuer:                                    h.Issuer,
		TokenEndpoint:                             base + "/oauth2/token",
		JWKSURI:                                   base + "/.well-known/jwks.json",
		RevocationEndpoint:                        base + "/oauth2/revoke",
		IntrospectionEndpoint:                     base + "/oauth2/introspect",
		GrantTypesSupported:                       oauth.GrantTypes,
		ResponseTypesSupported:                    []string{}, // the authorization endpoint is not served yet
		TokenEndpointAuthMethodsSupported:         oauth.AuthMethods,
		RevocationEndpointAuthMethodsSupported:    oauth.AuthMethods,
		IntrospectionEndpointAuthMethodsSupported: []string{oauth.AuthBasic, oauth.AuthPost},
		IDTokenSigningAlgValuesSupported:          algs,
		AccessTokenSigningAlgValuesSupported:      algs,
		SubjectTypesSupported:                     []string{"public"},
		ClaimsSupported:                           []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "roles"},
	}
	if h.Browser {
		md.AuthorizationEndpoint = base + "/oauth2/authorize"
		md.UserinfoEndpoint = base + "/userinfo"
		md.EndSessionEndpoint = base + "/oauth2/logout"
		md.ResponseTypesSupported = []string{"code"}
		md.ResponseModesSupported = []string{"query"}
		md.CodeChallengeMethodsSupported = []string{"S256"}
		md.ScopesSupported = []string{"openid", "profile", "email", "offline_access"}
		md.PromptValuesSupported = []string{"none", "login"}
		md.AuthorizationResponseIssParameterSupported = true
		md.ClaimsSupported = append(md.ClaimsSupported, "nonce", "auth_time", "preferred_username", "name", "email")
	} else {
		md.GrantTypesSupported = slices.DeleteFunc(slices.Clone(md.GrantTypesSupported), func(g string) bool { return g == oauth.GrantAuthorizationCode })
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, md)
}
