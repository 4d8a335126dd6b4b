package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/password"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// Actor is who makes a change, for the audit log: a user id, a client id, or
// "cli" for the command line.
type Actor struct {
	ID        string
	RequestID string
}

// CLI is the actor of changes made with the authserver command.
var CLI = Actor{ID: "cli"}

// Events is told about changes that take access away, after they commit.
// A nil Events is fine; implementations must not block for long.
type Events interface {
	UserDisabled(ctx context.Context, userID string)
	GrantsChanged(ctx context.Context, userID, clientID string)
	PasswordChanged(ctx context.Context, userID string)
}

// Service runs the identity operations. Construct it with New; the exported
// fields may be replaced before first use.
type Service struct {
	Store  storage.Store
	Hasher *password.Hasher
	Logger *slog.Logger
	// Events, when not nil, hears about disabled users, grant changes and
	// password changes.
	Events Events
	// Now is the clock for revocation timestamps.
	Now func() time.Time
}

// New returns a Service on store, hashing with hasher.
func New(store storage.Store, hasher *password.Hasher, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: store, Hasher: hasher, Logger: logger, Now: time.Now}
}

// audit appends a record in tx. before and after are marshalled to JSON
// (nil stays nil); callers pass views without secrets.
func audit(ctx context.Context, tx storage.Store, actor Actor, action, target string, before, after any) error {
	rec := &storage.AuditRecord{Actor: actor.ID, Action: action, Target: target, RequestID: actor.RequestID}
	var err error
	if before != nil {
		if rec.Before, err = json.Marshal(before); err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
	}
	if after != nil {
		if rec.After, err = json.Marshal(after); err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
	}
	if rec.Actor == "" {
		return errors.New("audit: actor is required")
	}
	if err := tx.AppendAudit(ctx, rec); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// userView is a user as the audit log records it: never the password hash.
type userView struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
	Active   bool   `json:"active"`
}

func viewUser(u *storage.User) userView {
	return userView{ID: u.ID, Username: u.Username, Email: u.Email, Active: u.Active}
}

// clientView is a client as the audit log records it: never the secret hash.
type clientView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	GrantTypes   []string `json:"grant_types"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	Scopes       []string `json:"scopes"`
	Account      string   `json:"account,omitempty"`
	Application  string   `json:"application,omitempty"`
}

func viewClient(c *storage.Client) clientView {
	return clientView{ID: c.ID, Name: c.Name, Public: c.Public, GrantTypes: c.GrantTypes,
		RedirectURIs: c.RedirectURIs, Scopes: c.Scopes, Account: c.Account, Application: c.Application}
}
