package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

const roleCols = `name, scope, description, builtin, created_at`

func scanRole(r scanner) (storage.Role, error) {
	var (
		ro    storage.Role
		scope string
		cat   dbTime
	)
	if err := r.Scan(&ro.Name, &scope, &ro.Description, &ro.Builtin, &cat); err != nil {
		return ro, err
	}
	ro.CreatedAt = cat.t
	sc, err := roles.ParseScope(scope)
	if err != nil {
		return ro, fmt.Errorf("role %q: %w", ro.Name, err)
	}
	ro.Scope = sc
	return ro, nil
}

// CreateRole adds a custom role. Builtin is always false for roles created
// here; the built-ins come from the migration.
func (s *Store) CreateRole(ctx context.Context, r *storage.Role) error {
	what := fmt.Sprintf("create role %q", r.Name)
	if r.Name == "" {
		return fmt.Errorf("%s: name is required: %w", what, storage.ErrInvalid)
	}
	if r.Scope == roles.ScopeInvalid || r.Scope > roles.ScopeApplication {
		return fmt.Errorf("%s: invalid scope kind: %w", what, storage.ErrInvalid)
	}
	r.Builtin = false
	r.CreatedAt = s.now()
	_, err := s.exec(ctx, `INSERT INTO roles (`+roleCols+`) VALUES (?, ?, ?, ?, ?)`,
		r.Name, r.Scope.String(), r.Description, false, s.t(r.CreatedAt))
	return mapError(err, what)
}

// GetRole returns the role by name.
func (s *Store) GetRole(ctx context.Context, name string) (*storage.Role, error) {
	r, err := scanRole(s.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE name = ?`, name))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("get role %q", name))
	}
	return &r, nil
}

// ListRoles lists every role by name.
func (s *Store) ListRoles(ctx context.Context) ([]storage.Role, error) {
	rows, err := s.query(ctx, `SELECT `+roleCols+` FROM roles ORDER BY name`)
	if err != nil {
		return nil, mapError(err, "list roles")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, mapError(err, "list roles")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err, "list roles")
	}
	return out, nil
}

// DeleteRole deletes a custom role and (by cascade) its grants. Built-in
// roles are refused with ErrInvalid.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	what := fmt.Sprintf("delete role %q", name)
	return s.inTx(ctx, func(tx *Store) error {
		r, err := tx.GetRole(ctx, name)
		if err != nil {
			return err
		}
		if r.Builtin {
			return fmt.Errorf("%s: built-in roles cannot be deleted: %w", what, storage.ErrInvalid)
		}
		res, err := tx.exec(ctx, `DELETE FROM roles WHERE name = ?`, name)
		if err != nil {
			return mapError(err, what)
		}
		return affected(res, what)
	})
}
