package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

// ErrLastAdministrator refuses a change that would leave no active
// administrator: nobody could then manage the server without shell access.
// It is a conflict with the current state, so errors.Is(err, ErrConflict)
// holds too.
var ErrLastAdministrator = fmt.Errorf("the last active administrator cannot be revoked, disabled or deleted: %w", ErrConflict)

// activeAdministrator reports whether u is active and holds the global
// administrator role.
func activeAdministrator(ctx context.Context, tx storage.Store, u *storage.User) (bool, error) {
	if !u.Active {
		return false, nil
	}
	gs, err := tx.RoleGrantsOfUser(ctx, u.ID)
	if err != nil {
		return false, fmt.Errorf("load grants of %s: %w", u.ID, err)
	}
	return slices.Contains(gs, roles.Grant{Role: roles.Administrator}), nil
}

// keepAnAdministrator runs inside the transaction after a change that may
// have removed an active administrator (wasAdmin): when none is left, the
// change is refused and rolled back.
func keepAnAdministrator(ctx context.Context, tx storage.Store, wasAdmin bool) error {
	if !wasAdmin {
		return nil
	}
	n, err := tx.CountActiveAdministrators(ctx)
	if err != nil {
		return fmt.Errorf("count administrators: %w", err)
	}
	if n == 0 {
		return ErrLastAdministrator
	}
	return nil
}

// accountView and applicationView are how the audit log records accounts
// and applications: snake_case like the other audit views.
type accountView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
}

func viewAccount(a *storage.Account) accountView {
	return accountView{ID: a.ID, Name: a.Name, DisplayName: a.DisplayName}
}

type applicationView struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
}

func viewApplication(p *storage.Application) applicationView {
	return applicationView{ID: p.ID, Account: p.Account, Name: p.Name, DisplayName: p.DisplayName}
}

// AccountUpdate is a partial update of an account; nil fields are kept.
type AccountUpdate struct {
	DisplayName *string
}

// UpdateAccount changes an account's display name.
func (s *Service) UpdateAccount(ctx context.Context, actor Actor, name string, in AccountUpdate) (*storage.Account, error) {
	f := fields{}
	if in.DisplayName != nil {
		checkDisplayName(f, "display_name", *in.DisplayName)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	var out *storage.Account
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		before, err := tx.GetAccount(ctx, name)
		if err != nil {
			return err
		}
		out, err = tx.UpdateAccount(ctx, name, func(a *storage.Account) error {
			if in.DisplayName != nil {
				a.DisplayName = *in.DisplayName
			}
			return nil
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "account.update", out.ID, viewAccount(before), viewAccount(out))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAccount deletes an account with its applications and every grant
// in it. Users who lose a grant have their refresh tokens revoked and are
// reported through Events, as for any grant change.
func (s *Service) DeleteAccount(ctx context.Context, actor Actor, name string) error {
	var lost []storage.Grant
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		a, err := tx.GetAccount(ctx, name)
		if err != nil {
			return err
		}
		if lost, err = allGrants(ctx, tx, storage.GrantFilter{Account: name}); err != nil {
			return err
		}
		if err := tx.DeleteAccount(ctx, name); err != nil {
			return err
		}
		for i := range lost {
			if err := s.revokeUserTokens(ctx, tx, lost[i].UserID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, actor, "account.delete", a.ID, viewAccount(a), nil)
	})
	if err != nil {
		return err
	}
	for i := range lost {
		s.grantsChanged(ctx, &lost[i])
	}
	return nil
}

// ApplicationUpdate is a partial update of an application.
type ApplicationUpdate struct {
	DisplayName *string
}

// UpdateApplication changes an application's display name.
func (s *Service) UpdateApplication(ctx context.Context, actor Actor, account, name string, in ApplicationUpdate) (*storage.Application, error) {
	f := fields{}
	if in.DisplayName != nil {
		checkDisplayName(f, "display_name", *in.DisplayName)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	var out *storage.Application
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		before, err := tx.GetApplication(ctx, account, name)
		if err != nil {
			return err
		}
		out, err = tx.UpdateApplication(ctx, account, name, func(p *storage.Application) error {
			if in.DisplayName != nil {
				p.DisplayName = *in.DisplayName
			}
			return nil
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "application.update", out.ID, viewApplication(before), viewApplication(out))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteApplication deletes an application and the grants on it.
func (s *Service) DeleteApplication(ctx context.Context, actor Actor, account, name string) error {
	var lost []storage.Grant
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		p, err := tx.GetApplication(ctx, account, name)
		if err != nil {
			return err
		}
		if lost, err = allGrants(ctx, tx, storage.GrantFilter{Account: account, Application: name}); err != nil {
			return err
		}
		if err := tx.DeleteApplication(ctx, account, name); err != nil {
			return err
		}
		for i := range lost {
			if err := s.revokeUserTokens(ctx, tx, lost[i].UserID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, actor, "application.delete", p.ID, viewApplication(p), nil)
	})
	if err != nil {
		return err
	}
	for i := range lost {
		s.grantsChanged(ctx, &lost[i])
	}
	return nil
}

// allGrants pages through every grant matching f.
func allGrants(ctx context.Context, tx storage.Store, f storage.GrantFilter) ([]storage.Grant, error) {
	var out []storage.Grant
	cursor := ""
	for {
		gs, next, err := tx.ListGrants(ctx, f, storage.Page{Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		out = append(out, gs...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// UserUpdate is a partial update of a user; nil fields are kept.
type UserUpdate struct {
	Email    *string
	Active   *bool
	Password *string
}

// UpdateUser changes a user's e-mail, active flag and/or password in one
// transaction. Disabling or a new password revokes the user's refresh
// tokens; disabling the last active administrator is refused.
func (s *Service) UpdateUser(ctx context.Context, actor Actor, id string, in UserUpdate) (*storage.User, error) {
	f := fields{}
	if in.Email != nil {
		checkEmail(f, *in.Email)
	}
	if in.Password != nil {
		checkPassword(f, *in.Password)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	hash := ""
	if in.Password != nil {
		var err error
		if hash, err = s.Hasher.Hash(ctx, *in.Password); err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
	}
	var out *storage.User
	var disabled bool
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		wasAdmin, err := activeAdministrator(ctx, tx, u)
		if err != nil {
			return err
		}
		before := viewUser(u)
		disabled = in.Active != nil && !*in.Active && u.Active
		out, err = tx.UpdateUser(ctx, id, func(u *storage.User) error {
			if in.Email != nil {
				u.Email = *in.Email
			}
			if in.Active != nil {
				u.Active = *in.Active
			}
			if hash != "" {
				u.PasswordHash = hash
			}
			return nil
		})
		if err != nil {
			return err
		}
		if disabled || hash != "" {
			if err := s.revokeUserTokens(ctx, tx, id); err != nil {
				return err
			}
		}
		if disabled {
			if err := keepAnAdministrator(ctx, tx, wasAdmin); err != nil {
				return err
			}
		}
		return audit(ctx, tx, actor, "user.update", id, before, viewUser(out))
	})
	if err != nil {
		return nil, err
	}
	if s.Events != nil {
		if disabled {
			s.Events.UserDisabled(ctx, id)
		}
		if hash != "" {
			s.Events.PasswordChanged(ctx, id)
		}
	}
	return out, nil
}

// ChangePassword replaces the password of user id after checking the old
// one (the caller's own password change). A wrong old password is a
// ValidationError on old_password, after the same hashing work as a right
// one.
func (s *Service) ChangePassword(ctx context.Context, actor Actor, id, oldPassword, newPassword string) error {
	f := fields{}
	if oldPassword == "" {
		f.add("old_password", "is required")
	}
	checkPassword(f, newPassword)
	if err := f.err(); err != nil {
		return err
	}
	u, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return err
	}
	ok, _, err := s.Hasher.Verify(ctx, u.PasswordHash, oldPassword)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return invalid("old_password", "is incorrect")
	}
	_, err = s.UpdateUser(ctx, actor, id, UserUpdate{Password: &newPassword})
	return err
}

// RevokeGrant removes the grant with the given id and returns it.
// Revoking the last active administrator's administrator grant is refused.
func (s *Service) RevokeGrant(ctx context.Context, actor Actor, id string) (*storage.Grant, error) {
	var g *storage.Grant
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		var err error
		if g, err = tx.GetGrant(ctx, id); err != nil {
			return err
		}
		wasAdmin, err := grantOfActiveAdministrator(ctx, tx, g)
		if err != nil {
			return err
		}
		if err := tx.DeleteGrant(ctx, g.ID); err != nil {
			return err
		}
		if err := keepAnAdministrator(ctx, tx, wasAdmin); err != nil {
			return err
		}
		if err := s.revokeUserTokens(ctx, tx, g.UserID); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "grant.delete", g.ID, g, nil)
	})
	if err != nil {
		return nil, err
	}
	s.grantsChanged(ctx, g)
	return g, nil
}

// grantOfActiveAdministrator reports whether g is the global administrator
// grant of an active user.
func grantOfActiveAdministrator(ctx context.Context, tx storage.Store, g *storage.Grant) (bool, error) {
	if g.UserID == "" || g.Grant != (roles.Grant{Role: roles.Administrator}) {
		return false, nil
	}
	u, err := tx.GetUser(ctx, g.UserID)
	if err != nil {
		return false, fmt.Errorf("load grant holder: %w", err)
	}
	return u.Active, nil
}

// ClientUpdate is a partial update of a client; nil fields are kept. The
// owner and the public flag are fixed at creation.
type ClientUpdate struct {
	Name         *string
	GrantTypes   *[]string
	RedirectURIs *[]string
	Scopes       *[]string
}

// UpdateClient changes a client's settings, validated as at creation.
func (s *Service) UpdateClient(ctx context.Context, actor Actor, id string, in ClientUpdate) (*storage.Client, error) {
	var out *storage.Client
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		c, err := tx.GetClient(ctx, id)
		if err != nil {
			return err
		}
		name, gts, rds, scs := c.Name, c.GrantTypes, c.RedirectURIs, c.Scopes
		if in.Name != nil {
			name = *in.Name
		}
		if in.GrantTypes != nil {
			gts = *in.GrantTypes
		}
		if in.RedirectURIs != nil {
			rds = *in.RedirectURIs
		}
		if in.Scopes != nil {
			scs = *in.Scopes
		}
		f := fields{}
		if name == "" {
			f.add("name", "is required")
		}
		gts, rds, scs = checkClientSettings(f, name, gts, rds, scs, c.Public)
		if err := f.err(); err != nil {
			return err
		}
		before := viewClient(c)
		out, err = tx.UpdateClient(ctx, id, func(c *storage.Client) error {
			c.Name, c.GrantTypes, c.RedirectURIs, c.Scopes = name, gts, rds, scs
			return nil
		})
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "client.update", id, before, viewClient(out))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteClient deletes a client with its grants and refresh tokens. Access
// tokens it already holds run out within tokens.access_ttl (or sooner
// through the Events hook, told that the client's grants changed).
func (s *Service) DeleteClient(ctx context.Context, actor Actor, id string) error {
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		c, err := tx.GetClient(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteClient(ctx, id); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "client.delete", id, viewClient(c), nil)
	})
	if err != nil {
		return err
	}
	if s.Events != nil {
		s.Events.GrantsChanged(ctx, "", id)
	}
	return nil
}

// IsLastAdministrator reports whether err is ErrLastAdministrator.
func IsLastAdministrator(err error) bool { return errors.Is(err, ErrLastAdministrator) }

// ErrBuiltinRole refuses deleting one of the five built-in roles.
var ErrBuiltinRole = fmt.Errorf("built-in roles cannot be deleted: %w", ErrInvalid)

// DeleteRole deletes a custom role and every grant of it; the holders'
// refresh tokens are revoked and Events hears about each grant.
func (s *Service) DeleteRole(ctx context.Context, actor Actor, name string) error {
	var lost []storage.Grant
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		r, err := tx.GetRole(ctx, name)
		if err != nil {
			return err
		}
		if r.Builtin {
			return ErrBuiltinRole
		}
		if lost, err = allGrants(ctx, tx, storage.GrantFilter{Role: name}); err != nil {
			return err
		}
		for i := range lost {
			if err := tx.DeleteGrant(ctx, lost[i].ID); err != nil {
				return err
			}
			if err := s.revokeUserTokens(ctx, tx, lost[i].UserID); err != nil {
				return err
			}
		}
		if err := tx.DeleteRole(ctx, name); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "role.delete", r.Name, map[string]string{
			"name": r.Name, "scope": r.Scope.String(), "description": r.Description}, nil)
	})
	if err != nil {
		return err
	}
	for i := range lost {
		s.grantsChanged(ctx, &lost[i])
	}
	return nil
}
