package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

const accountCols = `id, name, display_name, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(r scanner) (storage.Account, error) {
	var (
		a        storage.Account
		cat, uat dbTime
	)
	err := r.Scan(&a.ID, &a.Name, &a.DisplayName, &cat, &uat)
	a.CreatedAt, a.UpdatedAt = cat.t, uat.t
	return a, err
}

// CreateAccount inserts a; it fills ID (when empty) and the timestamps.
func (s *Store) CreateAccount(ctx context.Context, a *storage.Account) error {
	if a.Name == "" {
		return fmt.Errorf("create account: name is required: %w", storage.ErrInvalid)
	}
	if a.ID == "" {
		a.ID = NewID("acc_")
	}
	now := s.now()
	a.CreatedAt, a.UpdatedAt = now, now
	_, err := s.exec(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.DisplayName, s.t(now), s.t(now))
	return mapError(err, fmt.Sprintf("create account %q", a.Name))
}

// GetAccount returns the account by name.
func (s *Store) GetAccount(ctx context.Context, name string) (*storage.Account, error) {
	a, err := scanAccount(s.queryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE name = ?`, name))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("get account %q", name))
	}
	return &a, nil
}

// ListAccounts lists accounts by name.
func (s *Store) ListAccounts(ctx context.Context, p storage.Page) ([]storage.Account, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := limitOf(p)
	rows, err := s.query(ctx, `SELECT `+accountCols+` FROM accounts WHERE name > ? ORDER BY name LIMIT ?`, after, limit+1)
	if err != nil {
		return nil, "", mapError(err, "list accounts")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, "", mapError(err, "list accounts")
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapError(err, "list accounts")
	}
	items, next := trim(out, limit, func(a storage.Account) string { return a.Name })
	return items, next, nil
}

// UpdateAccount reads the account, applies update and writes it back in one
// transaction. ID and CreatedAt cannot change.
func (s *Store) UpdateAccount(ctx context.Context, name string, update func(*storage.Account) error) (*storage.Account, error) {
	var out *storage.Account
	err := s.inTx(ctx, func(tx *Store) error {
		if err := tx.lockRow(ctx, "accounts", "name", name); err != nil {
			return fmt.Errorf("update account %q: %w", name, err)
		}
		a, err := tx.GetAccount(ctx, name)
		if err != nil {
			return err
		}
		id, created := a.ID, a.CreatedAt
		if err := update(a); err != nil {
			return err
		}
		a.ID, a.CreatedAt, a.UpdatedAt = id, created, tx.now()
		if a.Name == "" {
			return fmt.Errorf("update account %q: name is required: %w", name, storage.ErrInvalid)
		}
		res, err := tx.exec(ctx, `UPDATE accounts SET name = ?, display_name = ?, updated_at = ? WHERE id = ?`,
			a.Name, a.DisplayName, tx.t(a.UpdatedAt), a.ID)
		if err != nil {
			return mapError(err, fmt.Sprintf("update account %q", name))
		}
		out = a
		return affected(res, fmt.Sprintf("update account %q", name))
	})
	return out, err
}

// DeleteAccount deletes the account; the schema cascades to its
// applications, clients and every grant scoped to it.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	res, err := s.exec(ctx, `DELETE FROM accounts WHERE name = ?`, name)
	if err != nil {
		return mapError(err, fmt.Sprintf("delete account %q", name))
	}
	return affected(res, fmt.Sprintf("delete account %q", name))
}

// accountID resolves an account name to its id.
func (s *Store) accountID(ctx context.Context, name string) (string, error) {
	var id string
	err := s.queryRow(ctx, `SELECT id FROM accounts WHERE name = ?`, name).Scan(&id)
	if err != nil {
		return "", notFound(err, fmt.Sprintf("account %q", name))
	}
	return id, nil
}

// applicationID resolves (account name, application name) to both ids.
func (s *Store) applicationID(ctx context.Context, account, name string) (accID, appID string, err error) {
	err = s.queryRow(ctx, `SELECT a.id, p.id FROM applications p JOIN accounts a ON a.id = p.account_id
		WHERE a.name = ? AND p.name = ?`, account, name).Scan(&accID, &appID)
	if err != nil {
		return "", "", notFound(err, fmt.Sprintf("application %q of account %q", name, account))
	}
	return accID, appID, nil
}
