package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

func wantStatus(t *testing.T, r reply, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d; want %d (%s)", r.Status, status, r.Body)
	}
}

func wantField(t *testing.T, r reply, field string) {
	t.Helper()
	wantStatus(t, r, http.StatusBadRequest)
	fields, _ := r.JSON["fields"].(map[string]any)
	if r.JSON["error"] != "invalid_request" || fields[field] == nil {
		t.Fatalf("400 body = %s; want fields.%s", r.Body, field)
	}
}

func TestValidationConflictsAndMissing(t *testing.T) {
	backends(t, func(t *testing.T, o servertest.Options) {
		f := newFixture(t, o)
		wantField(t, f.call(t, rootUser, "POST", "/accounts", obj{"name": "Not A Slug"}), "name")
		wantField(t, f.call(t, rootUser, "POST", "/users", obj{"username": "dora", "password": "short"}), "password")
		wantField(t, f.call(t, rootUser, "POST", "/users", obj{"username": "dora", "password": password, "email": "nope"}), "email")
		wantField(t, f.call(t, rootUser, "POST", "/accounts", obj{"name": 42}), "name")
		wantField(t, f.call(t, rootUser, "GET", "/users?limit=0", nil), "limit")
		wantField(t, f.call(t, rootUser, "GET", "/users?cursor=%21%21", nil), "cursor")
		wantField(t, f.call(t, acmeMgr, "GET", "/users?cursor=%21%21", nil), "cursor")
		wantField(t, f.call(t, rootUser, "POST", "/grants", obj{"username": "bob", "client_id": "{shop-client}", "role": "consumer", "account": "acme", "application": "shop"}), "username")
		wantField(t, f.call(t, rootUser, "POST", "/grants", obj{"username": "bob", "role": "developer", "account": "acme"}), "application")
		wantField(t, f.call(t, shopDev, "POST", "/clients", obj{"name": "x", "grant_types": []string{"implicit"}, "account": "acme", "application": "shop"}), "grant_types")
		wantField(t, f.call(t, shopDev, "PATCH", "/clients/{shop-client}", obj{"redirect_uris": []string{"not a url"}}), "redirect_uris")
		wantStatus(t, f.call(t, rootUser, "POST", "/accounts", obj{"name": "acme2", "colour": "red"}), http.StatusBadRequest)
		wantStatus(t, f.call(t, rootUser, "POST", "/accounts", "not an object"), http.StatusBadRequest)

		wantStatus(t, f.call(t, rootUser, "POST", "/accounts", obj{"name": "acme"}), http.StatusConflict)
		wantStatus(t, f.call(t, acmeMgr, "POST", "/accounts/acme/applications", obj{"name": "shop"}), http.StatusConflict)
		wantStatus(t, f.call(t, acmeMgr, "POST", "/users", obj{"username": "BOB", "password": password}), http.StatusConflict)
		wantStatus(t, f.call(t, shopMgr, "POST", "/grants", obj{"username": "shop-user", "role": "consumer", "account": "acme", "application": "shop"}), http.StatusConflict)

		wantStatus(t, f.call(t, rootUser, "GET", "/accounts/nope", nil), http.StatusNotFound)
		wantStatus(t, f.call(t, rootUser, "POST", "/accounts/nope/applications", obj{"name": "x"}), http.StatusNotFound)
		wantStatus(t, f.call(t, rootUser, "GET", "/accounts/nope/applications", nil), http.StatusNotFound)
		wantStatus(t, f.call(t, rootUser, "GET", "/roles/nope", nil), http.StatusNotFound)
		wantStatus(t, f.call(t, rootUser, "POST", "/grants", obj{"username": "nobody", "role": "consumer", "account": "acme", "application": "shop"}), http.StatusNotFound)
		wantStatus(t, f.call(t, shopMgr, "POST", "/grants", obj{"username": "bob", "role": "consumer", "account": "acme", "application": "shop", "x": 1}), http.StatusBadRequest)
		wantStatus(t, f.call(t, rootUser, "PATCH", "/users/nobody", obj{"email": "a@b.c"}), http.StatusNotFound)

		// Nothing was half-written: the refused account does not exist.
		wantStatus(t, f.call(t, rootUser, "GET", "/accounts/acme2", nil), http.StatusNotFound)
	})
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	r := f.call(t, anonymous, "GET", "/accounts", nil)
	wantStatus(t, r, http.StatusUnauthorized)
	if h := r.Header.Get("WWW-Authenticate"); h != `Bearer realm="portcullis"` {
		t.Errorf("challenge without a token = %q", h)
	}
	f.tok["forged"] = f.tok[rootUser][:len(f.tok[rootUser])-4] + "AAAA"
	r = f.call(t, "forged", "GET", "/accounts", nil)
	wantStatus(t, r, http.StatusUnauthorized)
	if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
		t.Errorf("challenge for a bad token = %q", h)
	}
	// An expired token is refused.
	f.s.Clock.Advance(f.s.Options.AccessTTL + time.Minute)
	wantStatus(t, f.call(t, rootUser, "GET", "/me", nil), http.StatusUnauthorized)
}

// revokeOnChange stands in for the revocation emitter: it records a "sub"
// event, as the logout issue's emitter does, so the admin API's
// revocation check can be seen to refuse the old tokens.
type revokeOnChange struct {
	st  storage.Store
	now func() time.Time
}

func (r revokeOnChange) add(ctx context.Context, sub string) {
	now := r.now()
	_ = r.st.AppendRevocationEvent(ctx, &storage.RevocationEvent{Kind: "sub", Subject: sub, NotBefore: now.Add(time.Second),
		ExpiresAt: now.Add(time.Hour), CreatedAt: now})
}
func (r revokeOnChange) UserDisabled(ctx context.Context, id string)          { r.add(ctx, id) }
func (r revokeOnChange) GrantsChanged(ctx context.Context, id, client string) { r.add(ctx, id+client) }
func (r revokeOnChange) PasswordChanged(ctx context.Context, id string)       { r.add(ctx, id) }

func TestLastAdministratorAndRevokedCaller(t *testing.T) {
	backends(t, func(t *testing.T, o servertest.Options) {
		f := newFixture(t, o)
		f.s.Identity.Events = revokeOnChange{st: f.s.Store, now: f.s.Clock.Now}
		r := f.call(t, rootUser, "GET", "/grants?username=root&role=administrator", nil)
		wantStatus(t, r, http.StatusOK)
		f.vars["root-admin"] = r.field("id")[0]

		for _, c := range []struct{ method, path string }{
			{"DELETE", "/grants/{root-admin}"},
			{"PATCH", "/users/{root}"},
			{"DELETE", "/users/root"},
		} {
			r := f.call(t, rootUser, c.method, c.path, obj{"active": false})
			if c.method == "DELETE" {
				r = f.call(t, rootUser, c.method, c.path, nil)
			}
			wantStatus(t, r, http.StatusConflict)
			if !strings.Contains(r.JSON["error_description"].(string), "last active administrator") {
				t.Errorf("%s %s: %s", c.method, c.path, r.Body)
			}
		}
		// A second administrator; then the first may be disabled, and
		// their token stops working at once.
		wantStatus(t, f.call(t, rootUser, "POST", "/grants", obj{"username": acmeMgr, "role": "administrator"}), http.StatusCreated)
		wantStatus(t, f.call(t, rootUser, "PATCH", "/users/{root}", obj{"active": false}), http.StatusOK)
		f.s.Clock.Advance(2 * time.Second)
		r = f.call(t, rootUser, "GET", "/accounts", nil)
		wantStatus(t, r, http.StatusUnauthorized)
		if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, "revoked") {
			t.Errorf("challenge for a revoked token = %q", h)
		}
	})
}

func TestPagination(t *testing.T) {
	backends(t, func(t *testing.T, o servertest.Options) {
		f := newFixture(t, o)
		for i := range 7 {
			name := fmt.Sprintf("page-%d", i)
			wantStatus(t, f.call(t, rootUser, "POST", "/users", obj{"username": name, "password": password}), http.StatusCreated)
			wantStatus(t, f.call(t, acmeMgr, "POST", "/grants", obj{"username": name, "role": "consumer", "account": "acme", "application": "blog"}), http.StatusCreated)
		}
		walk := func(who, query string, limit int) []string {
			var all []string
			cursor, pages := "", 0
			for {
				r := f.call(t, who, "GET", fmt.Sprintf("/users?%slimit=%d&cursor=%s", query, limit, url.QueryEscape(cursor)), nil)
				wantStatus(t, r, http.StatusOK)
				if n := len(r.items()); n > limit {
					t.Fatalf("page of %d items for limit %d", n, limit)
				}
				all = append(all, r.field("username")...)
				pages++
				cursor, _ = r.JSON["next_cursor"].(string)
				if cursor == "" {
					break
				}
				if pages > 50 {
					t.Fatal("pagination does not end")
				}
			}
			slices.Sort(all)
			if len(slices.Compact(slices.Clone(all))) != len(all) {
				t.Fatalf("%s saw duplicates across pages: %v", who, all)
			}
			return all
		}
		everyone := walk(rootUser, "", 500)
		if got := walk(rootUser, "", 3); !slices.Equal(got, everyone) || len(got) != 15 {
			t.Fatalf("administrator pages = %v; want %v (15)", got, everyone)
		}
		inBlog := walk(acmeMgr, "application=blog&", 500)
		if got := walk(acmeMgr, "application=blog&", 2); !slices.Equal(got, inBlog) || len(got) != 8 {
			t.Fatalf("account manager pages = %v; want %v (8)", got, inBlog)
		}
		if got := walk(acmeMgr, "username=page-&", 4); len(got) != 7 {
			t.Fatalf("username prefix filter = %v", got)
		}
	})
}

func TestAuditOfChanges(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	wantStatus(t, f.call(t, rootUser, "PATCH", "/users/bob", obj{"active": false, "password": "a brand new password"}), http.StatusOK)
	r := f.call(t, rootUser, "GET", "/audit?limit=1", nil)
	wantStatus(t, r, http.StatusOK)
	items := r.items()
	if len(items) != 1 || r.JSON["next_cursor"] == nil {
		t.Fatalf("audit page = %s", r.Body)
	}
	rec := items[0]
	before, _ := rec["before"].(map[string]any)
	after, _ := rec["after"].(map[string]any)
	if rec["action"] != "user.update" || rec["actor"] != f.vars[rootUser] || rec["target"] != f.vars["bob"] ||
		before["active"] != true || after["active"] != false || !strings.HasPrefix(rec["request_id"].(string), "test-") {
		t.Fatalf("audit record = %v", rec)
	}
	if strings.Contains(string(r.Body), "argon2") || strings.Contains(strings.ToLower(string(r.Body)), "password") {
		t.Fatalf("audit leaks a password or hash: %s", r.Body)
	}
	// Refused calls write nothing.
	wantStatus(t, f.call(t, acmeMgr, "DELETE", "/users/{bob}", nil), http.StatusForbidden)
	r2 := f.call(t, rootUser, "GET", "/audit?limit=1", nil)
	if r2.items()[0]["id"] != rec["id"] {
		t.Fatalf("a refused call was audited: %s", r2.Body)
	}
}

func TestOwnPassword(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	wantField(t, f.call(t, shopUser, "POST", "/me/password", obj{"old_password": "wrong password", "password": "a brand new password"}), "old_password")
	wantField(t, f.call(t, shopUser, "POST", "/me/password", obj{"old_password": password, "password": "short"}), "password")
	wantStatus(t, f.call(t, shopBot, "POST", "/me/password", obj{"old_password": password, "password": "a brand new password"}), http.StatusForbidden)
	wantStatus(t, f.call(t, shopUser, "POST", "/me/password", obj{"old_password": password, "password": "a brand new password"}), http.StatusNoContent)
	id, secret := f.s.CreateClient(t, servertest.Client{})
	if tr := f.s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {shopUser}, "password": {password}}); tr.Status == http.StatusOK {
		t.Fatal("the old password still works")
	}
	f.s.PasswordToken(t, id, secret, shopUser, "a brand new password")
}

func TestMeShowsCurrentGrants(t *testing.T) {
	f := newFixture(t, servertest.Options{})
	wantStatus(t, f.call(t, shopMgr, "POST", "/grants", obj{"username": shopUser, "role": "developer", "account": "acme", "application": "shop"}), http.StatusCreated)
	r := f.call(t, shopUser, "GET", "/me", nil)
	wantStatus(t, r, http.StatusOK)
	var got []string
	for _, g := range r.JSON["grants"].([]any) {
		m := g.(map[string]any)
		got = append(got, roles.Grant{Role: m["role"].(string), Account: m["account"].(string), Application: m["application"].(string)}.String())
	}
	slices.Sort(got)
	if want := []string{"consumer:acme/shop", "developer:acme/shop"}; !slices.Equal(got, want) {
		t.Fatalf("me grants = %v; want %v", got, want)
	}
}
