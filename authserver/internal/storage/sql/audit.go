package sqlstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// AppendAudit writes r and fills ID (and At when zero). Call it through the
// Store InTx hands out so that the record commits with the change.
func (s *Store) AppendAudit(ctx context.Context, r *storage.AuditRecord) error {
	if r.Actor == "" || r.Action == "" {
		return fmt.Errorf("append audit record: actor and action are required: %w", storage.ErrInvalid)
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	err := s.queryRow(ctx, `INSERT INTO audit_log (at, actor, action, target, before_json, after_json, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.t(r.At), r.Actor, r.Action, r.Target, r.Before, r.After, r.RequestID).Scan(&r.ID)
	return mapError(err, "append audit record")
}

// ListAudit lists audit records newest first.
func (s *Store) ListAudit(ctx context.Context, p storage.Page) ([]storage.AuditRecord, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	var before int64 = 1<<63 - 1
	if after != "" {
		before, err = strconv.ParseInt(after, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("list audit: bad page cursor: %w", storage.ErrInvalid)
		}
	}
	limit := limitOf(p)
	rows, err := s.query(ctx, `SELECT id, at, actor, action, target, before_json, after_json, request_id
		FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit+1)
	if err != nil {
		return nil, "", mapError(err, "list audit")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.AuditRecord
	for rows.Next() {
		var (
			r  storage.AuditRecord
			at dbTime
		)
		if err := rows.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.Target, &r.Before, &r.After, &r.RequestID); err != nil {
			return nil, "", mapError(err, "list audit")
		}
		r.At = at.t
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapError(err, "list audit")
	}
	items, next := trim(out, limit, func(r storage.AuditRecord) string { return strconv.FormatInt(r.ID, 10) })
	return items, next, nil
}
