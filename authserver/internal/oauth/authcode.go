package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/verify"
)

// OpenID Connect scopes and the ID token's JOSE type.
const (
	ScopeOpenID  = "openid"
	ScopeProfile = "profile"
	ScopeEmail   = "email"
	// TypeIDToken is the ID token's typ header (OpenID Connect Core 2
	// leaves it open; "JWT" keeps it apart from "at+jwt" access tokens, so
	// an ID token is never accepted where an access token is required).
	TypeIDToken = "JWT"
)

var errBadCode = oautherr.ErrInvalidGrant.WithDescription("The authorization code is invalid, expired or already used")

// IDToken is the OpenID Connect ID token (Core 1.0 2, 5.1).
type IDToken struct {
	jwt.RegisteredClaims
	// Audience shadows RegisteredClaims.Audience so that the one audience,
	// the client_id, is a plain string: the form most relying parties
	// expect (Core 2 allows both).
	Audience          string           `json:"aud"`
	Nonce             string           `json:"nonce,omitempty"`
	AuthTime          *jwt.NumericDate `json:"auth_time,omitempty"`
	PreferredUsername string           `json:"preferred_username,omitempty"`
	Name              string           `json:"name,omitempty"`
	Email             string           `json:"email,omitempty"`
}

// ProfileClaims are the user claims a scope releases (OpenID Connect Core
// 5.4): "profile" gives preferred_username and name (the username: the
// store keeps no separate display name), "email" gives email.
func ProfileClaims(u *storage.User, scope string) map[string]any {
	out := map[string]any{"sub": u.ID}
	sc := splitScope(scope)
	if slices.Contains(sc, ScopeProfile) {
		out["preferred_username"] = u.Username
		out["name"] = u.Username
	}
	if slices.Contains(sc, ScopeEmail) && u.Email != "" {
		out["email"] = u.Email
	}
	return out
}

// AuthenticatePassword is the login page's credential check: the same
// failed-login limits (shared counters), constant timing, disabled-user
// refusal and hash upgrade as the password grant. Wrong credentials give
// oautherr-compatible ErrInvalidGrant from go-oauth2; a limit gives
// oautherr.ErrTooManyRequests with a Retry-After.
func (s *Service) AuthenticatePassword(ctx context.Context, username, password, remoteIP string) (*storage.User, error) {
	req := &TokenRequest{GrantType: GrantPassword, Username: username, Password: password, RemoteIP: remoteIP}
	if err := s.checkLoginLimit(ctx, req); err != nil {
		return nil, err
	}
	st := &issueState{req: req}
	if _, err := s.authenticateUser(ctx, st); err != nil {
		return nil, err
	}
	return st.user, nil
}

// redeemCode claims the request's code and checks what it is bound to
// (RFC 6749 4.1.3, RFC 7636 4.6). Every refusal is invalid_grant. The code
// is spent by the first attempt even when a check fails, so a stolen code
// cannot be used to guess the verifier. A code presented again revokes
// the tokens issued from it (RFC 6749 4.1.2).
func (s *Service) redeemCode(ctx context.Context, st *issueState) error {
	if s.codes == nil {
		return oerrors.ErrUnsupportedGrantType
	}
	req := st.req
	c, err := s.codes.Redeem(ctx, req.Code, s.now())
	switch {
	case errors.Is(err, authcode.ErrReused):
		s.revokeIssued(ctx, c)
		return errBadCode
	case errors.Is(err, authcode.ErrNotFound):
		return errBadCode
	case err != nil:
		return fmt.Errorf("redeem authorization code: %w", err)
	}
	switch {
	case c.ClientID != st.client.ID:
		s.log.InfoContext(ctx, "authorization code presented by another client", "client_id", st.client.ID)
		return errBadCode
	case c.RedirectURI != req.RedirectURI:
		return oautherr.ErrInvalidGrant.WithDescription("redirect_uri does not match the authorization request")
	case c.Challenge == "" && req.CodeVerifier != "":
		// RFC 9700 4.8.2: a verifier without a challenge is a downgrade.
		return oautherr.ErrInvalidGrant.WithDescription("code_verifier sent but the authorization request had no code_challenge")
	case c.Challenge != "" && req.CodeVerifier == "":
		return oautherr.ErrInvalidGrant.WithDescription("code_verifier is required")
	case c.Challenge != "" && !authcode.VerifyS256(c.Challenge, req.CodeVerifier):
		return oautherr.ErrInvalidGrant.WithDescription("code_verifier does not match the code_challenge")
	}
	st.code, st.codeValue = c, req.Code
	return nil
}

// revokeIssued revokes the refresh-token family and the access token
// issued from a code that is being replayed.
func (s *Service) revokeIssued(ctx context.Context, c *authcode.Code) {
	now := s.now()
	s.log.WarnContext(ctx, "authorization code reuse detected: revoking its tokens",
		"client_id", c.ClientID, "user_id", c.UserID, "family_id", c.FamilyID)
	if c.FamilyID != "" {
		if err := s.refresh.RevokeFamily(ctx, c.FamilyID, now); err != nil {
			s.log.ErrorContext(ctx, "revoke refresh family after code reuse", "family_id", c.FamilyID, "err", err)
		}
	}
	if c.AccessJTI == "" || !now.Before(c.AccessExpiresAt) {
		return
	}
	var err error
	if s.revs != nil {
		err = s.revs.RevokeToken(ctx, c.AccessJTI, c.AccessExpiresAt)
	} else {
		err = s.store.AppendRevocationEvent(ctx, &storage.RevocationEvent{Kind: "jti", JTI: c.AccessJTI, Subject: c.UserID,
			ClientID: c.ClientID, ExpiresAt: c.AccessExpiresAt, CreatedAt: now})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "revoke access token after code reuse", "jti", c.AccessJTI, "err", err)
	}
}

// codeTokenInfo hands the redeemed code to go-oauth2 (tokenStore.GetByCode).
// Expiry, client, redirect URI and PKCE were checked by redeemCode with the
// injected clock; the library re-checks with time.Now, so the times given
// here only have to pass that check.
func codeTokenInfo(st *issueState) oauth2.TokenInfo {
	ti := models.NewToken()
	ti.SetClientID(st.code.ClientID)
	ti.SetUserID(st.code.UserID)
	ti.SetScope(st.code.Scope)
	ti.SetRedirectURI(st.code.RedirectURI)
	ti.SetCode(st.codeValue)
	ti.SetCodeCreateAt(time.Now())
	ti.SetCodeExpiresIn(authcode.MaxTTL)
	return ti
}

// finishCode records which tokens the code produced (for reuse
// revocation) and adds the ID token when openid was granted.
func (s *Service) finishCode(ctx context.Context, st *issueState, data map[string]any) error {
	if err := s.codes.Issued(ctx, st.codeValue, st.familyID, st.accessJTI, st.accessExp); err != nil {
		return fmt.Errorf("record tokens of authorization code: %w", err)
	}
	if !slices.Contains(splitScope(st.code.Scope), ScopeOpenID) {
		return nil
	}
	u := st.user
	if u == nil {
		var err error
		if u, err = s.store.GetUser(ctx, st.code.UserID); err != nil {
			return fmt.Errorf("load user for ID token: %w", err)
		}
	}
	idt, err := s.signIDToken(st.client.ID, u, st.code)
	if err != nil {
		return err
	}
	data["id_token"] = idt
	return nil
}

func (s *Service) signIDToken(clientID string, u *storage.User, c *authcode.Code) (string, error) {
	now := s.now().Truncate(time.Second)
	t := &IDToken{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   u.ID,
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL)),
			IssuedAt:  jwt.NewNumericDate(now),
		},
		Audience: clientID,
		Nonce:    c.Nonce,
		AuthTime: jwt.NewNumericDate(c.AuthTime.Truncate(time.Second)),
	}
	pc := ProfileClaims(u, c.Scope)
	t.PreferredUsername, _ = pc["preferred_username"].(string)
	t.Name, _ = pc["name"].(string)
	t.Email, _ = pc["email"].(string)
	out, err := s.signer.Sign(t, TypeIDToken)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return out, nil
}

// HasScope reports whether a space-separated scope string contains want.
func HasScope(scope, want string) bool {
	return slices.Contains(strings.Fields(scope), want)
}

// VerifyAccess verifies a bearer access token as introspection does:
// signature, claims, and the revocation events.
func (s *Service) VerifyAccess(ctx context.Context, raw string) (*verify.Token, error) {
	tok, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	revoked, err := s.revoked(ctx, tok)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, verify.ErrRevoked
	}
	return tok, nil
}
