package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/verify"
)

// Token type hints (RFC 7009 2.1, RFC 7662 2.1).
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// AuthenticateClient authenticates a client for revocation and
// introspection. Public clients cannot introspect.
func (s *Service) AuthenticateClient(ctx context.Context, creds Credentials) (*storage.Client, error) {
	return s.clients.authenticate(ctx, creds)
}

// looksLikeJWT is a cheap test that keeps opaque refresh tokens away from
// the JWT parser and JWTs away from the refresh store.
func looksLikeJWT(t string) bool { return strings.Count(t, ".") == 2 }

// Revoke implements RFC 7009 for client: a refresh token revokes its whole
// family; an access token is recorded by jti until it expires (and a "jti"
// revocation event is appended for the gateways). Unknown, invalid or
// foreign tokens are ignored: the response is 200 either way, so the
// endpoint reveals nothing about tokens of other clients.
func (s *Service) Revoke(ctx context.Context, client *storage.Client, token, hint string) error {
	now := s.now()
	if !looksLikeJWT(token) {
		rec, err := s.refresh.GetByHash(ctx, refresh.Hash(token))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("revoke: load refresh token: %w", err)
		}
		if rec.ClientID != client.ID {
			s.log.InfoContext(ctx, "revocation of another client's refresh token ignored", "client_id", client.ID)
			return nil
		}
		if err := s.refresh.RevokeFamily(ctx, rec.FamilyID, now); err != nil {
			return fmt.Errorf("revoke refresh family: %w", err)
		}
		s.log.InfoContext(ctx, "refresh token family revoked", "family_id", rec.FamilyID, "client_id", client.ID, "user_id", rec.UserID)
		if s.revs != nil {
			// The family's access tokens die with it (issue 6).
			if err := s.revs.RevokeSubject(ctx, rec.UserID, rec.ClientID); err != nil {
				return fmt.Errorf("revoke refresh family: %w", err)
			}
		}
		return nil
	}
	tok, err := s.verifier.Verify(ctx, token)
	if err != nil {
		return nil //nolint:nilerr // RFC 7009 2.2: an invalid token needs no revoking, and the answer is 200
	}
	if tok.ClientID != client.ID {
		s.log.InfoContext(ctx, "revocation of another client's access token ignored", "client_id", client.ID)
		return nil
	}
	if s.revs != nil {
		if err := s.revs.RevokeToken(ctx, tok.ID, tok.ExpiresAt); err != nil {
			return fmt.Errorf("record access token revocation: %w", err)
		}
	} else {
		ev := &storage.RevocationEvent{Kind: "jti", JTI: tok.ID, Subject: tok.Subject, ClientID: tok.ClientID,
			ExpiresAt: tok.ExpiresAt, CreatedAt: now}
		if err := s.store.AppendRevocationEvent(ctx, ev); err != nil {
			return fmt.Errorf("record access token revocation: %w", err)
		}
	}
	s.log.InfoContext(ctx, "access token revoked", "jti", tok.ID, "client_id", client.ID, "sub", tok.Subject)
	return nil
}

// Inactive is the RFC 7662 answer for anything not currently valid.
var Inactive = map[string]any{"active": false}

// Introspect implements RFC 7662 for an authenticated client. Access tokens
// are verified exactly as a gateway would and checked against recorded
// revocations; refresh tokens are only described to the client that holds
// them.
func (s *Service) Introspect(ctx context.Context, client *storage.Client, token string) (map[string]any, error) {
	if !looksLikeJWT(token) {
		return s.introspectRefresh(ctx, client, token)
	}
	tok, err := s.verifier.Verify(ctx, token)
	if err != nil {
		return Inactive, nil //nolint:nilerr // an unverifiable token is simply not active
	}
	revoked, err := s.revoked(ctx, tok)
	if err != nil {
		return nil, err
	}
	if revoked {
		return Inactive, nil
	}
	out := map[string]any{
		"active": true, "token_type": "Bearer", "iss": tok.Issuer, "sub": tok.Subject, "aud": tok.Audience,
		"client_id": tok.ClientID, "jti": tok.ID, "exp": tok.ExpiresAt.Unix(),
		"roles": claims.Roles{Grants: tok.Roles, Format: s.cfg.RolesFormat},
	}
	if tok.Scope != "" {
		out["scope"] = tok.Scope
	}
	if !tok.IssuedAt.IsZero() {
		out["iat"] = tok.IssuedAt.Unix()
	}
	if !tok.NotBefore.IsZero() {
		out["nbf"] = tok.NotBefore.Unix()
	}
	return out, nil
}

func (s *Service) introspectRefresh(ctx context.Context, client *storage.Client, token string) (map[string]any, error) {
	rec, err := s.refresh.GetByHash(ctx, refresh.Hash(token))
	if errors.Is(err, storage.ErrNotFound) {
		return Inactive, nil
	}
	if err != nil {
		return nil, fmt.Errorf("introspect: load refresh token: %w", err)
	}
	now := s.now()
	if rec.ClientID != client.ID || rec.RevokedAt != nil || rec.UsedAt != nil || !now.Before(rec.ExpiresAt) {
		return Inactive, nil
	}
	out := map[string]any{
		"active": true, "token_type": "refresh_token", "client_id": rec.ClientID, "sub": rec.UserID,
		"iss": s.cfg.Issuer, "exp": rec.ExpiresAt.Unix(), "iat": rec.IssuedAt.Unix(),
	}
	if rec.Scope != "" {
		out["scope"] = rec.Scope
	}
	return out, nil
}

// Revoked reports whether a verified access token of this server has been
// revoked (the same check introspection makes), for the admin API.
func (s *Service) Revoked(ctx context.Context, tok *verify.Token) (bool, error) {
	return s.revoked(ctx, tok)
}

// revoked checks the revocation events: a "jti" event for this token, or a
// "sub" event (logout everywhere, disabled user; see the logout issue)
// whose not_before is after the token was issued. The live set is small:
// events are moot, and deleted, once the access-token lifetime has passed.
func (s *Service) revoked(ctx context.Context, tok *verify.Token) (bool, error) {
	var after int64
	now := s.now()
	for {
		evs, err := s.store.ListRevocationEvents(ctx, after, now, 500)
		if err != nil {
			return false, fmt.Errorf("list revocation events: %w", err)
		}
		for _, e := range evs {
			switch e.Kind {
			case "jti":
				if e.JTI == tok.ID {
					return true, nil
				}
			case "sub":
				if e.Subject == tok.Subject && (e.ClientID == "" || e.ClientID == tok.ClientID) &&
					!tok.IssuedAt.IsZero() && tok.IssuedAt.Before(e.NotBefore) {
					return true, nil
				}
			}
			after = e.Seq
		}
		if len(evs) < 500 {
			return false, nil
		}
	}
}
