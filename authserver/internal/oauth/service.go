package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/ratelimit"
	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/verify"
)

// Config is the token service's runtime configuration.
type Config struct {
	Issuer            string
	Audience          []string
	AccessTTL         time.Duration
	RefreshTTL        time.Duration
	RefreshReuseGrace time.Duration
	RolesFormat       claims.Format
	Limits            LoginLimits
	// ClientSecretCacheTTL is how long a verified client secret is
	// remembered (0 disables the cache). Default 1m.
	ClientSecretCacheTTL time.Duration
	// OnReuse, when set, is called after a refresh-token reuse revoked a
	// family (for metrics).
	OnReuse func()
}

// Deps are the service's collaborators.
type Deps struct {
	Store     storage.Store
	Refresh   refresh.Store
	Signer    Signer
	Keys      verify.Keys // the signer's published keys, for introspection
	Passwords Passwords
	Limiter   ratelimit.Limiter // nil: no login limits
	Codes     authcode.Store    // nil: no authorization_code grant
	Logger    *slog.Logger
	Now       func() time.Time
	// Revocations, when set, emits the revocation events (issue 6) for an
	// access token revoked by jti and for a refresh-token family revoked
	// (RFC 7009 or reuse detection), so that gateways refuse the access
	// tokens at once. Without it an access-token revocation is only
	// appended to the store's feed.
	Revocations RevocationEmitter
}

// RevocationEmitter is the revocation-event emitter as the token service
// uses it (authserver/internal/revocation.Emitter).
type RevocationEmitter interface {
	RevokeToken(ctx context.Context, jti string, exp time.Time) error
	RevokeSubject(ctx context.Context, sub, clientID string) error
}

// Service issues, revokes and introspects tokens.
type Service struct {
	cfg       Config
	store     storage.Store
	refresh   refresh.Store
	passwords Passwords
	limiter   ratelimit.Limiter
	revs      RevocationEmitter
	codes     authcode.Store
	signer    Signer
	log       *slog.Logger
	now       func() time.Time
	clients   *clientStore
	srv       *server.Server
	verifier  *verify.Verifier
}

// New wires go-oauth2 to Portcullis' stores and signer.
func New(cfg Config, d Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if cfg.ClientSecretCacheTTL == 0 {
		cfg.ClientSecretCacheTTL = time.Minute
	}
	s := &Service{cfg: cfg, store: d.Store, refresh: d.Refresh, passwords: d.Passwords, limiter: d.Limiter, revs: d.Revocations, log: d.Logger, now: d.Now}
	s.codes, s.signer = d.Codes, d.Signer
	s.clients = &clientStore{store: d.Store, passwords: d.Passwords, cache: newSecretCache(cfg.ClientSecretCacheTTL, d.Now), log: d.Logger}

	v, err := verify.New(verify.Config{
		Issuer: cfg.Issuer, Audiences: cfg.Audience, Keys: d.Keys, Now: d.Now,
		RolesFormat: map[claims.Format]string{claims.FormatScoped: "scoped", claims.FormatCompact: "compact"}[cfg.RolesFormat],
	})
	if err != nil {
		return nil, fmt.Errorf("token verifier: %w", err)
	}
	s.verifier = v

	m := manage.NewManager()
	m.MapClientStorage(s.clients)
	m.MapTokenStorage(&tokenStore{refresh: d.Refresh, revs: d.Revocations, cfg: &s.cfg, now: d.Now, log: d.Logger})
	m.MapAccessGenerate(&accessGenerator{store: d.Store, signer: d.Signer, cfg: &s.cfg, now: d.Now})
	m.SetPasswordTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTTL, RefreshTokenExp: cfg.RefreshTTL, IsGenerateRefresh: true})
	m.SetClientTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTTL})
	m.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: cfg.AccessTTL, RefreshTokenExp: cfg.RefreshTTL, IsGenerateRefresh: true})
	// Rotation is done by the token store (Create marks the parent spent),
	// so the library must not delete the old token: a deleted token could
	// not be recognised when it is reused.
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{AccessTokenExp: cfg.AccessTTL, RefreshTokenExp: cfg.RefreshTTL,
		IsGenerateRefresh: true, IsResetRefreshTime: true})

	sc := server.NewConfig()
	sc.AllowedGrantTypes = []oauth2.GrantType{oauth2.AuthorizationCode, oauth2.PasswordCredentials, oauth2.ClientCredentials, oauth2.Refreshing}
	s.srv = server.NewServer(sc, m)
	s.srv.InternalErrorHandler = internalError
	s.srv.ResponseErrorHandler = fixStatus
	return s, nil
}

// Verifier is the verifier of this server's own access tokens.
func (s *Service) Verifier() *verify.Verifier { return s.verifier }

// Token runs a token request and returns the RFC 6749 5.1 response body.
// Client authentication, the client's grant-type permission and scope
// limits happen here, once, for every grant.
func (s *Service) Token(ctx context.Context, req *TokenRequest) (map[string]any, error) {
	client, err := s.clients.authenticate(ctx, req.Client)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(client.GrantTypes, req.GrantType) {
		return nil, oerrors.ErrUnauthorizedClient
	}
	// The requested scope must be among the client's registered scopes; a
	// refresh may only narrow the scope of its grant (checked by the token
	// store against the stored token).
	if req.GrantType != GrantRefreshToken && !scopeSubset(req.Scope, client.Scopes) {
		return nil, oerrors.ErrInvalidScope
	}
	st := &issueState{req: req, client: client}
	ctx = withState(ctx, st)
	tgr := &oauth2.TokenGenerateRequest{ClientID: client.ID, ClientSecret: req.Client.ClientSecret, Scope: req.Scope}
	switch req.GrantType {
	case GrantPassword:
		if err := s.checkLoginLimit(ctx, req); err != nil {
			return nil, err
		}
		if tgr.UserID, err = s.authenticateUser(ctx, st); err != nil {
			return nil, err
		}
	case GrantRefreshToken:
		tgr.Refresh = req.RefreshToken
	case GrantAuthorizationCode:
		if err := s.redeemCode(ctx, st); err != nil {
			return nil, err
		}
		tgr.Code, tgr.RedirectURI = req.Code, req.RedirectURI
	}
	ti, err := s.srv.GetAccessToken(ctx, oauth2.GrantType(req.GrantType), tgr)
	if err != nil {
		return nil, err
	}
	data := s.srv.GetTokenData(ti)
	if st.code != nil {
		if err := s.finishCode(ctx, st, data); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// ErrorFor turns any error of this package into the response to send,
// logging what is not a protocol error with the request's context.
func (s *Service) ErrorFor(ctx context.Context, err error) *oautherr.Error {
	var oe *oautherr.Error
	if errors.As(err, &oe) {
		return oe
	}
	if _, known := oerrors.Descriptions[err]; !known {
		s.log.ErrorContext(ctx, "token request failed", "err", err)
	}
	data, status, header := s.srv.GetErrorData(err)
	code, _ := data["error"].(string)
	desc, _ := data["error_description"].(string)
	return &oautherr.Error{Code: code, Description: desc, Status: status, Header: header}
}

// internalError is the library's InternalErrorHandler: our own errors,
// matched with errors.Is, become protocol errors; anything else is a
// server_error.
func internalError(err error) *oerrors.Response {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &oerrors.Response{Error: oerrors.ErrTemporarilyUnavailable, Description: "request cancelled or timed out", StatusCode: 503}
	case errors.Is(err, signer.ErrNoKey):
		return &oerrors.Response{Error: oerrors.ErrTemporarilyUnavailable, Description: "no signing key is loaded yet", StatusCode: 503}
	}
	return nil
}

// fixStatus restores RFC 6749 5.2 status codes: the library answers 401
// for invalid_grant, unauthorized_client and unsupported_grant_type, but
// only invalid_client is a 401 (with WWW-Authenticate).
func fixStatus(re *oerrors.Response) {
	switch {
	case errors.Is(re.Error, oerrors.ErrInvalidClient):
		re.StatusCode = 401
		re.SetHeader("WWW-Authenticate", `Basic realm="portcullis"`)
	case errors.Is(re.Error, oerrors.ErrUnauthorizedClient):
		re.StatusCode = 400
		re.Description = "The client is not allowed to use this grant type"
	case errors.Is(re.Error, oerrors.ErrInvalidGrant):
		re.StatusCode = 400
		re.Description = "The credentials, or the refresh token, are invalid, expired or revoked"
	case errors.Is(re.Error, oerrors.ErrUnsupportedGrantType), errors.Is(re.Error, oerrors.ErrInvalidRequest),
		errors.Is(re.Error, oerrors.ErrInvalidScope):
		re.StatusCode = 400
	}
}
