package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

const applicationSelect = `SELECT p.id, a.name, p.name, p.display_name, p.created_at, p.updated_at
	FROM applications p JOIN accounts a ON a.id = p.account_id`

func scanApplication(r scanner) (storage.Application, error) {
	var (
		p        storage.Application
		cat, uat dbTime
	)
	err := r.Scan(&p.ID, &p.Account, &p.Name, &p.DisplayName, &cat, &uat)
	p.CreatedAt, p.UpdatedAt = cat.t, uat.t
	return p, err
}

// CreateApplication inserts p under account p.Account (ErrNotFound when the
// account does not exist).
func (s *Store) CreateApplication(ctx context.Context, p *storage.Application) error {
	what := fmt.Sprintf("create application %q in account %q", p.Name, p.Account)
	if p.Name == "" || p.Account == "" {
		return fmt.Errorf("%s: account and name are required: %w", what, storage.ErrInvalid)
	}
	return s.inTx(ctx, func(tx *Store) error {
		accID, err := tx.accountID(ctx, p.Account)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if p.ID == "" {
			p.ID = NewID("app_")
		}
		now := tx.now()
		p.CreatedAt, p.UpdatedAt = now, now
		_, err = tx.exec(ctx, `INSERT INTO applications (id, account_id, name, display_name, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.ID, accID, p.Name, p.DisplayName, tx.t(now), tx.t(now))
		return mapError(err, what)
	})
}

// GetApplication returns the application by account and name.
func (s *Store) GetApplication(ctx context.Context, account, name string) (*storage.Application, error) {
	p, err := scanApplication(s.queryRow(ctx, applicationSelect+` WHERE a.name = ? AND p.name = ?`, account, name))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("get application %q of account %q", name, account))
	}
	return &p, nil
}

// ListApplications lists the applications of account (all accounts when
// empty) by account name, then name.
func (s *Store) ListApplications(ctx context.Context, account string, p storage.Page) ([]storage.Application, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := limitOf(p)
	// The sort key is "account\x00name": names are slugs and never contain NUL.
	rows, err := s.query(ctx, applicationSelect+`
		WHERE (? = '' OR a.name = ?) AND (a.name > ? OR (a.name = ? AND p.name > ?))
		ORDER BY a.name, p.name LIMIT ?`,
		account, account, cursorPart(after, 0), cursorPart(after, 0), cursorPart(after, 1), limit+1)
	if err != nil {
		return nil, "", mapError(err, "list applications")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, "", mapError(err, "list applications")
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapError(err, "list applications")
	}
	items, next := trim(out, limit, func(a storage.Application) string { return a.Account + "\x00" + a.Name })
	return items, next, nil
}

// UpdateApplication applies update in one transaction; the owning account
// cannot change.
func (s *Store) UpdateApplication(ctx context.Context, account, name string, update func(*storage.Application) error) (*storage.Application, error) {
	what := fmt.Sprintf("update application %q of account %q", name, account)
	var out *storage.Application
	err := s.inTx(ctx, func(tx *Store) error {
		p, err := tx.GetApplication(ctx, account, name)
		if err != nil {
			return err
		}
		if tx.d.forUpdate != "" {
			// Lock by id, then read again what the lock now protects.
			if err := tx.lockRow(ctx, "applications", "id", p.ID); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if p, err = tx.GetApplication(ctx, account, name); err != nil {
				return err
			}
		}
		id, created := p.ID, p.CreatedAt
		if err := update(p); err != nil {
			return err
		}
		p.ID, p.Account, p.CreatedAt, p.UpdatedAt = id, account, created, tx.now()
		if p.Name == "" {
			return fmt.Errorf("%s: name is required: %w", what, storage.ErrInvalid)
		}
		res, err := tx.exec(ctx, `UPDATE applications SET name = ?, display_name = ?, updated_at = ? WHERE id = ?`,
			p.Name, p.DisplayName, tx.t(p.UpdatedAt), p.ID)
		if err != nil {
			return mapError(err, what)
		}
		out = p
		return affected(res, what)
	})
	return out, err
}

// DeleteApplication deletes the application; the schema cascades to its
// grants and clients.
func (s *Store) DeleteApplication(ctx context.Context, account, name string) error {
	what := fmt.Sprintf("delete application %q of account %q", name, account)
	res, err := s.exec(ctx, `DELETE FROM applications WHERE name = ?
		AND account_id = (SELECT id FROM accounts WHERE name = ?)`, name, account)
	if err != nil {
		return mapError(err, what)
	}
	return affected(res, what)
}
