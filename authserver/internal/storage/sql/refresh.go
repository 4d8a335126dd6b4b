package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

const refreshCols = `id, token_hash, family_id, parent_id, COALESCE(user_id, ''), client_id, scope, account,
	auth_time, issued_at, expires_at, used_at, revoked_at`

// CreateRefreshToken inserts t, filling ID (when empty) and IssuedAt (when
// zero). FamilyID defaults to the token's own id.
func (s *Store) CreateRefreshToken(ctx context.Context, t *storage.RefreshToken) error {
	what := "create refresh token"
	if t.TokenHash == "" || t.ClientID == "" {
		return fmt.Errorf("%s: hash and client are required: %w", what, storage.ErrInvalid)
	}
	if t.ID == "" {
		t.ID = NewID("rt_")
	}
	if t.FamilyID == "" {
		t.FamilyID = t.ID
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = s.now()
	}
	_, err := s.exec(ctx, `INSERT INTO refresh_tokens (id, token_hash, family_id, parent_id, user_id, client_id,
		scope, account, auth_time, issued_at, expires_at, used_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.TokenHash, t.FamilyID, t.ParentID, nullString(t.UserID), t.ClientID, t.Scope, t.Account,
		s.t(t.AuthTime), s.t(t.IssuedAt), s.t(t.ExpiresAt), s.d.optTime(t.UsedAt), s.d.optTime(t.RevokedAt))
	return mapError(err, what)
}

// GetRefreshTokenByHash returns the token whose hash is hash, spent, revoked
// or expired alike: the caller decides (reuse detection needs spent ones).
func (s *Store) GetRefreshTokenByHash(ctx context.Context, hash string) (*storage.RefreshToken, error) {
	var (
		t             storage.RefreshToken
		at, iat, eat  dbTime
		used, revoked nullTime
	)
	err := s.queryRow(ctx, `SELECT `+refreshCols+` FROM refresh_tokens WHERE token_hash = ?`, hash).Scan(
		&t.ID, &t.TokenHash, &t.FamilyID, &t.ParentID, &t.UserID, &t.ClientID, &t.Scope, &t.Account,
		&at, &iat, &eat, &used, &revoked)
	if err != nil {
		return nil, notFound(err, "get refresh token")
	}
	t.AuthTime, t.IssuedAt, t.ExpiresAt, t.UsedAt, t.RevokedAt = at.t, iat.t, eat.t, used.t, revoked.t
	return &t, nil
}

// MarkRefreshTokenUsed sets used_at only if it is still NULL, in a single
// conditional UPDATE, so of two racing refreshes exactly one sees true.
func (s *Store) MarkRefreshTokenUsed(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL`, s.t(at), id)
	if err != nil {
		return false, mapError(err, "mark refresh token used")
	}
	n, err := rowsAffected(res, "mark refresh token used")
	if err != nil {
		return false, err
	}
	if n == 1 {
		return true, nil
	}
	// Tell "already used" (false, nil) apart from "no such token".
	var one int
	if err := s.queryRow(ctx, `SELECT 1 FROM refresh_tokens WHERE id = ?`, id).Scan(&one); err != nil {
		return false, notFound(err, "mark refresh token used")
	}
	return false, nil
}

// RevokeRefreshFamily revokes every not yet revoked token of the family.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, at time.Time) (int, error) {
	res, err := s.exec(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`,
		s.t(at), familyID)
	if err != nil {
		return 0, mapError(err, "revoke refresh family")
	}
	return rowsAffected(res, "revoke refresh family")
}

// RevokeRefreshTokensOfUser revokes every not yet revoked token of the user
// (of one client when clientID is not empty).
func (s *Store) RevokeRefreshTokensOfUser(ctx context.Context, userID, clientID string, at time.Time) (int, error) {
	res, err := s.exec(ctx, `UPDATE refresh_tokens SET revoked_at = ?
		WHERE user_id = ? AND (? = '' OR client_id = ?) AND revoked_at IS NULL`,
		s.t(at), userID, clientID, clientID)
	if err != nil {
		return 0, mapError(err, "revoke refresh tokens of user")
	}
	return rowsAffected(res, "revoke refresh tokens of user")
}

// DeleteExpiredRefreshTokens deletes tokens that expired before before.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < ?`, s.t(before))
	if err != nil {
		return 0, mapError(err, "delete expired refresh tokens")
	}
	return rowsAffected(res, "delete expired refresh tokens")
}
