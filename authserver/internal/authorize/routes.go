package authorize

import (
	"context"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/login"
	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/authserver/internal/userinfo"
)

// Deps are the browser flow's collaborators.
type Deps struct {
	Issuer     string
	Store      storage.Store
	Tokens     *oauth.Service // credential checks and access-token verification
	Codes      authcode.Store // the same store the token service redeems from
	Sessions   login.Sessions
	SessionTTL time.Duration // 0: login.DefaultSessionTTL
	// Revoke revokes a user's tokens at a client on GET /oauth2/logout
	// (optional; see login.Handler.Revoke).
	Revoke func(ctx context.Context, userID, clientID string) error
	Logger *slog.Logger
	Now    func() time.Time
}

// Routes builds the handler groups of the browser flow: the authorization
// endpoint, the login form and logout, and /userinfo. The server registers
// them next to the token endpoint.
func Routes(d Deps) []interface{ Register(g *echo.Group) } {
	lh := &login.Handler{Issuer: d.Issuer, SessionTTL: d.SessionTTL, Auth: d.Tokens, Sessions: d.Sessions,
		Store: d.Store, Revoke: d.Revoke, Logger: d.Logger, Now: d.Now}
	return []interface{ Register(g *echo.Group) }{
		lh,
		&Handler{Issuer: d.Issuer, Store: d.Store, Codes: d.Codes, Login: lh, Logger: d.Logger, Now: d.Now},
		&userinfo.Handler{Tokens: d.Tokens, Store: d.Store, Logger: d.Logger},
	}
}
