package identity

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// NewUser is the input of CreateUser.
type NewUser struct {
	Username string
	Email    string // optional
	Password string
	// Inactive creates the user disabled.
	Inactive bool
}

// CreateUser hashes the password and creates the user. A username taken in
// any letter case is ErrConflict.
func (s *Service) CreateUser(ctx context.Context, actor Actor, in NewUser) (*storage.User, error) {
	f := fields{}
	checkUsername(f, in.Username)
	checkEmail(f, in.Email)
	checkPassword(f, in.Password)
	if err := f.err(); err != nil {
		return nil, err
	}
	// Hash before the transaction: it is slow on purpose and must not hold
	// a database connection (SQLite has only one).
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	u := &storage.User{Username: in.Username, Email: in.Email, PasswordHash: hash, Active: !in.Inactive}
	err = s.Store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "user.create", u.ID, nil, viewUser(u))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DisableUser marks the user inactive and revokes their refresh tokens, so
// no new access token is issued to them; access tokens already issued run
// out within tokens.access_ttl (or sooner through the Events hook).
func (s *Service) DisableUser(ctx context.Context, actor Actor, username string) (*storage.User, error) {
	return s.setActive(ctx, actor, username, false)
}

// EnableUser marks the user active again.
func (s *Service) EnableUser(ctx context.Context, actor Actor, username string) (*storage.User, error) {
	return s.setActive(ctx, actor, username, true)
}

func (s *Service) setActive(ctx context.Context, actor Actor, username string, active bool) (*storage.User, error) {
	action := "user.enable"
	if !active {
		action = "user.disable"
	}
	var out *storage.User
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		u, err := tx.GetUserByUsername(ctx, username)
		if err != nil {
			return err
		}
		before := viewUser(u)
		wasAdmin, err := activeAdministrator(ctx, tx, u)
		if err != nil {
			return err
		}
		out, err = tx.UpdateUser(ctx, u.ID, func(u *storage.User) error {
			u.Active = active
			return nil
		})
		if err != nil {
			return err
		}
		if !active {
			if err := keepAnAdministrator(ctx, tx, wasAdmin); err != nil {
				return err
			}
			if _, err := tx.RevokeRefreshTokensOfUser(ctx, u.ID, "", s.Now()); err != nil {
				return err
			}
		}
		return audit(ctx, tx, actor, action, u.ID, before, viewUser(out))
	})
	if err != nil {
		return nil, err
	}
	if !active && s.Events != nil {
		s.Events.UserDisabled(ctx, out.ID)
	}
	return out, nil
}

// SetPassword replaces the user's password and revokes their refresh
// tokens.
func (s *Service) SetPassword(ctx context.Context, actor Actor, username, pw string) (*storage.User, error) {
	f := fields{}
	checkPassword(f, pw)
	if err := f.err(); err != nil {
		return nil, err
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return nil, fmt.Errorf("set password: %w", err)
	}
	var out *storage.User
	err = s.Store.InTx(ctx, func(tx storage.Store) error {
		u, err := tx.GetUserByUsername(ctx, username)
		if err != nil {
			return err
		}
		out, err = tx.UpdateUser(ctx, u.ID, func(u *storage.User) error {
			u.PasswordHash = hash
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := tx.RevokeRefreshTokensOfUser(ctx, u.ID, "", s.Now()); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "user.password", u.ID, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	if s.Events != nil {
		s.Events.PasswordChanged(ctx, out.ID)
	}
	return out, nil
}

// DeleteUser deletes the user with their grants and refresh tokens.
func (s *Service) DeleteUser(ctx context.Context, actor Actor, username string) error {
	var id string
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		u, err := tx.GetUserByUsername(ctx, username)
		if err != nil {
			return err
		}
		id = u.ID
		wasAdmin, err := activeAdministrator(ctx, tx, u)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		if err := keepAnAdministrator(ctx, tx, wasAdmin); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "user.delete", u.ID, viewUser(u), nil)
	})
	if err != nil {
		return err
	}
	if s.Events != nil {
		s.Events.UserDisabled(ctx, id)
	}
	return nil
}
