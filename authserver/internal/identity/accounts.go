package identity

import (
	"context"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// NewAccount is the input of CreateAccount.
type NewAccount struct {
	Name        string // slug
	DisplayName string
}

// CreateAccount creates an account. A taken name is ErrConflict.
func (s *Service) CreateAccount(ctx context.Context, actor Actor, in NewAccount) (*storage.Account, error) {
	f := fields{}
	checkSlug(f, "name", in.Name)
	checkDisplayName(f, "display_name", in.DisplayName)
	if err := f.err(); err != nil {
		return nil, err
	}
	a := &storage.Account{Name: in.Name, DisplayName: in.DisplayName}
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "account.create", a.ID, nil, viewAccount(a))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// NewApplication is the input of CreateApplication.
type NewApplication struct {
	Account     string // account name
	Name        string // slug, unique within the account
	DisplayName string
}

// CreateApplication creates an application in an existing account (an
// unknown account is ErrNotFound, a taken name ErrConflict).
func (s *Service) CreateApplication(ctx context.Context, actor Actor, in NewApplication) (*storage.Application, error) {
	f := fields{}
	checkSlug(f, "account", in.Account)
	checkSlug(f, "name", in.Name)
	checkDisplayName(f, "display_name", in.DisplayName)
	if err := f.err(); err != nil {
		return nil, err
	}
	p := &storage.Application{Account: in.Account, Name: in.Name, DisplayName: in.DisplayName}
	err := s.Store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateApplication(ctx, p); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "application.create", p.ID, nil, viewApplication(p))
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
