package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// AppendRevocationEvent appends e and fills Seq (and CreatedAt when zero).
// Seq is strictly increasing in commit order on both dialects.
func (s *Store) AppendRevocationEvent(ctx context.Context, e *storage.RevocationEvent) error {
	what := "append revocation event"
	if e.Kind != "jti" && e.Kind != "sub" {
		return fmt.Errorf("%s: kind must be jti or sub: %w", what, storage.ErrInvalid)
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	return s.inTx(ctx, func(tx *Store) error {
		if tx.d.lockRevocations != "" {
			if _, err := tx.exec(ctx, tx.d.lockRevocations); err != nil {
				return mapError(err, what)
			}
		}
		err := tx.queryRow(ctx, `INSERT INTO revocation_events (kind, jti, subject, client_id, not_before, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			e.Kind, e.JTI, e.Subject, e.ClientID, tx.t(e.NotBefore), tx.t(e.ExpiresAt), tx.t(e.CreatedAt)).Scan(&e.Seq)
		return mapError(err, what)
	})
}

// ListRevocationEvents returns up to limit events with seq > afterSeq that
// have not expired at now, by seq.
func (s *Store) ListRevocationEvents(ctx context.Context, afterSeq int64, now time.Time, limit int) ([]storage.RevocationEvent, error) {
	if limit <= 0 || limit > maxLimit {
		limit = maxLimit
	}
	rows, err := s.query(ctx, `SELECT seq, kind, jti, subject, client_id, not_before, expires_at, created_at
		FROM revocation_events WHERE seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`, afterSeq, s.t(now), limit)
	if err != nil {
		return nil, mapError(err, "list revocation events")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.RevocationEvent
	for rows.Next() {
		var (
			e            storage.RevocationEvent
			nb, exp, cat dbTime
		)
		if err := rows.Scan(&e.Seq, &e.Kind, &e.JTI, &e.Subject, &e.ClientID, &nb, &exp, &cat); err != nil {
			return nil, mapError(err, "list revocation events")
		}
		e.NotBefore, e.ExpiresAt, e.CreatedAt = nb.t, exp.t, cat.t
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err, "list revocation events")
	}
	return out, nil
}

// DeleteExpiredRevocationEvents deletes events that expired before before.
func (s *Store) DeleteExpiredRevocationEvents(ctx context.Context, before time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM revocation_events WHERE expires_at < ?`, s.t(before))
	if err != nil {
		return 0, mapError(err, "delete expired revocation events")
	}
	return rowsAffected(res, "delete expired revocation events")
}
