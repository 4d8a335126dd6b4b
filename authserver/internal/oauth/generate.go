package oauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
)

// Signer signs a claim set with the active key.
type Signer interface {
	Sign(claims jwt.Claims, typ string) (string, error)
}

// accessGenerator builds RFC 9068 access tokens. Roles are read from the
// store here, on every issue and every refresh, so that a role change
// reaches the next token.
type accessGenerator struct {
	store  storage.Store
	signer Signer
	cfg    *Config
	now    func() time.Time
}

var _ oauth2.AccessGenerate = (*accessGenerator)(nil)

func (g *accessGenerator) Token(ctx context.Context, data *oauth2.GenerateBasic, isGenRefresh bool) (string, string, error) {
	st := stateFrom(ctx)
	if st == nil {
		return "", "", errors.New("access generator: request state missing")
	}
	clientID := data.Client.GetID()
	account := st.req.Account
	if account == "" && st.parent != nil {
		account = st.parent.Account
	}

	var grants []roles.Grant
	subject := data.UserID
	if subject != "" {
		user := st.user
		if user == nil {
			var err error
			user, err = g.store.GetUser(ctx, subject)
			if errors.Is(err, storage.ErrNotFound) {
				return "", "", oerrors.ErrInvalidGrant
			}
			if err != nil {
				return "", "", fmt.Errorf("load user: %w", err)
			}
		}
		if !user.Active {
			return "", "", oerrors.ErrInvalidGrant
		}
		var err error
		if grants, err = g.store.RoleGrantsOfUser(ctx, subject); err != nil {
			return "", "", fmt.Errorf("load role grants of user: %w", err)
		}
	} else {
		subject = clientID
		var err error
		if grants, err = g.store.RoleGrantsOfClient(ctx, clientID); err != nil {
			return "", "", fmt.Errorf("load role grants of client: %w", err)
		}
	}
	if account != "" {
		grants = NarrowToAccount(grants, account)
	}

	jti, err := refresh.NewID()
	if err != nil {
		return "", "", err
	}
	now := claims.At(g.now())
	c := &claims.AccessToken{
		Issuer:    g.cfg.Issuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings(g.cfg.Audience),
		ExpiresAt: claims.At(now.Add(g.cfg.AccessTTL)),
		NotBefore: now,
		IssuedAt:  now,
		ID:        jti,
		ClientID:  clientID,
		Scope:     data.TokenInfo.GetScope(),
		Roles:     claims.Roles{Grants: grants, Format: g.cfg.RolesFormat},
	}
	access, err := g.signer.Sign(c, claims.TypeAccessToken)
	if err != nil {
		return "", "", fmt.Errorf("sign access token: %w", err)
	}
	st.accessJTI, st.accessExp = jti, c.ExpiresAt.Time
	var rt string
	// A refresh token only for user grants of clients allowed to refresh.
	if isGenRefresh && data.UserID != "" && slices.Contains(st.client.GrantTypes, GrantRefreshToken) {
		if rt, _, err = refresh.NewToken(); err != nil {
			return "", "", err
		}
	}
	return access, rt, nil
}

// NarrowToAccount keeps the global grants and those inside account.
func NarrowToAccount(grants []roles.Grant, account string) []roles.Grant {
	out := grants[:0:0]
	for _, g := range grants {
		if g.Account == account || g.Scope() == roles.ScopeGlobal {
			out = append(out, g)
		}
	}
	return out
}

func splitScope(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}
