package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// tokenStore adapts the refresh store to oauth2.TokenStore. Access tokens
// are self-contained JWTs and are not stored; authorization codes live in
// internal/authcode. Misses are (nil, nil), removals of
// missing keys are not errors: the library's contract.
type tokenStore struct {
	refresh refresh.Store
	revs    RevocationEmitter // optional: events for revoked families
	cfg     *Config
	now     func() time.Time
	log     *slog.Logger
}

var _ oauth2.TokenStore = (*tokenStore)(nil)

// Create stores the refresh token of a new grant, or rotates the one the
// request presented (issueState.parent, set by GetByRefresh).
func (ts *tokenStore) Create(ctx context.Context, ti oauth2.TokenInfo) error {
	rt := ti.GetRefresh()
	if rt == "" {
		return nil
	}
	st := stateFrom(ctx)
	if st == nil {
		return errors.New("token store: request state missing")
	}
	now := ts.now()
	id, err := refresh.NewID()
	if err != nil {
		return err
	}
	rec := &storage.RefreshToken{
		ID: id, TokenHash: refresh.Hash(rt), UserID: ti.GetUserID(), ClientID: ti.GetClientID(),
		Scope: ti.GetScope(), IssuedAt: now, ExpiresAt: now.Add(ts.cfg.RefreshTTL),
	}
	if p := st.parent; p != nil {
		rec.FamilyID, rec.ParentID, rec.Account, rec.AuthTime = p.FamilyID, p.ID, p.Account, p.AuthTime
		// RFC 6749 6: a request may narrow the access token's scope, but the
		// new refresh token keeps the scope of the one it replaces.
		rec.Scope = p.Scope
		err := ts.refresh.Rotate(ctx, p, rec, now, ts.cfg.RefreshReuseGrace)
		if errors.Is(err, refresh.ErrReused) {
			// Lost a race with another use of the same token, outside the
			// grace window: the same reuse RFC 9700 4.14 describes.
			ts.reuse(ctx, p, now)
			return oerrors.ErrInvalidGrant
		}
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		return nil
	}
	fam, err := refresh.NewID()
	if err != nil {
		return err
	}
	rec.FamilyID, rec.Account, rec.AuthTime = fam, st.req.Account, now
	if st.code != nil {
		rec.AuthTime = st.code.AuthTime
	}
	st.familyID = fam
	if err := ts.refresh.Create(ctx, rec); err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	return nil
}

// GetByRefresh finds a presented refresh token. Every reason to refuse it
// returns (nil, nil), which the library reports as invalid_grant; a spent
// token presented again outside the grace window revokes its family.
func (ts *tokenStore) GetByRefresh(ctx context.Context, token string) (oauth2.TokenInfo, error) {
	st := stateFrom(ctx)
	if st == nil || st.client == nil {
		return nil, nil //nolint:nilnil // library contract: a miss is (nil, nil)
	}
	rec, err := ts.refresh.GetByHash(ctx, refresh.Hash(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil //nolint:nilnil // library contract
	}
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	now := ts.now()
	switch {
	case rec.ClientID != st.client.ID:
		// RFC 6749 6: bound to the client it was issued to.
		ts.log.InfoContext(ctx, "refresh token presented by another client", "client_id", st.client.ID)
		return nil, nil //nolint:nilnil // library contract
	case rec.RevokedAt != nil, !now.Before(rec.ExpiresAt):
		return nil, nil //nolint:nilnil // library contract
	case rec.UsedAt != nil && !inGrace(rec.UsedAt, now, ts.cfg.RefreshReuseGrace):
		ts.reuse(ctx, rec, now)
		return nil, nil //nolint:nilnil // library contract
	}
	if !scopeSubset(st.req.Scope, splitScope(rec.Scope)) {
		return nil, oerrors.ErrInvalidScope
	}
	if st.req.Account != "" && rec.Account != "" && st.req.Account != rec.Account {
		return nil, oerrors.ErrInvalidGrant
	}
	st.parent = rec
	ti := models.NewToken()
	ti.SetClientID(rec.ClientID)
	ti.SetUserID(rec.UserID)
	ti.SetScope(rec.Scope)
	ti.SetRefresh(token)
	// Expiry was checked above with the injected clock; 0 tells the
	// library (which reads time.Now itself) not to check again.
	ti.SetRefreshCreateAt(now)
	ti.SetRefreshExpiresIn(0)
	return ti, nil
}

func (ts *tokenStore) reuse(ctx context.Context, rec *storage.RefreshToken, now time.Time) {
	ts.log.WarnContext(ctx, "refresh token reuse detected: family revoked",
		"family_id", rec.FamilyID, "client_id", rec.ClientID, "user_id", rec.UserID)
	if err := ts.refresh.RevokeFamily(ctx, rec.FamilyID, now); err != nil {
		ts.log.ErrorContext(ctx, "revoke refresh family after reuse", "family_id", rec.FamilyID, "err", err)
	}
	if ts.revs != nil {
		// Whoever holds the copy may hold access tokens of the family too.
		if err := ts.revs.RevokeSubject(ctx, rec.UserID, rec.ClientID); err != nil {
			ts.log.ErrorContext(ctx, "revocation event after reuse", "family_id", rec.FamilyID, "err", err)
		}
	}
	if ts.cfg.OnReuse != nil {
		ts.cfg.OnReuse()
	}
}

// RemoveByRefresh is a no-op: rotation marks the parent spent instead of
// deleting it, which is what lets a later reuse be recognised.
func (ts *tokenStore) RemoveByRefresh(context.Context, string) error { return nil }

// RemoveByAccess is a no-op: access tokens are not stored.
func (ts *tokenStore) RemoveByAccess(context.Context, string) error { return nil }

// RemoveByCode is a no-op: redemption already spent the code, and the
// spent record is what lets a replay be recognised.
func (ts *tokenStore) RemoveByCode(context.Context, string) error { return nil }

// GetByAccess: access tokens are not stored.
func (ts *tokenStore) GetByAccess(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, nil //nolint:nilnil // library contract
}

// GetByCode returns the code the service redeemed for this request
// (Service.redeemCode claims it atomically before the library runs).
func (ts *tokenStore) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	if st := stateFrom(ctx); st != nil && st.code != nil && st.codeValue == code {
		return codeTokenInfo(st), nil
	}
	return nil, nil //nolint:nilnil // library contract
}

// inGrace reports whether a token spent at usedAt may still be presented
// at now (refresh_reuse_grace, for clients racing their own refreshes).
func inGrace(usedAt *time.Time, now time.Time, grace time.Duration) bool {
	return grace > 0 && !now.After(usedAt.Add(grace))
}
