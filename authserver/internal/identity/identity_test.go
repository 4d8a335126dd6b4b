package identity_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/password"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string)                                 { r.mu.Lock(); r.events = append(r.events, s); r.mu.Unlock() }
func (r *recorder) UserDisabled(_ context.Context, id string)    { r.add("disabled " + id) }
func (r *recorder) GrantsChanged(_ context.Context, u, c string) { r.add("grants " + u + c) }
func (r *recorder) PasswordChanged(_ context.Context, id string) { r.add("password " + id) }

func newService(t *testing.T) (*identity.Service, *sqlstore.Store, *recorder) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "id.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	h, err := password.New(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	svc := identity.New(st, h, logger)
	rec := &recorder{}
	svc.Events = rec
	return svc, st, rec
}

func mustFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	var ve *identity.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("err = %v; want a *ValidationError", err)
	}
	for _, f := range fields {
		if _, ok := ve.Fields[f]; !ok {
			t.Errorf("validation error %v has no field %q", ve.Fields, f)
		}
	}
}

func TestValidationReportsEveryField(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := t.Context()
	_, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "has space", Email: "not-an-email", Password: "short"})
	mustFields(t, err, "username", "email", "password")
	_, err = svc.CreateAccount(ctx, identity.CLI, identity.NewAccount{Name: "Upper"})
	mustFields(t, err, "name")
	_, err = svc.CreateApplication(ctx, identity.CLI, identity.NewApplication{Account: "a/b", Name: ""})
	mustFields(t, err, "account", "name")
	_, err = svc.CreateClient(ctx, identity.CLI, identity.NewClient{GrantTypes: []string{"implicit", "client_credentials"},
		RedirectURIs: []string{"relative/cb", "https://x.example/cb#frag"}, Scopes: []string{"bad\"scope"}, Public: true})
	mustFields(t, err, "name", "grant_types", "redirect_uris", "scopes")
	_, err = svc.Grant(ctx, identity.CLI, identity.GrantRequest{Role: "developer"})
	mustFields(t, err, "username")
}

func TestCreateAndAudit(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := t.Context()
	if _, err := svc.CreateAccount(ctx, identity.CLI, identity.NewAccount{Name: "acme", DisplayName: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateApplication(ctx, identity.CLI, identity.NewApplication{Account: "acme", Name: "billing"}); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, identity.Actor{ID: "u_admin", RequestID: "req-1"}, identity.NewUser{Username: "Alice", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	if !u.Active || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("created user %+v", u)
	}
	ok, _, err := svc.Hasher.Verify(ctx, u.PasswordHash, "long enough")
	if err != nil || !ok {
		t.Fatalf("stored hash does not verify the password: %v", err)
	}
	c, err := svc.CreateClient(ctx, identity.CLI, identity.NewClient{Name: "web", GrantTypes: []string{"password", "password", "refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.GrantTypes) != 2 || len(c.Scopes) != 4 || c.Secret == "" || c.SecretHash == c.Secret {
		t.Fatalf("created client %+v", c)
	}
	stored, err := st.GetClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := svc.Hasher.Verify(ctx, stored.SecretHash, c.Secret); !ok {
		t.Fatal("stored client secret hash does not verify the secret")
	}

	recs, _, err := st.ListAudit(ctx, storage.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
		if strings.Contains(string(r.After), "argon2id") || strings.Contains(string(r.After), c.Secret) {
			t.Errorf("audit record %s leaks a secret: %s", r.Action, r.After)
		}
		if r.Action == "user.create" && (r.Actor != "u_admin" || r.RequestID != "req-1" || r.Target != u.ID) {
			t.Errorf("user.create audit = %+v", r)
		}
	}
	if got := strings.Join(actions, ","); got != "client.create,user.create,application.create,account.create" {
		t.Fatalf("audit actions (newest first) = %s", got)
	}
}

func TestAccessShrinkRevokesRefreshTokens(t *testing.T) {
	svc, st, rec := newService(t)
	ctx := t.Context()
	u, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "alice", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.CreateClient(ctx, identity.CLI, identity.NewClient{Name: "web", GrantTypes: []string{"password", "refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	// Another administrator, so that taking alice's away is not refused as
	// removing the last one.
	if _, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "root", Password: "long enough"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "root", Role: "administrator"}); err != nil {
		t.Fatal(err)
	}
	rec.events = nil
	live := func(hash string) bool {
		t.Helper()
		rt, err := st.GetRefreshTokenByHash(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		return rt.RevokedAt == nil
	}
	issue := func(hash string) {
		t.Helper()
		now := time.Now()
		if err := st.CreateRefreshToken(ctx, &storage.RefreshToken{TokenHash: hash, UserID: u.ID, ClientID: c.ID,
			AuthTime: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	issue("h1")
	if _, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "alice", Role: "administrator"}); err != nil {
		t.Fatal(err)
	}
	// With an Events hook a grant change leaves the refresh token live (the
	// hook's revocation event cuts the access tokens; the next refresh
	// carries the new grants); without one it revokes it.
	if !live("h1") {
		t.Error("grant change with an Events hook revoked the refresh token")
	}
	issue("h2")
	if _, err := svc.DisableUser(ctx, identity.CLI, "ALICE"); err != nil {
		t.Fatal(err)
	}
	if live("h2") {
		t.Error("disable left the refresh token live")
	}
	if _, err := svc.EnableUser(ctx, identity.CLI, "alice"); err != nil {
		t.Fatal(err)
	}
	issue("h3")
	if _, err := svc.SetPassword(ctx, identity.CLI, "alice", "a new password"); err != nil {
		t.Fatal(err)
	}
	if live("h3") {
		t.Error("password change left the refresh token live")
	}
	issue("h4")
	if _, err := svc.Revoke(ctx, identity.CLI, identity.GrantRequest{Username: "alice", Role: "administrator"}); err != nil {
		t.Fatal(err)
	}
	if !live("h4") {
		t.Error("revoke with an Events hook revoked the refresh token")
	}
	svc.Events = nil
	issue("h5")
	if _, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "alice", Role: "administrator"}); err != nil {
		t.Fatal(err)
	}
	if live("h5") {
		t.Error("grant change without an Events hook left the refresh token live")
	}
	svc.Events = rec
	if err := svc.DeleteUser(ctx, identity.CLI, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetRefreshTokenByHash(ctx, "h4"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refresh token of a deleted user: %v", err)
	}
	want := "grants " + u.ID + "|disabled " + u.ID + "|password " + u.ID + "|grants " + u.ID + "|disabled " + u.ID
	if got := strings.Join(rec.events, "|"); got != want {
		t.Fatalf("events = %s\nwant     %s", got, want)
	}
}

func TestGrantRules(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := t.Context()
	for _, step := range []error{
		func() error {
			_, err := svc.CreateAccount(ctx, identity.CLI, identity.NewAccount{Name: "acme"})
			return err
		}(),
		func() error {
			_, err := svc.CreateApplication(ctx, identity.CLI, identity.NewApplication{Account: "acme", Name: "billing"})
			return err
		}(),
		func() error {
			_, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "alice", Password: "long enough"})
			return err
		}(),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	c, err := svc.CreateClient(ctx, identity.CLI, identity.NewClient{Name: "svc", GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		req  identity.GrantRequest
		want error
	}{
		{"application role on application", identity.GrantRequest{Username: "alice", Role: "developer", Account: "acme", Application: "billing"}, nil},
		{"duplicate", identity.GrantRequest{Username: "Alice", Role: "developer", Account: "acme", Application: "billing"}, identity.ErrConflict},
		{"application role on account", identity.GrantRequest{Username: "alice", Role: "developer", Account: "acme"}, identity.ErrInvalid},
		{"global role with scope", identity.GrantRequest{Username: "alice", Role: "administrator", Account: "acme"}, identity.ErrInvalid},
		{"account role", identity.GrantRequest{Username: "alice", Role: "account_manager", Account: "acme"}, nil},
		{"unknown account", identity.GrantRequest{Username: "alice", Role: "account_manager", Account: "other"}, identity.ErrNotFound},
		{"unknown application", identity.GrantRequest{Username: "alice", Role: "consumer", Account: "acme", Application: "nope"}, identity.ErrNotFound},
		{"unknown role", identity.GrantRequest{Username: "alice", Role: "wizard"}, identity.ErrNotFound},
		{"unknown user", identity.GrantRequest{Username: "bob", Role: "administrator"}, identity.ErrNotFound},
		{"client grant", identity.GrantRequest{ClientID: c.ID, Role: "consumer", Account: "acme", Application: "billing"}, nil},
		{"unknown client", identity.GrantRequest{ClientID: "cl_nope", Role: "administrator"}, identity.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Grant(ctx, identity.CLI, tc.req)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Grant = %v; want %v", err, tc.want)
			}
		})
	}
	grants, err := svc.Store.RoleGrantsOfClient(ctx, c.ID)
	if err != nil || len(grants) != 1 || grants[0].String() != "consumer:acme/billing" {
		t.Fatalf("client grants = %v, %v", grants, err)
	}
}

func TestCustomRole(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := t.Context()
	_, err := svc.CreateRole(ctx, identity.CLI, identity.NewRole{Name: "Bad Name", Scope: "galaxy"})
	mustFields(t, err, "name", "scope")
	_, err = svc.CreateRole(ctx, identity.CLI, identity.NewRole{Name: "developer", Scope: "global"})
	if !errors.Is(err, identity.ErrConflict) {
		t.Fatalf("CreateRole(built-in name) = %v; want ErrConflict", err)
	}
	if _, err := svc.CreateRole(ctx, identity.CLI, identity.NewRole{Name: "auditor", Scope: "account"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAccount(ctx, identity.CLI, identity.NewAccount{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "alice", Password: "long enough"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "alice", Role: "auditor"}); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("global grant of an account role = %v; want ErrInvalid", err)
	}
	g, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "alice", Role: "auditor", Account: "acme"})
	if err != nil || g.String() != "auditor:acme" {
		t.Fatalf("Grant(auditor:acme) = %v, %v", g, err)
	}
}
