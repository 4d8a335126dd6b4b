package storagetest

import (
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

// grantIDs returns the ids of every grant in the store.
func grantIDs(t *testing.T, s storage.Store) map[string]bool {
	t.Helper()
	all, _ := collect(t, 100, func(p storage.Page) ([]storage.Grant, string, error) {
		return s.ListGrants(t.Context(), storage.GrantFilter{}, p)
	})
	out := map[string]bool{}
	for _, g := range all {
		out[g.ID] = true
	}
	return out
}

func expectGrants(t *testing.T, s storage.Store, gone, kept []*storage.Grant) {
	t.Helper()
	ids := grantIDs(t, s)
	for _, g := range gone {
		if ids[g.ID] {
			t.Errorf("grant %s (%s) survived the delete", g.ID, g.String())
		}
	}
	for _, g := range kept {
		if !ids[g.ID] {
			t.Errorf("grant %s (%s) was deleted too", g.ID, g.String())
		}
	}
}

func testCascadeApplication(t *testing.T, s storage.Store) {
	account(t, s, "acme")
	application(t, s, "acme", "billing")
	application(t, s, "acme", "crm")
	u := user(t, s, "alice")
	c := client(t, s, "svc")
	owned := &storage.Client{Name: "owned", Account: "acme", Application: "billing", GrantTypes: []string{"password"}}
	must(t, s.CreateClient(t.Context(), owned))
	gone := []*storage.Grant{
		grantUser(t, s, u.ID, roles.Developer, "acme", "billing"),
		grantClient(t, s, c.ID, roles.Consumer, "acme", "billing"),
	}
	kept := []*storage.Grant{
		grantUser(t, s, u.ID, roles.Developer, "acme", "crm"),
		grantUser(t, s, u.ID, roles.AccountManager, "acme", ""),
		grantUser(t, s, u.ID, roles.Administrator, "", ""),
	}
	must(t, s.DeleteApplication(t.Context(), "acme", "billing"))
	expectGrants(t, s, gone, kept)
	_, err := s.GetClient(t.Context(), owned.ID)
	is(t, err, storage.ErrNotFound, "client owned by the deleted application")
	if _, err := s.GetClient(t.Context(), c.ID); err != nil {
		t.Fatalf("unowned client deleted: %v", err)
	}
}

func testCascadeAccount(t *testing.T, s storage.Store) {
	account(t, s, "acme")
	account(t, s, "globex")
	application(t, s, "acme", "billing")
	application(t, s, "globex", "billing")
	u := user(t, s, "alice")
	owned := &storage.Client{Name: "owned", Account: "acme", GrantTypes: []string{"password"}}
	must(t, s.CreateClient(t.Context(), owned))
	gone := []*storage.Grant{
		grantUser(t, s, u.ID, roles.Developer, "acme", "billing"),
		grantUser(t, s, u.ID, roles.AccountManager, "acme", ""),
	}
	kept := []*storage.Grant{
		grantUser(t, s, u.ID, roles.Developer, "globex", "billing"),
		grantUser(t, s, u.ID, roles.Administrator, "", ""),
	}
	must(t, s.DeleteAccount(t.Context(), "acme"))
	expectGrants(t, s, gone, kept)
	_, err := s.GetApplication(t.Context(), "acme", "billing")
	is(t, err, storage.ErrNotFound, "application of the deleted account")
	if _, err := s.GetApplication(t.Context(), "globex", "billing"); err != nil {
		t.Fatalf("other account's application deleted: %v", err)
	}
	_, err = s.GetClient(t.Context(), owned.ID)
	is(t, err, storage.ErrNotFound, "client owned by the deleted account")
	if _, err := s.GetUser(t.Context(), u.ID); err != nil {
		t.Fatalf("user deleted with an account: %v", err)
	}
}

func testCascadeUser(t *testing.T, s storage.Store) {
	a, b := user(t, s, "alice"), user(t, s, "bob")
	c := client(t, s, "web")
	gone := []*storage.Grant{grantUser(t, s, a.ID, roles.Administrator, "", "")}
	kept := []*storage.Grant{grantUser(t, s, b.ID, roles.Administrator, "", ""), grantClient(t, s, c.ID, roles.Administrator, "", "")}
	refreshToken(t, s, "ha", a.ID, c.ID, "")
	refreshToken(t, s, "hb", b.ID, c.ID, "")
	must(t, s.DeleteUser(t.Context(), a.ID))
	expectGrants(t, s, gone, kept)
	_, err := s.GetRefreshTokenByHash(t.Context(), "ha")
	is(t, err, storage.ErrNotFound, "refresh token of the deleted user")
	if _, err := s.GetRefreshTokenByHash(t.Context(), "hb"); err != nil {
		t.Fatalf("other user's refresh token deleted: %v", err)
	}
}

func testCascadeClient(t *testing.T, s storage.Store) {
	u := user(t, s, "alice")
	c, d := client(t, s, "web"), client(t, s, "other")
	gone := []*storage.Grant{grantClient(t, s, c.ID, roles.Administrator, "", "")}
	kept := []*storage.Grant{grantClient(t, s, d.ID, roles.Administrator, "", ""), grantUser(t, s, u.ID, roles.Administrator, "", "")}
	refreshToken(t, s, "hc", u.ID, c.ID, "")
	refreshToken(t, s, "hd", u.ID, d.ID, "")
	must(t, s.DeleteClient(t.Context(), c.ID))
	expectGrants(t, s, gone, kept)
	_, err := s.GetRefreshTokenByHash(t.Context(), "hc")
	is(t, err, storage.ErrNotFound, "refresh token of the deleted client")
	if _, err := s.GetRefreshTokenByHash(t.Context(), "hd"); err != nil {
		t.Fatalf("other client's refresh token deleted: %v", err)
	}
}

func testCascadeRole(t *testing.T, s storage.Store) {
	must(t, s.CreateRole(t.Context(), &storage.Role{Name: "auditor", Scope: roles.ScopeGlobal}))
	u := user(t, s, "alice")
	gone := []*storage.Grant{grantUser(t, s, u.ID, "auditor", "", "")}
	kept := []*storage.Grant{grantUser(t, s, u.ID, roles.Administrator, "", "")}
	must(t, s.DeleteRole(t.Context(), "auditor"))
	expectGrants(t, s, gone, kept)
}
