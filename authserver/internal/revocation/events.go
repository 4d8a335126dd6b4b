package revocation

import (
	"context"
	"log/slog"

	"github.com/portcullis/portcullis/authserver/internal/identity"
)

// IdentityEvents turns the identity service's change notifications into
// subject events: a disabled or deleted user, a changed set of grants and a
// changed password all refuse every token issued before the change (the
// refreshed token carries the current grants). The hook is called after the
// change committed and cannot fail it, so an emit error is logged; the
// change itself already revoked the refresh tokens where it should.
type IdentityEvents struct {
	Emitter *Emitter
	Logger  *slog.Logger
}

var _ identity.Events = IdentityEvents{}

// UserDisabled implements identity.Events (disable and delete).
func (e IdentityEvents) UserDisabled(ctx context.Context, userID string) {
	e.revoke(ctx, userID, "user disabled or deleted")
}

// GrantsChanged implements identity.Events. A client's own grants are in
// its client_credentials tokens, whose subject is the client id.
func (e IdentityEvents) GrantsChanged(ctx context.Context, userID, clientID string) {
	sub := userID
	if sub == "" {
		sub = clientID
	}
	e.revoke(ctx, sub, "grants changed")
}

// PasswordChanged implements identity.Events.
func (e IdentityEvents) PasswordChanged(ctx context.Context, userID string) {
	e.revoke(ctx, userID, "password changed")
}

func (e IdentityEvents) revoke(ctx context.Context, sub, why string) {
	if sub == "" || e.Emitter == nil {
		return
	}
	if err := e.Emitter.RevokeSubject(ctx, sub, ""); err != nil && e.Logger != nil {
		e.Logger.ErrorContext(ctx, "revocation event not emitted", "sub", sub, "reason", why, "err", err)
	}
}
