package identity_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func TestLastAdministratorIsKept(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := t.Context()
	root, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "root", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "root", Role: "administrator"})
	if err != nil {
		t.Fatal(err)
	}
	off := false
	refused := map[string]error{}
	_, refused["disable"] = svc.DisableUser(ctx, identity.CLI, "root")
	_, refused["update inactive"] = svc.UpdateUser(ctx, identity.CLI, root.ID, identity.UserUpdate{Active: &off})
	refused["delete"] = svc.DeleteUser(ctx, identity.CLI, "root")
	_, refused["revoke"] = svc.Revoke(ctx, identity.CLI, identity.GrantRequest{Username: "root", Role: "administrator"})
	_, refused["revoke by id"] = svc.RevokeGrant(ctx, identity.CLI, g.ID)
	for op, err := range refused {
		if !errors.Is(err, identity.ErrLastAdministrator) || !errors.Is(err, identity.ErrConflict) {
			t.Errorf("%s of the last administrator = %v; want ErrLastAdministrator", op, err)
		}
	}
	// Nothing was half-written.
	if u, err := st.GetUser(ctx, root.ID); err != nil || !u.Active {
		t.Fatalf("root after refusals = %+v, %v", u, err)
	}
	if n, _ := st.CountActiveAdministrators(ctx); n != 1 {
		t.Fatalf("administrators = %d; want 1", n)
	}
	// With a second administrator the first may go.
	if _, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "deputy", Password: "long enough"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "deputy", Role: "administrator"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeGrant(ctx, identity.CLI, g.ID); err != nil {
		t.Fatalf("revoke with a deputy: %v", err)
	}
	// Disabling a user who is not an administrator never trips the guard,
	// even with no administrator at all.
	if _, err := svc.DisableUser(ctx, identity.CLI, "root"); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	svc, st, rec := newService(t)
	ctx := t.Context()
	if _, err := svc.CreateAccount(ctx, identity.CLI, identity.NewAccount{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateApplication(ctx, identity.CLI, identity.NewApplication{Account: "acme", Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "alice", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "alice", Role: "developer", Account: "acme", Application: "shop"}); err != nil {
		t.Fatal(err)
	}
	bad := "x\x00"
	_, err = svc.UpdateAccount(ctx, identity.CLI, "acme", identity.AccountUpdate{DisplayName: &bad})
	mustFields(t, err, "display_name")
	name := "Acme Inc."
	if a, err := svc.UpdateAccount(ctx, identity.CLI, "acme", identity.AccountUpdate{DisplayName: &name}); err != nil || a.DisplayName != name {
		t.Fatalf("UpdateAccount = %+v, %v", a, err)
	}
	if _, err := svc.UpdateApplication(ctx, identity.CLI, "acme", "nope", identity.ApplicationUpdate{DisplayName: &name}); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("UpdateApplication(missing) = %v", err)
	}

	err = svc.ChangePassword(ctx, identity.Actor{ID: u.ID}, u.ID, "wrong password", "a new password")
	mustFields(t, err, "old_password")
	if err := svc.ChangePassword(ctx, identity.Actor{ID: u.ID}, u.ID, "long enough", "a new password"); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetUser(ctx, u.ID)
	if ok, _, _ := svc.Hasher.Verify(ctx, got.PasswordHash, "a new password"); !ok {
		t.Fatal("new password does not verify")
	}

	cl, err := svc.CreateClient(ctx, identity.CLI, identity.NewClient{Name: "svc", GrantTypes: []string{"client_credentials"}, Account: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	badGT := []string{"implicit"}
	_, err = svc.UpdateClient(ctx, identity.CLI, cl.ID, identity.ClientUpdate{GrantTypes: &badGT})
	mustFields(t, err, "grant_types")
	newName := "billing service"
	if c, err := svc.UpdateClient(ctx, identity.CLI, cl.ID, identity.ClientUpdate{Name: &newName}); err != nil || c.Name != newName || !slices.Equal(c.GrantTypes, []string{"client_credentials"}) {
		t.Fatalf("UpdateClient = %+v, %v", c, err)
	}
	if err := svc.DeleteClient(ctx, identity.CLI, cl.ID); err != nil {
		t.Fatal(err)
	}

	// Deleting the account takes its grants and tells Events.
	if err := svc.DeleteAccount(ctx, identity.CLI, "acme"); err != nil {
		t.Fatal(err)
	}
	if gs, _ := st.RoleGrantsOfUser(ctx, u.ID); len(gs) != 0 {
		t.Fatalf("grants after account deletion = %v", gs)
	}
	if !slices.Contains(rec.events, "grants "+u.ID) || !slices.Contains(rec.events, "password "+u.ID) {
		t.Fatalf("events = %v", rec.events)
	}
	recs, _, err := st.ListAudit(ctx, storage.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	for _, want := range []string{"account.update", "user.update", "client.update", "client.delete", "account.delete"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit has no %s: %v", want, actions)
		}
	}
}

func TestDeleteRole(t *testing.T) {
	svc, st, rec := newService(t)
	ctx := t.Context()
	if err := svc.DeleteRole(ctx, identity.CLI, "developer"); !errors.Is(err, identity.ErrBuiltinRole) || !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("DeleteRole(built-in) = %v", err)
	}
	if _, err := svc.CreateRole(ctx, identity.CLI, identity.NewRole{Name: "auditor", Scope: "global"}); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, identity.CLI, identity.NewUser{Username: "alice", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, identity.CLI, identity.GrantRequest{Username: "alice", Role: "auditor"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteRole(ctx, identity.CLI, "auditor"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetRole(ctx, "auditor"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("role after delete: %v", err)
	}
	if gs, _ := st.RoleGrantsOfUser(ctx, u.ID); len(gs) != 0 {
		t.Fatalf("grants of a deleted role remain: %v", gs)
	}
	if !slices.Contains(rec.events, "grants "+u.ID) {
		t.Fatalf("events = %v", rec.events)
	}
}
