package refresh

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// SQL keeps refresh tokens in the auth server's database.
type SQL struct {
	store storage.Store
}

var _ Store = (*SQL)(nil)

// NewSQL returns a Store over the SQL store.
func NewSQL(s storage.Store) *SQL { return &SQL{store: s} }

// Create implements Store.
func (s *SQL) Create(ctx context.Context, t *storage.RefreshToken) error {
	if err := s.store.CreateRefreshToken(ctx, t); err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

// GetByHash implements Store.
func (s *SQL) GetByHash(ctx context.Context, hash string) (*storage.RefreshToken, error) {
	t, err := s.store.GetRefreshTokenByHash(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("get refresh token: %w", err)
	}
	return t, nil
}

// Rotate implements Store in one transaction: MarkRefreshTokenUsed only
// succeeds for the first caller, so of two racing refreshes exactly one
// wins outright and the other is judged by the grace window.
func (s *SQL) Rotate(ctx context.Context, parent, child *storage.RefreshToken, now time.Time, grace time.Duration) error {
	err := s.store.InTx(ctx, func(tx storage.Store) error {
		won, err := tx.MarkRefreshTokenUsed(ctx, parent.ID, now)
		if err != nil {
			return fmt.Errorf("mark refresh token used: %w", err)
		}
		if !won {
			cur, err := tx.GetRefreshTokenByHash(ctx, parent.TokenHash)
			if err != nil {
				return fmt.Errorf("reload refresh token: %w", err)
			}
			if !withinGrace(cur.UsedAt, now, grace) {
				return ErrReused
			}
		}
		if err := tx.CreateRefreshToken(ctx, child); err != nil {
			return fmt.Errorf("create refresh token: %w", err)
		}
		return nil
	})
	return err
}

// RevokeFamily implements Store.
func (s *SQL) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	if _, err := s.store.RevokeRefreshFamily(ctx, familyID, at); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// RevokeUser implements Store.
func (s *SQL) RevokeUser(ctx context.Context, userID, clientID string, at time.Time) error {
	if _, err := s.store.RevokeRefreshTokensOfUser(ctx, userID, clientID, at); err != nil {
		return fmt.Errorf("revoke refresh tokens of user: %w", err)
	}
	return nil
}

// Sweep deletes refresh tokens that expired more than a day ago, every
// interval until ctx ends. Expired tokens are refused anyway; the day of
// slack keeps a just-expired token recognisable in the logs. Redis needs no
// sweeping: its keys expire by themselves.
func (s *SQL) Sweep(ctx context.Context, interval time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.store.DeleteExpiredRefreshTokens(ctx, now().Add(-24*time.Hour))
			if err != nil {
				if ctx.Err() == nil {
					log.ErrorContext(ctx, "sweep expired refresh tokens", "err", err)
				}
				continue
			}
			if n > 0 {
				log.InfoContext(ctx, "swept expired refresh tokens", "count", n)
			}
		}
	}
}
