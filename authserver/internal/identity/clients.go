package identity

import (
	"context"
	"fmt"
	"slices"

	"github.com/portcullis/portcullis/authserver/internal/oauthsyntax"
	"github.com/portcullis/portcullis/authserver/internal/password"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// The grant types a client may be allowed.
const (
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
)

// GrantTypes lists every grant type a client may be allowed.
var GrantTypes = []string{GrantPassword, GrantRefreshToken, GrantClientCredentials, GrantAuthorizationCode}

// DefaultScopes are what a client created without scopes may request.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access"}

// NewClient is the input of CreateClient.
type NewClient struct {
	Name         string
	GrantTypes   []string
	RedirectURIs []string
	Scopes       []string // empty: DefaultScopes
	// Public clients have no secret (they cannot keep one) and may not use
	// client_credentials.
	Public      bool
	Account     string // optional owner
	Application string // optional owner, within Account
}

// CreatedClient is a new client and, for a confidential client, its secret
// in clear: the only time it is available.
type CreatedClient struct {
	storage.Client
	Secret string
}

// CreateClient validates and creates an OAuth2 client, generating and
// hashing its secret when it is confidential.
func (s *Service) CreateClient(ctx context.Context, actor Actor, in NewClient) (*CreatedClient, error) {
	f := fields{}
	grantTypes, redirects, scopes := checkClientSettings(f, in.Name, in.GrantTypes, in.RedirectURIs, in.Scopes, in.Public)
	if in.Account != "" {
		checkSlug(f, "account", in.Account)
	}
	if in.Application != "" {
		checkSlug(f, "application", in.Application)
		if in.Account == "" {
			f.add("account", "is required with an application")
		}
	}
	if err := f.err(); err != nil {
		return nil, err
	}

	out := &CreatedClient{Client: storage.Client{
		Name: in.Name, Public: in.Public, GrantTypes: grantTypes, RedirectURIs: redirects, Scopes: scopes,
		Account: in.Account, Application: in.Application,
	}}
	if !in.Public {
		out.Secret = password.NewSecret()
		hash, err := s.Hasher.Hash(ctx, out.Secret)
		if err != nil {
			return nil, fmt.Errorf("create client: %w", err)
		}
		out.SecretHash = hash
	}
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateClient(ctx, &out.Client); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "client.create", out.ID, nil, viewClient(&out.Client))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkClientSettings validates the settings a client is created or updated
// with and returns them normalised (deduplicated, default scopes filled in).
func checkClientSettings(f fields, name string, grantTypesIn, redirectsIn, scopesIn []string, public bool) (grantTypes, redirects, scopes []string) {
	if name == "" {
		f.add("name", "is required")
	}
	checkDisplayName(f, "name", name)
	grantTypes = dedupe(grantTypesIn)
	if len(grantTypes) == 0 {
		f.add("grant_types", "give at least one of %v", GrantTypes)
	}
	for _, gt := range grantTypes {
		if !slices.Contains(GrantTypes, gt) {
			f.add("grant_types", "unknown grant type %q (want one of %v)", gt, GrantTypes)
		}
	}
	if public && slices.Contains(grantTypes, GrantClientCredentials) {
		f.add("grant_types", "a public client cannot use client_credentials")
	}
	redirects = dedupe(redirectsIn)
	for _, u := range redirects {
		if !validRedirectURI(u) {
			f.add("redirect_uris", "%q is not an absolute URL without a fragment", u)
		}
	}
	if slices.Contains(grantTypes, GrantAuthorizationCode) && len(redirects) == 0 {
		f.add("redirect_uris", "authorization_code needs at least one redirect URI")
	}
	scopes = dedupe(scopesIn)
	if len(scopes) == 0 {
		scopes = slices.Clone(DefaultScopes)
	}
	for _, sc := range scopes {
		if !oauthsyntax.ValidScopeToken(sc) {
			f.add("scopes", "%q is not a valid scope token", sc)
		}
	}
	return grantTypes, redirects, scopes
}

// dedupe drops empty strings and repeats, keeping the first order.
func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
