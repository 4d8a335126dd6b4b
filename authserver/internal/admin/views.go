package admin

import (
	"encoding/json"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// The JSON shapes of the API's objects. Secrets and hashes never appear.

type accountView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewAccount(a *storage.Account) accountView {
	return accountView{ID: a.ID, Name: a.Name, DisplayName: a.DisplayName, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
}

type applicationView struct {
	ID          string    `json:"id"`
	Account     string    `json:"account"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewApplication(p *storage.Application) applicationView {
	return applicationView{ID: p.ID, Account: p.Account, Name: p.Name, DisplayName: p.DisplayName,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

type userView struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Email     string    `json:"email"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewUser(u *storage.User) userView {
	return userView{ID: u.ID, Username: u.Username, Email: u.Email, Active: u.Active, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

type roleView struct {
	Name        string `json:"name"`
	Scope       string `json:"scope"`
	Description string `json:"description"`
	Builtin     bool   `json:"builtin"`
}

func viewRole(r *storage.Role) roleView {
	return roleView{Name: r.Name, Scope: r.Scope.String(), Description: r.Description, Builtin: r.Builtin}
}

type grantView struct {
	ID          string    `json:"id"`
	UserID      string    `json:"user_id,omitempty"`
	ClientID    string    `json:"client_id,omitempty"`
	Role        string    `json:"role"`
	Account     string    `json:"account,omitempty"`
	Application string    `json:"application,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func viewGrant(g *storage.Grant) grantView {
	return grantView{ID: g.ID, UserID: g.UserID, ClientID: g.ClientID, Role: g.Role, Account: g.Account,
		Application: g.Application, CreatedAt: g.CreatedAt.UTC()}
}

type clientView struct {
	ClientID     string    `json:"client_id"`
	Name         string    `json:"name"`
	Public       bool      `json:"public"`
	GrantTypes   []string  `json:"grant_types"`
	RedirectURIs []string  `json:"redirect_uris"`
	Scopes       []string  `json:"scopes"`
	Account      string    `json:"account,omitempty"`
	Application  string    `json:"application,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func viewClient(c *storage.Client) clientView {
	v := clientView{ClientID: c.ID, Name: c.Name, Public: c.Public, GrantTypes: c.GrantTypes, RedirectURIs: c.RedirectURIs,
		Scopes: c.Scopes, Account: c.Account, Application: c.Application, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	for _, s := range []*[]string{&v.GrantTypes, &v.RedirectURIs, &v.Scopes} {
		if *s == nil {
			*s = []string{}
		}
	}
	return v
}

// createdClientView adds the secret, shown once at creation.
type createdClientView struct {
	clientView
	ClientSecret string `json:"client_secret,omitempty"`
}

type keyView struct {
	KID         string     `json:"kid"`
	Algorithm   string     `json:"algorithm"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatesAt time.Time  `json:"activates_at"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

func viewKey(k *signer.KeyStatus) keyView {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return keyView{KID: k.ID, Algorithm: k.Algorithm, State: string(k.State), CreatedAt: k.CreatedAt.UTC(),
		ActivatesAt: k.ActivatesAt.UTC(), RetiredAt: utc(k.RetiredAt), ExpiresAt: utc(k.ExpiresAt)}
}

type auditView struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
}

func viewAudit(r *storage.AuditRecord) auditView {
	return auditView{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Target: r.Target,
		Before: json.RawMessage(r.Before), After: json.RawMessage(r.After), RequestID: r.RequestID}
}
