package admin_test

import (
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
)

// step is one call of the permission matrix, run in order on one server.
type step struct {
	who, method, path string
	body              any
	want              int
	save              map[string]string // variable → string member of the response
	check             func(t *testing.T, f *fixture, r reply)
}

type obj = map[string]any

// exactly checks that a list's items have these values of field (any order).
func exactly(field string, want ...string) func(*testing.T, *fixture, reply) {
	return func(t *testing.T, f *fixture, r reply) {
		t.Helper()
		w := make([]string, len(want))
		for i, s := range want {
			w[i] = f.expand(t, s)
		}
		sort.Strings(w)
		if got := r.field(field); !slices.Equal(got, w) {
			t.Errorf("%s = %v; want %v", field, got, w)
		}
	}
}

// includes checks that a list has at least these values of field.
func includes(field string, want ...string) func(*testing.T, *fixture, reply) {
	return func(t *testing.T, f *fixture, r reply) {
		t.Helper()
		got := r.field(field)
		for _, s := range want {
			if !slices.Contains(got, f.expand(t, s)) {
				t.Errorf("%s = %v; want it to include %s", field, got, s)
			}
		}
	}
}

// allIn checks that every item lies in account (and application, if set).
func allIn(account, application string) func(*testing.T, *fixture, reply) {
	return func(t *testing.T, _ *fixture, r reply) {
		t.Helper()
		if len(r.items()) == 0 {
			t.Errorf("empty list; want items in %s/%s", account, application)
		}
		for _, it := range r.items() {
			if it["account"] != account || (application != "" && it["application"] != application) {
				t.Errorf("item %v lies outside %s/%s", it, account, application)
			}
		}
	}
}

// matrix is issue 5's permission matrix as calls: each allowed call
// succeeds and each forbidden one gets 403, including cross-account calls
// and grants wider than the caller's own reach.
func matrix() []step {
	var s []step
	add := func(st ...step) { s = append(s, st...) }
	cast := []string{rootUser, acmeMgr, shopMgr, shopDev, shopUser, globexDev}

	// Every authenticated user: /me and the roles.
	for _, who := range cast {
		add(step{who: who, method: "GET", path: "/me", want: 200, check: func(t *testing.T, f *fixture, r reply) {
			if u, _ := r.JSON["user"].(map[string]any); u["username"] != who {
				t.Errorf("me = %v; want %s", r.JSON, who)
			}
		}})
		add(step{who: who, method: "GET", path: "/roles", want: 200, check: includes("name", "administrator", "account_manager", "application_manager", "developer", "consumer")})
		add(step{who: who, method: "GET", path: "/roles/developer", want: 200})
	}
	add(step{who: shopBot, method: "GET", path: "/me", want: 403},
		step{who: anonymous, method: "GET", path: "/me", want: 401},
		step{who: anonymous, method: "GET", path: "/roles", want: 401})

	// Accounts: administrators manage them; the others read their own.
	add(step{who: rootUser, method: "POST", path: "/accounts", body: obj{"name": "initech", "display_name": "Initech"}, want: 201},
		step{who: acmeMgr, method: "POST", path: "/accounts", body: obj{"name": "mine"}, want: 403},
		step{who: shopDev, method: "POST", path: "/accounts", body: obj{"name": "mine"}, want: 403},
		step{who: rootUser, method: "GET", path: "/accounts", want: 200, check: exactly("name", "acme", "globex", "initech")},
		step{who: acmeMgr, method: "GET", path: "/accounts", want: 200, check: exactly("name", "acme")},
		step{who: shopMgr, method: "GET", path: "/accounts", want: 200, check: exactly("name", "acme")},
		step{who: shopDev, method: "GET", path: "/accounts", want: 200, check: exactly("name", "acme")},
		step{who: shopUser, method: "GET", path: "/accounts", want: 200, check: exactly("name")},
		step{who: globexDev, method: "GET", path: "/accounts", want: 200, check: exactly("name", "globex")},
		step{who: acmeMgr, method: "GET", path: "/accounts/acme", want: 200},
		step{who: acmeMgr, method: "GET", path: "/accounts/globex", want: 403},
		step{who: acmeMgr, method: "GET", path: "/accounts/initech", want: 403},
		step{who: acmeMgr, method: "GET", path: "/accounts/no-such", want: 403},
		step{who: shopDev, method: "GET", path: "/accounts/acme", want: 200},
		step{who: shopUser, method: "GET", path: "/accounts/acme", want: 403},
		step{who: globexDev, method: "GET", path: "/accounts/acme", want: 403},
		step{who: acmeMgr, method: "PATCH", path: "/accounts/acme", body: obj{"display_name": "Mine"}, want: 403},
		step{who: rootUser, method: "PATCH", path: "/accounts/acme", body: obj{"display_name": "Acme Inc."}, want: 200},
		step{who: acmeMgr, method: "DELETE", path: "/accounts/initech", want: 403},
		step{who: rootUser, method: "DELETE", path: "/accounts/initech", want: 204},
		step{who: rootUser, method: "DELETE", path: "/accounts/initech", want: 404},
		step{who: rootUser, method: "GET", path: "/accounts/initech", want: 404})

	// Applications: account managers manage those of their account;
	// developers and application managers read their own.
	add(step{who: acmeMgr, method: "POST", path: "/accounts/acme/applications", body: obj{"name": "api"}, want: 201},
		step{who: acmeMgr, method: "POST", path: "/accounts/globex/applications", body: obj{"name": "api"}, want: 403},
		step{who: shopMgr, method: "POST", path: "/accounts/acme/applications", body: obj{"name": "x"}, want: 403},
		step{who: shopDev, method: "POST", path: "/accounts/acme/applications", body: obj{"name": "x"}, want: 403},
		step{who: globexDev, method: "POST", path: "/accounts/acme/applications", body: obj{"name": "x"}, want: 403},
		step{who: acmeMgr, method: "GET", path: "/accounts/acme/applications", want: 200, check: exactly("name", "api", "blog", "shop")},
		step{who: shopMgr, method: "GET", path: "/accounts/acme/applications", want: 200, check: exactly("name", "shop")},
		step{who: shopDev, method: "GET", path: "/accounts/acme/applications", want: 200, check: exactly("name", "shop")},
		step{who: shopUser, method: "GET", path: "/accounts/acme/applications", want: 403},
		step{who: globexDev, method: "GET", path: "/accounts/acme/applications", want: 403},
		step{who: globexDev, method: "GET", path: "/accounts/globex/applications", want: 200, check: exactly("name", "store")},
		step{who: shopDev, method: "GET", path: "/accounts/acme/applications/shop", want: 200},
		step{who: shopDev, method: "GET", path: "/accounts/acme/applications/blog", want: 403},
		step{who: shopMgr, method: "GET", path: "/accounts/acme/applications/shop", want: 200},
		step{who: shopUser, method: "GET", path: "/accounts/acme/applications/shop", want: 403},
		step{who: globexDev, method: "GET", path: "/accounts/acme/applications/shop", want: 403},
		step{who: acmeMgr, method: "PATCH", path: "/accounts/acme/applications/shop", body: obj{"display_name": "Web shop"}, want: 200},
		step{who: shopDev, method: "PATCH", path: "/accounts/acme/applications/shop", body: obj{"display_name": "x"}, want: 403},
		step{who: shopMgr, method: "PATCH", path: "/accounts/acme/applications/shop", body: obj{"display_name": "x"}, want: 403},
		step{who: acmeMgr, method: "PATCH", path: "/accounts/globex/applications/store", body: obj{"display_name": "x"}, want: 403},
		step{who: acmeMgr, method: "DELETE", path: "/accounts/globex/applications/store", want: 403},
		step{who: shopMgr, method: "DELETE", path: "/accounts/acme/applications/shop", want: 403},
		step{who: acmeMgr, method: "DELETE", path: "/accounts/acme/applications/api", want: 204})

	// Users: account managers create users and read those holding a grant
	// in their account; application managers read those on their
	// application; only administrators change or delete users.
	add(step{who: acmeMgr, method: "POST", path: "/users", body: obj{"username": "newbie", "password": password}, want: 201, save: map[string]string{"newbie": "id"}},
		step{who: shopMgr, method: "POST", path: "/users", body: obj{"username": "x1", "password": password}, want: 403},
		step{who: shopDev, method: "POST", path: "/users", body: obj{"username": "x2", "password": password}, want: 403},
		step{who: shopUser, method: "POST", path: "/users", body: obj{"username": "x3", "password": password}, want: 403},
		step{who: globexDev, method: "POST", path: "/users", body: obj{"username": "x4", "password": password}, want: 403},
		step{who: rootUser, method: "GET", path: "/users", want: 200, check: exactly("username",
			rootUser, acmeMgr, shopMgr, shopDev, shopUser, globexDev, "bob", "carol", "newbie")},
		step{who: acmeMgr, method: "GET", path: "/users", want: 200, check: exactly("username", acmeMgr, shopMgr, shopDev, shopUser, "bob")},
		step{who: acmeMgr, method: "GET", path: "/users?application=blog", want: 200, check: exactly("username", "bob")},
		step{who: acmeMgr, method: "GET", path: "/users?account=globex", want: 403},
		step{who: shopMgr, method: "GET", path: "/users", want: 200, check: exactly("username", shopMgr, shopDev, shopUser)},
		step{who: shopMgr, method: "GET", path: "/users?account=acme&application=blog", want: 403},
		step{who: shopDev, method: "GET", path: "/users", want: 403},
		step{who: shopUser, method: "GET", path: "/users", want: 403},
		step{who: globexDev, method: "GET", path: "/users", want: 403},
		step{who: acmeMgr, method: "GET", path: "/users/{bob}", want: 200},
		step{who: acmeMgr, method: "GET", path: "/users/bob", want: 200},
		step{who: acmeMgr, method: "GET", path: "/users/{carol}", want: 403},
		step{who: acmeMgr, method: "GET", path: "/users/{newbie}", want: 403},
		step{who: acmeMgr, method: "GET", path: "/users/nobody", want: 403},
		step{who: rootUser, method: "GET", path: "/users/nobody", want: 404},
		step{who: shopMgr, method: "GET", path: "/users/{bob}", want: 403},
		step{who: shopMgr, method: "GET", path: "/users/{shop-user}", want: 200},
		step{who: shopUser, method: "GET", path: "/users/{shop-user}", want: 200},
		step{who: shopUser, method: "GET", path: "/users/{shop-dev}", want: 403},
		step{who: acmeMgr, method: "PATCH", path: "/users/{bob}", body: obj{"email": "bob@example.org"}, want: 403},
		step{who: rootUser, method: "PATCH", path: "/users/bob", body: obj{"email": "bob@example.org"}, want: 200},
		step{who: acmeMgr, method: "DELETE", path: "/users/{bob}", want: 403})

	// Grants: nobody grants wider than their reach; only administrators
	// grant administrator and account_manager.
	add(step{who: acmeMgr, method: "POST", path: "/grants", body: obj{"username": "newbie", "role": "developer", "account": "acme", "application": "blog"}, want: 201, save: map[string]string{"g-newbie-blog": "id"}},
		step{who: acmeMgr, method: "GET", path: "/users/{newbie}", want: 200},
		step{who: acmeMgr, method: "POST", path: "/grants", body: obj{"username": "newbie", "role": "account_manager", "account": "acme"}, want: 403},
		step{who: acmeMgr, method: "POST", path: "/grants", body: obj{"username": "newbie", "role": "administrator"}, want: 403},
		step{who: acmeMgr, method: "POST", path: "/grants", body: obj{"username": "newbie", "role": "developer", "account": "globex", "application": "store"}, want: 403},
		step{who: acmeMgr, method: "POST", path: "/grants", body: obj{"username": "newbie", "role": "application_manager", "account": "acme", "application": "shop"}, want: 201, save: map[string]string{"g-newbie-mgr": "id"}},
		step{who: shopMgr, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "developer", "account": "acme", "application": "shop"}, want: 201, save: map[string]string{"g-bob-dev": "id"}},
		step{who: shopMgr, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "developer", "account": "acme", "application": "blog"}, want: 403},
		step{who: shopMgr, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "application_manager", "account": "acme", "application": "shop"}, want: 403},
		step{who: shopMgr, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "account_manager", "account": "acme"}, want: 403},
		step{who: shopMgr, method: "POST", path: "/grants", body: obj{"client_id": "{blog-client}", "role": "consumer", "account": "acme", "application": "shop"}, want: 201},
		step{who: shopDev, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "consumer", "account": "acme", "application": "shop"}, want: 403},
		step{who: shopUser, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "consumer", "account": "acme", "application": "shop"}, want: 403},
		step{who: globexDev, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "consumer", "account": "acme", "application": "shop"}, want: 403},
		step{who: shopBot, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "consumer", "account": "acme", "application": "shop"}, want: 403},
		step{who: rootUser, method: "POST", path: "/grants", body: obj{"username": "newbie", "role": "account_manager", "account": "acme"}, want: 201, save: map[string]string{"g-newbie-am": "id"}},
		step{who: shopMgr, method: "GET", path: "/grants", want: 200, check: allIn("acme", "shop")},
		step{who: acmeMgr, method: "GET", path: "/grants", want: 200, check: allIn("acme", "")},
		step{who: acmeMgr, method: "GET", path: "/grants?username=bob", want: 200, check: exactly("role", "consumer", "developer")},
		step{who: acmeMgr, method: "GET", path: "/grants?account=globex", want: 403},
		step{who: globexDev, method: "GET", path: "/grants", want: 403},
		step{who: shopDev, method: "GET", path: "/grants", want: 403},
		step{who: shopMgr, method: "GET", path: "/grants/{g-newbie-blog}", want: 403},
		step{who: acmeMgr, method: "GET", path: "/grants/{g-newbie-blog}", want: 200},
		step{who: globexDev, method: "GET", path: "/grants/{g-newbie-blog}", want: 403},
		step{who: shopMgr, method: "GET", path: "/grants/{g-bob-dev}", want: 200},
		step{who: shopMgr, method: "GET", path: "/grants/{g-newbie-am}", want: 403},
		step{who: acmeMgr, method: "DELETE", path: "/grants/{g-newbie-am}", want: 403},
		step{who: shopMgr, method: "DELETE", path: "/grants/{g-newbie-mgr}", want: 403},
		step{who: shopMgr, method: "DELETE", path: "/grants/{g-bob-dev}", want: 204},
		step{who: shopMgr, method: "DELETE", path: "/grants/{g-bob-dev}", want: 403},
		step{who: rootUser, method: "DELETE", path: "/grants/{g-bob-dev}", want: 404},
		step{who: acmeMgr, method: "DELETE", path: "/grants/{g-newbie-mgr}", want: 204},
		step{who: rootUser, method: "DELETE", path: "/grants/{g-newbie-am}", want: 204})

	// Clients: developers manage those of their application, account
	// managers those of their account, administrators all.
	cc := func(account, application string) obj {
		return obj{"name": "svc", "grant_types": []string{"client_credentials"}, "account": account, "application": application}
	}
	add(step{who: shopDev, method: "POST", path: "/clients", body: cc("acme", "shop"), want: 201, save: map[string]string{"c-dev": "client_id"},
		check: func(t *testing.T, _ *fixture, r reply) {
			if s, _ := r.JSON["client_secret"].(string); len(s) < 32 {
				t.Errorf("client_secret = %q", s)
			}
		}},
		step{who: shopDev, method: "POST", path: "/clients", body: cc("acme", "blog"), want: 403},
		step{who: shopDev, method: "POST", path: "/clients", body: cc("acme", ""), want: 403},
		step{who: shopDev, method: "POST", path: "/clients", body: cc("", ""), want: 403},
		step{who: shopMgr, method: "POST", path: "/clients", body: cc("acme", "shop"), want: 403},
		step{who: shopUser, method: "POST", path: "/clients", body: cc("acme", "shop"), want: 403},
		step{who: globexDev, method: "POST", path: "/clients", body: cc("acme", "shop"), want: 403},
		step{who: acmeMgr, method: "POST", path: "/clients", body: cc("acme", ""), want: 201, save: map[string]string{"c-mgr": "client_id"}},
		step{who: acmeMgr, method: "POST", path: "/clients", body: cc("globex", "store"), want: 403},
		step{who: acmeMgr, method: "POST", path: "/clients", body: cc("", ""), want: 403},
		step{who: rootUser, method: "POST", path: "/clients", body: cc("", ""), want: 201},
		step{who: shopDev, method: "GET", path: "/clients", want: 200, check: exactly("client_id", "{shop-client}", "{c-dev}")},
		step{who: shopBot, method: "GET", path: "/clients", want: 200, check: exactly("client_id", "{shop-client}", "{c-dev}")},
		step{who: acmeMgr, method: "GET", path: "/clients", want: 200, check: allIn("acme", "")},
		step{who: acmeMgr, method: "GET", path: "/clients?application=blog", want: 200, check: exactly("client_id", "{blog-client}")},
		step{who: globexDev, method: "GET", path: "/clients", want: 200, check: exactly("client_id", "{globex-client}")},
		step{who: shopDev, method: "GET", path: "/clients?account=globex", want: 403},
		step{who: shopUser, method: "GET", path: "/clients", want: 403},
		step{who: shopMgr, method: "GET", path: "/clients", want: 403},
		step{who: shopDev, method: "GET", path: "/clients/{shop-client}", want: 200},
		step{who: shopDev, method: "GET", path: "/clients/{blog-client}", want: 403},
		step{who: shopDev, method: "GET", path: "/clients/{acme-client}", want: 403},
		step{who: shopDev, method: "GET", path: "/clients/{root-client}", want: 403},
		step{who: shopDev, method: "GET", path: "/clients/no-such", want: 403},
		step{who: acmeMgr, method: "GET", path: "/clients/{shop-client}", want: 200},
		step{who: acmeMgr, method: "GET", path: "/clients/{root-client}", want: 403},
		step{who: rootUser, method: "GET", path: "/clients/{root-client}", want: 200},
		step{who: globexDev, method: "GET", path: "/clients/{shop-client}", want: 403},
		step{who: globexDev, method: "PATCH", path: "/clients/{shop-client}", body: obj{"name": "mine"}, want: 403},
		step{who: globexDev, method: "DELETE", path: "/clients/{shop-client}", want: 403},
		step{who: shopDev, method: "PATCH", path: "/clients/{c-dev}", body: obj{"name": "shop backend"}, want: 200},
		step{who: shopDev, method: "PATCH", path: "/clients/{acme-client}", body: obj{"name": "mine"}, want: 403},
		step{who: shopDev, method: "DELETE", path: "/clients/{c-dev}", want: 204},
		step{who: shopDev, method: "DELETE", path: "/clients/{c-dev}", want: 403},
		step{who: rootUser, method: "DELETE", path: "/clients/{c-dev}", want: 404},
		step{who: acmeMgr, method: "DELETE", path: "/clients/{c-mgr}", want: 204})

	// Custom roles: administrators add, grant and delete them.
	add(step{who: acmeMgr, method: "POST", path: "/roles", body: obj{"name": "auditor", "scope": "account"}, want: 403},
		step{who: shopDev, method: "POST", path: "/roles", body: obj{"name": "auditor", "scope": "account"}, want: 403},
		step{who: rootUser, method: "POST", path: "/roles", body: obj{"name": "auditor", "scope": "account"}, want: 201},
		step{who: acmeMgr, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "auditor", "account": "acme"}, want: 403},
		step{who: rootUser, method: "POST", path: "/grants", body: obj{"username": "bob", "role": "auditor", "account": "acme"}, want: 201},
		step{who: shopUser, method: "GET", path: "/roles/auditor", want: 200},
		step{who: acmeMgr, method: "DELETE", path: "/roles/auditor", want: 403},
		step{who: rootUser, method: "DELETE", path: "/roles/developer", want: 400},
		step{who: rootUser, method: "DELETE", path: "/roles/auditor", want: 204},
		step{who: rootUser, method: "DELETE", path: "/roles/auditor", want: 404})

	// Keys and the audit log: administrators only.
	add(step{who: rootUser, method: "GET", path: "/keys", want: 200, check: exactly("state", "active")},
		step{who: acmeMgr, method: "GET", path: "/keys", want: 403},
		step{who: shopDev, method: "GET", path: "/keys", want: 403},
		step{who: acmeMgr, method: "POST", path: "/keys/rotate", want: 403},
		step{who: rootUser, method: "POST", path: "/keys/rotate", want: 201},
		step{who: rootUser, method: "POST", path: "/keys/rotate", want: 200},
		step{who: rootUser, method: "GET", path: "/keys", want: 200, check: exactly("state", "active", "next")},
		step{who: rootUser, method: "GET", path: "/audit", want: 200},
		step{who: acmeMgr, method: "GET", path: "/audit", want: 403},
		step{who: shopUser, method: "GET", path: "/audit", want: 403})

	// Users are deleted by administrators only.
	add(step{who: acmeMgr, method: "DELETE", path: "/users/{newbie}", want: 403},
		step{who: rootUser, method: "DELETE", path: "/users/{newbie}", want: 204},
		step{who: rootUser, method: "DELETE", path: "/users/{newbie}", want: 404})
	return s
}

func TestPermissionMatrix(t *testing.T) {
	backends(t, func(t *testing.T, o servertest.Options) {
		f := newFixture(t, o)
		for i, st := range matrix() {
			r := f.call(t, st.who, st.method, st.path, st.body)
			if r.Status != st.want {
				t.Errorf("step %d: %s as %q: %s %s = %d; want %d (%s)", i, "call", st.who, st.method, st.path, r.Status, st.want, r.Body)
				continue
			}
			if r.Status == http.StatusForbidden && r.JSON["error"] != "forbidden" {
				t.Errorf("step %d: 403 body = %s", i, r.Body)
			}
			for v, field := range st.save {
				s, _ := r.JSON[field].(string)
				if s == "" {
					t.Fatalf("step %d: no %s in %s", i, field, r.Body)
				}
				f.vars[v] = s
			}
			if st.check != nil {
				t.Run(st.method+" "+st.path+" as "+st.who, func(t *testing.T) { st.check(t, f, r) })
			}
		}
	})
}

// TestListsRevealOnlyReadableRows: for every caller, every row of every
// list they may read is one a GET of it allows.
func TestListsRevealOnlyReadableRows(t *testing.T) {
	backends(t, func(t *testing.T, o servertest.Options) {
		f := newFixture(t, o)
		// Some grants to make the lists interesting.
		f.call(t, rootUser, "POST", "/grants", obj{"username": "carol", "role": "developer", "account": "acme", "application": "blog"})
		f.call(t, rootUser, "POST", "/grants", obj{"client_id": "{globex-client}", "role": "consumer", "account": "acme", "application": "shop"})
		lists := []struct {
			path string
			item func(m map[string]any) string
		}{
			{"/accounts", func(m map[string]any) string { return "/accounts/" + m["name"].(string) }},
			{"/accounts/acme/applications", func(m map[string]any) string { return "/accounts/acme/applications/" + m["name"].(string) }},
			{"/accounts/globex/applications", func(m map[string]any) string { return "/accounts/globex/applications/" + m["name"].(string) }},
			{"/users", func(m map[string]any) string { return "/users/" + m["id"].(string) }},
			{"/grants", func(m map[string]any) string { return "/grants/" + m["id"].(string) }},
			{"/clients", func(m map[string]any) string { return "/clients/" + m["client_id"].(string) }},
			{"/roles", func(m map[string]any) string { return "/roles/" + m["name"].(string) }},
		}
		for _, who := range []string{rootUser, acmeMgr, shopMgr, shopDev, shopUser, globexDev, shopBot} {
			for _, l := range lists {
				r := f.call(t, who, "GET", l.path+"?limit=500", nil)
				if r.Status == http.StatusForbidden {
					continue
				}
				wantStatus(t, r, http.StatusOK)
				for _, it := range r.items() {
					if g := f.call(t, who, "GET", l.item(it), nil); g.Status != http.StatusOK {
						t.Errorf("%s lists %s but GET %s = %d", who, l.path, l.item(it), g.Status)
					}
				}
			}
		}
	})
}
