package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

func testAccounts(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a := account(t, s, "acme")
	if a.ID == "" || a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Fatalf("CreateAccount did not fill ID and timestamps: %+v", a)
	}
	is(t, s.CreateAccount(ctx, &storage.Account{Name: "acme"}), storage.ErrAlreadyExists, "duplicate account")
	is(t, s.CreateAccount(ctx, &storage.Account{}), storage.ErrInvalid, "account without name")

	got, err := s.GetAccount(ctx, "acme")
	must(t, err)
	if got.ID != a.ID || got.DisplayName != "Account acme" || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("GetAccount = %+v, created %+v", got, a)
	}
	_, err = s.GetAccount(ctx, "nope")
	is(t, err, storage.ErrNotFound, "GetAccount(missing)")

	upd, err := s.UpdateAccount(ctx, "acme", func(a *storage.Account) error {
		a.DisplayName = "Acme Ltd"
		a.ID = "forged" // ignored
		return nil
	})
	must(t, err)
	if upd.ID != a.ID || upd.DisplayName != "Acme Ltd" {
		t.Fatalf("UpdateAccount = %+v", upd)
	}
	boom := errors.New("boom")
	_, err = s.UpdateAccount(ctx, "acme", func(a *storage.Account) error { a.DisplayName = "lost"; return boom })
	is(t, err, boom, "UpdateAccount closure error")
	if got, _ := s.GetAccount(ctx, "acme"); got.DisplayName != "Acme Ltd" {
		t.Fatalf("failed update changed the account: %+v", got)
	}
	_, err = s.UpdateAccount(ctx, "nope", func(*storage.Account) error { return nil })
	is(t, err, storage.ErrNotFound, "UpdateAccount(missing)")

	account(t, s, "globex")
	_, err = s.UpdateAccount(ctx, "acme", func(a *storage.Account) error { a.Name = "globex"; return nil })
	is(t, err, storage.ErrAlreadyExists, "rename onto a taken name")
	_, err = s.UpdateAccount(ctx, "acme", func(a *storage.Account) error { a.Name = "acme2"; return nil })
	must(t, err)
	_, err = s.GetAccount(ctx, "acme2")
	must(t, err)

	must(t, s.DeleteAccount(ctx, "acme2"))
	is(t, s.DeleteAccount(ctx, "acme2"), storage.ErrNotFound, "DeleteAccount twice")
	_, err = s.GetAccount(ctx, "acme2")
	is(t, err, storage.ErrNotFound, "GetAccount after delete")
}

func testAccountsPagination(t *testing.T, s storage.Store) {
	want := []string{"a1", "a2", "b1", "b2", "c1", "c2", "d"}
	for _, n := range []string{"c2", "a1", "d", "b2", "a2", "c1", "b1"} {
		account(t, s, n)
	}
	for _, limit := range []int{1, 2, 3, 7, 100} {
		all, pages := collect(t, limit, func(p storage.Page) ([]storage.Account, string, error) {
			return s.ListAccounts(t.Context(), p)
		})
		if got := names(all, func(a storage.Account) string { return a.Name }); !slices.Equal(got, want) {
			t.Fatalf("limit %d: accounts %v, want %v", limit, got, want)
		}
		if wantPages := (len(want) + limit - 1) / limit; pages != wantPages && pages != wantPages+1 {
			t.Fatalf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	_, _, err := s.ListAccounts(t.Context(), storage.Page{Cursor: "!!not a cursor!!"})
	is(t, err, storage.ErrInvalid, "bad cursor")
}

func testApplications(t *testing.T, s storage.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	account(t, s, "globex")
	p := application(t, s, "acme", "billing")
	if p.ID == "" || p.CreatedAt.IsZero() {
		t.Fatalf("CreateApplication did not fill ID and timestamps: %+v", p)
	}
	application(t, s, "globex", "billing") // same name, other account
	is(t, s.CreateApplication(ctx, &storage.Application{Account: "acme", Name: "billing"}), storage.ErrAlreadyExists, "duplicate application")
	is(t, s.CreateApplication(ctx, &storage.Application{Account: "nope", Name: "x"}), storage.ErrNotFound, "application of a missing account")

	got, err := s.GetApplication(ctx, "acme", "billing")
	must(t, err)
	if got.ID != p.ID || got.Account != "acme" {
		t.Fatalf("GetApplication = %+v", got)
	}
	_, err = s.GetApplication(ctx, "acme", "nope")
	is(t, err, storage.ErrNotFound, "GetApplication(missing)")

	upd, err := s.UpdateApplication(ctx, "acme", "billing", func(p *storage.Application) error {
		p.DisplayName = "Billing"
		p.Account = "globex" // ignored: applications do not move
		return nil
	})
	must(t, err)
	if upd.DisplayName != "Billing" || upd.Account != "acme" {
		t.Fatalf("UpdateApplication = %+v", upd)
	}
	_, err = s.UpdateApplication(ctx, "acme", "nope", func(*storage.Application) error { return nil })
	is(t, err, storage.ErrNotFound, "UpdateApplication(missing)")

	must(t, s.DeleteApplication(ctx, "acme", "billing"))
	is(t, s.DeleteApplication(ctx, "acme", "billing"), storage.ErrNotFound, "DeleteApplication twice")
	if _, err := s.GetApplication(ctx, "globex", "billing"); err != nil {
		t.Fatalf("deleting acme/billing touched globex/billing: %v", err)
	}
}

func testApplicationsPagination(t *testing.T, s storage.Store) {
	account(t, s, "acme")
	account(t, s, "globex")
	for _, n := range []string{"z", "a", "m"} {
		application(t, s, "acme", n)
		application(t, s, "globex", n)
	}
	all, _ := collect(t, 2, func(p storage.Page) ([]storage.Application, string, error) {
		return s.ListApplications(t.Context(), "", p)
	})
	got := names(all, func(a storage.Application) string { return a.Account + "/" + a.Name })
	if want := []string{"acme/a", "acme/m", "acme/z", "globex/a", "globex/m", "globex/z"}; !slices.Equal(got, want) {
		t.Fatalf("all applications %v, want %v", got, want)
	}
	one, _ := collect(t, 1, func(p storage.Page) ([]storage.Application, string, error) {
		return s.ListApplications(t.Context(), "globex", p)
	})
	if got := names(one, func(a storage.Application) string { return a.Account + "/" + a.Name }); !slices.Equal(got, []string{"globex/a", "globex/m", "globex/z"}) {
		t.Fatalf("globex applications %v", got)
	}
}

func testRoles(t *testing.T, s storage.Store) {
	ctx := t.Context()
	rs, err := s.ListRoles(ctx)
	must(t, err)
	got := map[string]roles.Scope{}
	for _, r := range rs {
		if !r.Builtin {
			t.Errorf("role %s is not built in", r.Name)
		}
		got[r.Name] = r.Scope
	}
	want := map[string]roles.Scope{
		roles.Administrator: roles.ScopeGlobal, roles.AccountManager: roles.ScopeAccount,
		roles.ApplicationManager: roles.ScopeApplication, roles.Developer: roles.ScopeApplication, roles.Consumer: roles.ScopeApplication,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("built-in roles %v, want %v", got, want)
	}

	r := &storage.Role{Name: "auditor", Scope: roles.ScopeAccount, Description: "reads the audit log", Builtin: true}
	must(t, s.CreateRole(ctx, r))
	is(t, s.CreateRole(ctx, &storage.Role{Name: "auditor", Scope: roles.ScopeGlobal}), storage.ErrAlreadyExists, "duplicate role")
	is(t, s.CreateRole(ctx, &storage.Role{Name: "nokind"}), storage.ErrInvalid, "role without scope kind")
	g, err := s.GetRole(ctx, "auditor")
	must(t, err)
	if g.Scope != roles.ScopeAccount || g.Builtin || g.Description != "reads the audit log" {
		t.Fatalf("GetRole(custom) = %+v; a created role is never built in", g)
	}
	_, err = s.GetRole(ctx, "nope")
	is(t, err, storage.ErrNotFound, "GetRole(missing)")
	is(t, s.DeleteRole(ctx, roles.Administrator), storage.ErrInvalid, "delete built-in role")
	must(t, s.DeleteRole(ctx, "auditor"))
	is(t, s.DeleteRole(ctx, "auditor"), storage.ErrNotFound, "DeleteRole twice")
}

func testUsers(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u := user(t, s, "alice")
	if !strings.HasPrefix(u.ID, "") || u.ID == "" || u.CreatedAt.IsZero() {
		t.Fatalf("CreateUser did not fill ID and timestamps: %+v", u)
	}
	fixed := &storage.User{ID: "u_fixed", Username: "bob", Active: false}
	must(t, s.CreateUser(ctx, fixed))
	if fixed.ID != "u_fixed" {
		t.Fatalf("CreateUser replaced a given ID: %s", fixed.ID)
	}
	is(t, s.CreateUser(ctx, &storage.User{ID: "u_fixed", Username: "carol"}), storage.ErrAlreadyExists, "duplicate user id")
	is(t, s.CreateUser(ctx, &storage.User{}), storage.ErrInvalid, "user without username")

	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	if got.Username != "alice" || got.Email != "alice@example.com" || got.PasswordHash != "$argon2id$x" || !got.Active {
		t.Fatalf("GetUser = %+v", got)
	}
	if b, _ := s.GetUser(ctx, "u_fixed"); b == nil || b.Active {
		t.Fatalf("inactive user read back as %+v", b)
	}
	_, err = s.GetUser(ctx, "nope")
	is(t, err, storage.ErrNotFound, "GetUser(missing)")

	upd, err := s.UpdateUser(ctx, u.ID, func(u *storage.User) error {
		u.Active = false
		u.PasswordHash = "$argon2id$new"
		u.Username = "Alice2"
		return nil
	})
	must(t, err)
	if upd.Active || upd.PasswordHash != "$argon2id$new" || !upd.UpdatedAt.After(u.UpdatedAt) && !upd.UpdatedAt.Equal(u.UpdatedAt) {
		t.Fatalf("UpdateUser = %+v", upd)
	}
	if g, err := s.GetUserByUsername(ctx, "alice2"); err != nil || g.ID != u.ID {
		t.Fatalf("renamed user not found by new name: %v", err)
	}
	_, err = s.UpdateUser(ctx, u.ID, func(u *storage.User) error { u.Username = "BOB"; return nil })
	is(t, err, storage.ErrAlreadyExists, "rename onto another user's name in other case")
	_, err = s.UpdateUser(ctx, "nope", func(*storage.User) error { return nil })
	is(t, err, storage.ErrNotFound, "UpdateUser(missing)")

	must(t, s.DeleteUser(ctx, u.ID))
	is(t, s.DeleteUser(ctx, u.ID), storage.ErrNotFound, "DeleteUser twice")
}

func testUsersCaseInsensitive(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u := user(t, s, "Alice")
	for _, n := range []string{"alice", "ALICE", "aLiCe"} {
		is(t, s.CreateUser(ctx, &storage.User{Username: n}), storage.ErrAlreadyExists, "create "+n)
		got, err := s.GetUserByUsername(ctx, n)
		must(t, err)
		if got.ID != u.ID || got.Username != "Alice" {
			t.Fatalf("GetUserByUsername(%q) = %+v; want Alice as written", n, got)
		}
	}
	// Non-ASCII folds the same on every backend.
	user(t, s, "Élodie")
	is(t, s.CreateUser(ctx, &storage.User{Username: "élodie"}), storage.ErrAlreadyExists, "create élodie")
	_, err := s.GetUserByUsername(ctx, "nobody")
	is(t, err, storage.ErrNotFound, "GetUserByUsername(missing)")
}

func testUsersListFilters(t *testing.T, s storage.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	application(t, s, "acme", "billing")
	application(t, s, "acme", "crm")
	ids := map[string]string{}
	for _, n := range []string{"dave", "Carol", "bob", "alice", "al", "erin"} {
		ids[n] = user(t, s, n).ID
	}
	grantUser(t, s, ids["bob"], roles.Developer, "acme", "billing")
	grantUser(t, s, ids["bob"], roles.Consumer, "acme", "billing") // two grants: listed once
	grantUser(t, s, ids["Carol"], roles.AccountManager, "acme", "")
	grantUser(t, s, ids["dave"], roles.Developer, "acme", "crm")

	list := func(f storage.UserFilter, limit int) []string {
		all, _ := collect(t, limit, func(p storage.Page) ([]storage.User, string, error) { return s.ListUsers(ctx, f, p) })
		return names(all, func(u storage.User) string { return u.Username })
	}
	cases := []struct {
		name string
		f    storage.UserFilter
		want []string
	}{
		{"all, case-insensitive order", storage.UserFilter{}, []string{"al", "alice", "bob", "Carol", "dave", "erin"}},
		{"username prefix", storage.UserFilter{Username: "AL"}, []string{"al", "alice"}},
		{"account", storage.UserFilter{Account: "acme"}, []string{"bob", "Carol", "dave"}},
		{"application", storage.UserFilter{Account: "acme", Application: "billing"}, []string{"bob"}},
		{"application and prefix", storage.UserFilter{Account: "acme", Application: "crm", Username: "d"}, []string{"dave"}},
		{"no match", storage.UserFilter{Username: "zz"}, nil},
	}
	for _, c := range cases {
		for _, limit := range []int{1, 4, 100} {
			if got := list(c.f, limit); !slices.Equal(got, c.want) {
				t.Errorf("%s (limit %d): %v, want %v", c.name, limit, got, c.want)
			}
		}
	}
}

func testGrantScopeRules(t *testing.T, s storage.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	application(t, s, "acme", "billing")
	account(t, s, "globex")
	u := user(t, s, "alice")
	must(t, s.CreateRole(ctx, &storage.Role{Name: "auditor", Scope: roles.ScopeAccount}))
	cases := []struct {
		role, acc, app string
		want           error
	}{
		{roles.Administrator, "", "", nil},
		{roles.Administrator, "acme", "", storage.ErrInvalid},
		{roles.Administrator, "acme", "billing", storage.ErrInvalid},
		{roles.AccountManager, "acme", "", nil},
		{roles.AccountManager, "", "", storage.ErrInvalid},
		{roles.AccountManager, "acme", "billing", storage.ErrInvalid},
		{roles.Developer, "acme", "billing", nil},
		{roles.Developer, "acme", "", storage.ErrInvalid},
		{roles.Developer, "", "", storage.ErrInvalid},
		{roles.Consumer, "", "billing", storage.ErrInvalid},
		{roles.ApplicationManager, "globex", "billing", storage.ErrNotFound}, // billing is acme's
		{roles.Consumer, "acme", "nope", storage.ErrNotFound},
		{roles.AccountManager, "nope", "", storage.ErrNotFound},
		{"auditor", "acme", "", nil},
		{"auditor", "", "", storage.ErrInvalid},
		{"wizard", "", "", storage.ErrNotFound},
	}
	for _, c := range cases {
		g := &storage.Grant{UserID: u.ID, Grant: roles.Grant{Role: c.role, Account: c.acc, Application: c.app}}
		is(t, s.CreateGrant(ctx, g), c.want, "grant "+g.String())
	}
	is(t, s.CreateGrant(ctx, &storage.Grant{Grant: roles.Grant{Role: roles.Administrator}}), storage.ErrInvalid, "grant without subject")
	c := client(t, s, "svc")
	is(t, s.CreateGrant(ctx, &storage.Grant{UserID: u.ID, ClientID: c.ID, Grant: roles.Grant{Role: roles.Administrator}}),
		storage.ErrInvalid, "grant with two subjects")
	is(t, s.CreateGrant(ctx, &storage.Grant{UserID: "u_nope", Grant: roles.Grant{Role: roles.Administrator}}),
		storage.ErrNotFound, "grant to a missing user")
	is(t, s.CreateGrant(ctx, &storage.Grant{ClientID: "cl_nope", Grant: roles.Grant{Role: roles.Administrator}}),
		storage.ErrNotFound, "grant to a missing client")
}

func testGrantsCRUD(t *testing.T, s storage.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	application(t, s, "acme", "billing")
	u := user(t, s, "alice")
	c := client(t, s, "svc")
	g := grantUser(t, s, u.ID, roles.Developer, "acme", "billing")
	if g.ID == "" || g.CreatedAt.IsZero() {
		t.Fatalf("CreateGrant did not fill ID and CreatedAt: %+v", g)
	}
	// Duplicates are refused for every scope shape, including the
	// global one whose account and application are absent.
	for _, dup := range []roles.Grant{
		{Role: roles.Developer, Account: "acme", Application: "billing"},
	} {
		is(t, s.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: dup}), storage.ErrAlreadyExists, "duplicate "+dup.String())
	}
	grantUser(t, s, u.ID, roles.Administrator, "", "")
	is(t, s.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: roles.Grant{Role: roles.Administrator}}), storage.ErrAlreadyExists, "duplicate global grant")
	grantUser(t, s, u.ID, roles.AccountManager, "acme", "")
	is(t, s.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: roles.Grant{Role: roles.AccountManager, Account: "acme"}}), storage.ErrAlreadyExists, "duplicate account grant")
	// The same role for another subject is not a duplicate.
	grantClient(t, s, c.ID, roles.Administrator, "", "")
	is(t, s.CreateGrant(ctx, &storage.Grant{ClientID: c.ID, Grant: roles.Grant{Role: roles.Administrator}}), storage.ErrAlreadyExists, "duplicate client grant")

	got, err := s.GetGrant(ctx, g.ID)
	must(t, err)
	if got.UserID != u.ID || got.ClientID != "" || got.String() != "developer:acme/billing" {
		t.Fatalf("GetGrant = %+v", got)
	}
	_, err = s.GetGrant(ctx, "nope")
	is(t, err, storage.ErrNotFound, "GetGrant(missing)")

	rg, err := s.RoleGrantsOfUser(ctx, u.ID)
	must(t, err)
	if got := fmt.Sprint(rg); got != "[account_manager:acme administrator developer:acme/billing]" {
		t.Fatalf("RoleGrantsOfUser = %s", got)
	}
	rc, err := s.RoleGrantsOfClient(ctx, c.ID)
	must(t, err)
	if len(rc) != 1 || rc[0].Role != roles.Administrator {
		t.Fatalf("RoleGrantsOfClient = %v", rc)
	}
	none, err := s.RoleGrantsOfUser(ctx, "u_nobody")
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("RoleGrantsOfUser(unknown) = %v", none)
	}

	must(t, s.DeleteGrant(ctx, g.ID))
	is(t, s.DeleteGrant(ctx, g.ID), storage.ErrNotFound, "DeleteGrant twice")
	rg, _ = s.RoleGrantsOfUser(ctx, u.ID)
	if len(rg) != 2 {
		t.Fatalf("after delete RoleGrantsOfUser = %v", rg)
	}
}

func testGrantsList(t *testing.T, s storage.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	application(t, s, "acme", "billing")
	application(t, s, "acme", "crm")
	a, b := user(t, s, "alice"), user(t, s, "bob")
	c := client(t, s, "svc")
	grantUser(t, s, a.ID, roles.Developer, "acme", "billing")
	grantUser(t, s, a.ID, roles.Developer, "acme", "crm")
	grantUser(t, s, a.ID, roles.AccountManager, "acme", "")
	grantUser(t, s, b.ID, roles.Consumer, "acme", "billing")
	grantUser(t, s, b.ID, roles.Administrator, "", "")
	grantClient(t, s, c.ID, roles.Consumer, "acme", "crm")

	count := func(f storage.GrantFilter) int {
		all, _ := collect(t, 2, func(p storage.Page) ([]storage.Grant, string, error) { return s.ListGrants(ctx, f, p) })
		seen := map[string]bool{}
		for _, g := range all {
			if seen[g.ID] {
				t.Fatalf("grant %s listed twice", g.ID)
			}
			seen[g.ID] = true
		}
		return len(all)
	}
	for _, tc := range []struct {
		name string
		f    storage.GrantFilter
		want int
	}{
		{"all", storage.GrantFilter{}, 6},
		{"user", storage.GrantFilter{UserID: a.ID}, 3},
		{"client", storage.GrantFilter{ClientID: c.ID}, 1},
		{"role", storage.GrantFilter{Role: roles.Consumer}, 2},
		{"account", storage.GrantFilter{Account: "acme"}, 5},
		{"application", storage.GrantFilter{Account: "acme", Application: "crm"}, 2},
		{"user and role", storage.GrantFilter{UserID: b.ID, Role: roles.Administrator}, 1},
		{"no match", storage.GrantFilter{UserID: "u_nope"}, 0},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("ListGrants(%s) = %d grants, want %d", tc.name, got, tc.want)
		}
	}
}

func testCountActiveAdministrators(t *testing.T, s storage.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	n, err := s.CountActiveAdministrators(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("empty store has %d administrators", n)
	}
	a, b, c := user(t, s, "a"), user(t, s, "b"), user(t, s, "c")
	grantUser(t, s, a.ID, roles.Administrator, "", "")
	grantUser(t, s, b.ID, roles.Administrator, "", "")
	grantUser(t, s, c.ID, roles.AccountManager, "acme", "") // not an administrator
	grantClient(t, s, client(t, s, "svc").ID, roles.Administrator, "", "")
	_, err = s.UpdateUser(ctx, b.ID, func(u *storage.User) error { u.Active = false; return nil })
	must(t, err)
	n, err = s.CountActiveAdministrators(ctx)
	must(t, err)
	if n != 1 {
		t.Fatalf("CountActiveAdministrators = %d, want 1 (inactive users, clients and other roles do not count)", n)
	}
}

func testClients(t *testing.T, s storage.Store) {
	ctx := t.Context()
	account(t, s, "acme")
	application(t, s, "acme", "billing")
	c := &storage.Client{
		Name: "web", SecretHash: "$argon2id$s", GrantTypes: []string{"password", "refresh_token"},
		RedirectURIs: []string{"https://app.example.com/cb"}, Scopes: []string{"openid", "profile"},
		Account: "acme", Application: "billing",
	}
	must(t, s.CreateClient(ctx, c))
	if c.ID == "" || c.CreatedAt.IsZero() {
		t.Fatalf("CreateClient did not fill ID and timestamps: %+v", c)
	}
	pub := &storage.Client{ID: "spa", Public: true, Name: "spa", GrantTypes: []string{"authorization_code"}}
	must(t, s.CreateClient(ctx, pub))
	is(t, s.CreateClient(ctx, &storage.Client{ID: "spa", Name: "again"}), storage.ErrAlreadyExists, "duplicate client id")
	is(t, s.CreateClient(ctx, &storage.Client{Name: "bad", Public: true, SecretHash: "x"}), storage.ErrInvalid, "public client with a secret")
	is(t, s.CreateClient(ctx, &storage.Client{Name: "orphan", Account: "nope"}), storage.ErrNotFound, "client of a missing account")
	is(t, s.CreateClient(ctx, &storage.Client{Name: "orphan", Account: "acme", Application: "nope"}), storage.ErrNotFound, "client of a missing application")

	got, err := s.GetClient(ctx, c.ID)
	must(t, err)
	if got.Name != "web" || got.SecretHash != "$argon2id$s" || got.Public ||
		!slices.Equal(got.GrantTypes, c.GrantTypes) || !slices.Equal(got.RedirectURIs, c.RedirectURIs) ||
		!slices.Equal(got.Scopes, c.Scopes) || got.Account != "acme" || got.Application != "billing" {
		t.Fatalf("GetClient = %+v", got)
	}
	gp, err := s.GetClient(ctx, "spa")
	must(t, err)
	if !gp.Public || gp.SecretHash != "" || gp.RedirectURIs == nil && len(gp.RedirectURIs) != 0 || gp.Account != "" {
		t.Fatalf("GetClient(public) = %+v", gp)
	}
	_, err = s.GetClient(ctx, "nope")
	is(t, err, storage.ErrNotFound, "GetClient(missing)")

	upd, err := s.UpdateClient(ctx, c.ID, func(c *storage.Client) error {
		c.Scopes = append(c.Scopes, "email")
		c.Application = ""
		return nil
	})
	must(t, err)
	if len(upd.Scopes) != 3 || upd.Application != "" || upd.Account != "acme" {
		t.Fatalf("UpdateClient = %+v", upd)
	}
	_, err = s.UpdateClient(ctx, c.ID, func(c *storage.Client) error { c.Public = true; return nil })
	is(t, err, storage.ErrInvalid, "make a client with a secret public")
	_, err = s.UpdateClient(ctx, "nope", func(*storage.Client) error { return nil })
	is(t, err, storage.ErrNotFound, "UpdateClient(missing)")

	all, _ := collect(t, 1, func(p storage.Page) ([]storage.Client, string, error) {
		return s.ListClients(ctx, storage.ClientFilter{}, p)
	})
	if len(all) != 2 {
		t.Fatalf("ListClients = %d clients, want 2", len(all))
	}
	mine, _, err := s.ListClients(ctx, storage.ClientFilter{Account: "acme"}, storage.Page{})
	must(t, err)
	if len(mine) != 1 || mine[0].ID != c.ID {
		t.Fatalf("ListClients(account acme) = %v", mine)
	}

	must(t, s.DeleteClient(ctx, "spa"))
	is(t, s.DeleteClient(ctx, "spa"), storage.ErrNotFound, "DeleteClient twice")
}
