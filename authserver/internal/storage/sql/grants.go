package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

// Grants keep ids in their foreign keys and resolve names by join, so a
// renamed account or application needs no rewrite of its grants.
const grantSelect = `SELECT g.id, COALESCE(g.user_id, ''), COALESCE(g.client_id, ''), g.role,
	COALESCE(a.name, ''), COALESCE(p.name, ''), g.created_at
	FROM grants g
	LEFT JOIN accounts a ON a.id = g.account_id
	LEFT JOIN applications p ON p.id = g.application_id`

func scanGrant(r scanner) (storage.Grant, error) {
	var (
		g   storage.Grant
		cat dbTime
	)
	err := r.Scan(&g.ID, &g.UserID, &g.ClientID, &g.Role, &g.Account, &g.Application, &cat)
	g.CreatedAt = cat.t
	return g, err
}

// CreateGrant checks the scope against the role's kind (ErrInvalid), that
// the role, subject, account and application exist (ErrNotFound), and
// refuses duplicates (ErrAlreadyExists).
func (s *Store) CreateGrant(ctx context.Context, g *storage.Grant) error {
	what := fmt.Sprintf("create grant %s", g.String())
	if (g.UserID == "") == (g.ClientID == "") {
		return fmt.Errorf("%s: exactly one of user and client is required: %w", what, storage.ErrInvalid)
	}
	return s.inTx(ctx, func(tx *Store) error {
		role, err := tx.GetRole(ctx, g.Role)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := g.Validate(role.Scope); err != nil {
			return fmt.Errorf("%s: %w: %w", what, storage.ErrInvalid, err)
		}
		var accID, appID string
		switch role.Scope {
		case roles.ScopeAccount:
			accID, err = tx.accountID(ctx, g.Account)
		case roles.ScopeApplication:
			accID, appID, err = tx.applicationID(ctx, g.Account, g.Application)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if g.ID == "" {
			g.ID = NewID("grt_")
		}
		g.CreatedAt = tx.now()
		_, err = tx.exec(ctx, `INSERT INTO grants (id, user_id, client_id, role, account_id, application_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			g.ID, nullString(g.UserID), nullString(g.ClientID), g.Role, nullString(accID), nullString(appID), tx.t(g.CreatedAt))
		return mapError(err, what)
	})
}

// GetGrant returns the grant by id.
func (s *Store) GetGrant(ctx context.Context, id string) (*storage.Grant, error) {
	g, err := scanGrant(s.queryRow(ctx, grantSelect+` WHERE g.id = ?`, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("get grant %q", id))
	}
	return &g, nil
}

// ListGrants lists grants by id.
func (s *Store) ListGrants(ctx context.Context, f storage.GrantFilter, p storage.Page) ([]storage.Grant, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := limitOf(p)
	q := grantSelect + ` WHERE g.id > ?`
	args := []any{after}
	for _, c := range []struct{ col, val string }{
		{"g.user_id", f.UserID}, {"g.client_id", f.ClientID}, {"g.role", f.Role},
		{"a.name", f.Account}, {"p.name", f.Application},
	} {
		if c.val != "" {
			q += ` AND ` + c.col + ` = ?`
			args = append(args, c.val)
		}
	}
	q += ` ORDER BY g.id LIMIT ?`
	args = append(args, limit+1)
	out, err := s.grants(ctx, q, args...)
	if err != nil {
		return nil, "", mapError(err, "list grants")
	}
	items, next := trim(out, limit, func(g storage.Grant) string { return g.ID })
	return items, next, nil
}

func (s *Store) grants(ctx context.Context, q string, args ...any) ([]storage.Grant, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []storage.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// DeleteGrant deletes the grant by id.
func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	what := fmt.Sprintf("delete grant %q", id)
	res, err := s.exec(ctx, `DELETE FROM grants WHERE id = ?`, id)
	if err != nil {
		return mapError(err, what)
	}
	return affected(res, what)
}

const roleGrantSelect = `SELECT g.role, COALESCE(a.name, ''), COALESCE(p.name, '')
	FROM grants g
	LEFT JOIN accounts a ON a.id = g.account_id
	LEFT JOIN applications p ON p.id = g.application_id`

// RoleGrantsOfUser returns the user's role grants ordered by role, account,
// application.
func (s *Store) RoleGrantsOfUser(ctx context.Context, userID string) ([]roles.Grant, error) {
	return s.roleGrants(ctx, `g.user_id = ?`, userID)
}

// RoleGrantsOfClient returns the client's role grants ordered by role,
// account, application.
func (s *Store) RoleGrantsOfClient(ctx context.Context, clientID string) ([]roles.Grant, error) {
	return s.roleGrants(ctx, `g.client_id = ?`, clientID)
}

func (s *Store) roleGrants(ctx context.Context, where, id string) ([]roles.Grant, error) {
	rows, err := s.query(ctx, roleGrantSelect+` WHERE `+where+` ORDER BY g.role, 2, 3`, id)
	if err != nil {
		return nil, mapError(err, "read role grants")
	}
	defer func() { _ = rows.Close() }()
	out := make([]roles.Grant, 0, 4)
	for rows.Next() {
		var g roles.Grant
		if err := rows.Scan(&g.Role, &g.Account, &g.Application); err != nil {
			return nil, mapError(err, "read role grants")
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err, "read role grants")
	}
	return out, nil
}

// CountActiveAdministrators counts active users holding administrator.
//
// Where the dialect locks rows (PostgreSQL), it locks those users' rows for
// the rest of the transaction: two transactions each removing a different
// administrator then serialise, and the second counts what the first left,
// so "the last active administrator" cannot be removed by a race. (SQLite
// has one writer at a time already.)
func (s *Store) CountActiveAdministrators(ctx context.Context) (int, error) {
	if s.d.forUpdate == "" {
		var n int
		err := s.queryRow(ctx, `SELECT COUNT(DISTINCT g.user_id) FROM grants g JOIN users u ON u.id = g.user_id
			WHERE g.role = ? AND u.active = ?`, roles.Administrator, true).Scan(&n)
		if err != nil {
			return 0, mapError(err, "count administrators")
		}
		return n, nil
	}
	rows, err := s.query(ctx, `SELECT u.id FROM users u WHERE u.active = ? AND EXISTS
		(SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = ?)`+s.d.forUpdate, true, roles.Administrator)
	if err != nil {
		return 0, mapError(err, "count administrators")
	}
	defer func() { _ = rows.Close() }()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, mapError(err, "count administrators")
	}
	return n, nil
}
