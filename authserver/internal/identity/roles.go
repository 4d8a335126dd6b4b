package identity

import (
	"context"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

// grantView is a grant as the audit log records it.
type grantView struct {
	ID       string `json:"id"`
	UserID   string `json:"user_id,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	roles.Grant
}

func viewGrant(g *storage.Grant) grantView {
	return grantView{ID: g.ID, UserID: g.UserID, ClientID: g.ClientID, Grant: g.Grant}
}

// NewRole is the input of CreateRole.
type NewRole struct {
	Name        string // slug
	Scope       string // global, account or application
	Description string
}

// CreateRole adds a custom role with a declared scope kind. A taken name
// (including a built-in one) is ErrConflict.
func (s *Service) CreateRole(ctx context.Context, actor Actor, in NewRole) (*storage.Role, error) {
	f := fields{}
	checkSlug(f, "name", in.Name)
	scope, err := roles.ParseScope(in.Scope)
	if err != nil {
		f.add("scope", "want global, account or application")
	}
	checkDisplayName(f, "description", in.Description)
	if err := f.err(); err != nil {
		return nil, err
	}
	r := &storage.Role{Name: in.Name, Scope: scope, Description: in.Description}
	err = s.Store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "role.create", r.Name, nil, map[string]string{
			"name": r.Name, "scope": r.Scope.String(), "description": r.Description})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}
