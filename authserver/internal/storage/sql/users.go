package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

const userCols = `u.id, u.username, u.email, u.password_hash, u.active, u.created_at, u.updated_at`

func scanUser(r scanner) (storage.User, error) {
	var (
		u        storage.User
		cat, uat dbTime
	)
	err := r.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Active, &cat, &uat)
	u.CreatedAt, u.UpdatedAt = cat.t, uat.t
	return u, err
}

// usernameKey is the case-insensitive uniqueness key. strings.ToLower is
// Unicode-aware, unlike SQL lower() in SQLite, so the rule is the same on
// both dialects.
func usernameKey(username string) string { return strings.ToLower(username) }

// CreateUser inserts u, filling ID (when empty) and timestamps. A username
// that differs from an existing one only in case is ErrAlreadyExists.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	what := fmt.Sprintf("create user %q", u.Username)
	if u.Username == "" {
		return fmt.Errorf("%s: username is required: %w", what, storage.ErrInvalid)
	}
	if u.ID == "" {
		u.ID = NewID("u_")
	}
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	_, err := s.exec(ctx, `INSERT INTO users (id, username, username_key, email, password_hash, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, usernameKey(u.Username), u.Email, u.PasswordHash, u.Active, s.t(now), s.t(now))
	return mapError(err, what)
}

// GetUser returns the user by id.
func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("get user %q", id))
	}
	return &u, nil
}

// GetUserByUsername returns the user by username, case-insensitively.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (*storage.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users u WHERE u.username_key = ?`, usernameKey(username)))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("get user %q", username))
	}
	return &u, nil
}

// ListUsers lists users by username (case-insensitive order). Username
// filters by prefix of the case-folded username; Account/Application select
// users holding a grant in that scope.
func (s *Store) ListUsers(ctx context.Context, f storage.UserFilter, p storage.Page) ([]storage.User, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := limitOf(p)
	q := `SELECT ` + userCols + `, u.username_key FROM users u WHERE u.username_key > ?`
	args := []any{after}
	if f.Username != "" {
		// Prefix match without LIKE, whose escaping and case rules differ
		// between the dialects.
		key := usernameKey(f.Username)
		q += ` AND substr(u.username_key, 1, ?) = ?`
		args = append(args, len(key), key)
	}
	if f.Account != "" || f.Application != "" {
		q += ` AND EXISTS (SELECT 1 FROM grants g
			LEFT JOIN accounts a ON a.id = g.account_id
			LEFT JOIN applications p ON p.id = g.application_id
			WHERE g.user_id = u.id AND (? = '' OR a.name = ?) AND (? = '' OR p.name = ?))`
		args = append(args, f.Account, f.Account, f.Application, f.Application)
	}
	q += ` ORDER BY u.username_key LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, "", mapError(err, "list users")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.User
	for rows.Next() {
		var (
			u        storage.User
			cat, uat dbTime
			key      string
		)
		if err := rows.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.Active, &cat, &uat, &key); err != nil {
			return nil, "", mapError(err, "list users")
		}
		u.CreatedAt, u.UpdatedAt = cat.t, uat.t
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapError(err, "list users")
	}
	items, next := trim(out, limit, func(u storage.User) string { return usernameKey(u.Username) })
	return items, next, nil
}

// UpdateUser applies update in one transaction. ID and CreatedAt cannot
// change; a rename keeps the case-insensitive uniqueness rule.
func (s *Store) UpdateUser(ctx context.Context, id string, update func(*storage.User) error) (*storage.User, error) {
	what := fmt.Sprintf("update user %q", id)
	var out *storage.User
	err := s.inTx(ctx, func(tx *Store) error {
		if err := tx.lockRow(ctx, "users", "id", id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		created := u.CreatedAt
		if err := update(u); err != nil {
			return err
		}
		u.ID, u.CreatedAt, u.UpdatedAt = id, created, tx.now()
		if u.Username == "" {
			return fmt.Errorf("%s: username is required: %w", what, storage.ErrInvalid)
		}
		res, err := tx.exec(ctx, `UPDATE users SET username = ?, username_key = ?, email = ?, password_hash = ?,
			active = ?, updated_at = ? WHERE id = ?`,
			u.Username, usernameKey(u.Username), u.Email, u.PasswordHash, u.Active, tx.t(u.UpdatedAt), id)
		if err != nil {
			return mapError(err, what)
		}
		out = u
		return affected(res, what)
	})
	return out, err
}

// DeleteUser deletes the user; the schema cascades to grants and refresh
// tokens.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	what := fmt.Sprintf("delete user %q", id)
	res, err := s.exec(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return mapError(err, what)
	}
	return affected(res, what)
}
