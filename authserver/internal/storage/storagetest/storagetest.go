package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

// RunTests runs every conformance case against stores made by newStore,
// which must return a fresh, migrated store (holding only the built-in
// roles) on each call and close it at test cleanup.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s storage.Store)
	}{
		{"Ping", testPing},
		{"Accounts", testAccounts},
		{"AccountsPagination", testAccountsPagination},
		{"Applications", testApplications},
		{"ApplicationsPagination", testApplicationsPagination},
		{"Roles", testRoles},
		{"Users", testUsers},
		{"UsersCaseInsensitive", testUsersCaseInsensitive},
		{"UsersListFilters", testUsersListFilters},
		{"GrantScopeRules", testGrantScopeRules},
		{"GrantsCRUD", testGrantsCRUD},
		{"GrantsList", testGrantsList},
		{"CountActiveAdministrators", testCountActiveAdministrators},
		{"Clients", testClients},
		{"CascadeApplication", testCascadeApplication},
		{"CascadeAccount", testCascadeAccount},
		{"CascadeUser", testCascadeUser},
		{"CascadeClient", testCascadeClient},
		{"CascadeRole", testCascadeRole},
		{"SigningKeys", testSigningKeys},
		{"RefreshTokens", testRefreshTokens},
		{"RefreshTokenMarkUsedRace", testRefreshTokenMarkUsedRace},
		{"RefreshTokenRevocation", testRefreshTokenRevocation},
		{"RevocationEvents", testRevocationEvents},
		{"RevocationEventsConcurrent", testRevocationEventsConcurrent},
		{"Audit", testAudit},
		{"TxCommit", testTxCommit},
		{"TxRollback", testTxRollback},
		{"TxNested", testTxNested},
		{"ConcurrentSameUsername", testConcurrentSameUsername},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentUpdatesKeepEveryWrite", testConcurrentUpdatesKeepEveryWrite},
		{"TimesRoundTrip", testTimesRoundTrip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// --- helpers ---------------------------------------------------------------

// at is a fixed instant with sub-second digits, for time round trips.
var at = time.Date(2026, 3, 14, 15, 9, 26, 535_897_000, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// is fails the test unless errors.Is(err, want); a nil want means no error.
func is(t *testing.T, err, want error, what string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func account(t *testing.T, s storage.Store, name string) *storage.Account {
	t.Helper()
	a := &storage.Account{Name: name, DisplayName: "Account " + name}
	must(t, s.CreateAccount(t.Context(), a))
	return a
}

func application(t *testing.T, s storage.Store, acc, name string) *storage.Application {
	t.Helper()
	p := &storage.Application{Account: acc, Name: name}
	must(t, s.CreateApplication(t.Context(), p))
	return p
}

func user(t *testing.T, s storage.Store, name string) *storage.User {
	t.Helper()
	u := &storage.User{Username: name, Email: name + "@example.com", PasswordHash: "$argon2id$x", Active: true}
	must(t, s.CreateUser(t.Context(), u))
	return u
}

func client(t *testing.T, s storage.Store, name string) *storage.Client {
	t.Helper()
	c := &storage.Client{Name: name, SecretHash: "$argon2id$y", GrantTypes: []string{"client_credentials"}, Scopes: []string{"openid"}}
	must(t, s.CreateClient(t.Context(), c))
	return c
}

func grantUser(t *testing.T, s storage.Store, userID, role, acc, app string) *storage.Grant {
	t.Helper()
	g := &storage.Grant{UserID: userID, Grant: roles.Grant{Role: role, Account: acc, Application: app}}
	must(t, s.CreateGrant(t.Context(), g))
	return g
}

func grantClient(t *testing.T, s storage.Store, clientID, role, acc, app string) *storage.Grant {
	t.Helper()
	g := &storage.Grant{ClientID: clientID, Grant: roles.Grant{Role: role, Account: acc, Application: app}}
	must(t, s.CreateGrant(t.Context(), g))
	return g
}

func refreshToken(t *testing.T, s storage.Store, hash, userID, clientID, family string) *storage.RefreshToken {
	t.Helper()
	rt := &storage.RefreshToken{TokenHash: hash, FamilyID: family, UserID: userID, ClientID: clientID, Scope: "openid",
		AuthTime: at, IssuedAt: at, ExpiresAt: at.Add(time.Hour)}
	must(t, s.CreateRefreshToken(t.Context(), rt))
	return rt
}

// collect pages through a List method with the given page size and returns
// every item and the number of pages.
func collect[T any](t *testing.T, limit int, list func(storage.Page) ([]T, string, error)) ([]T, int) {
	t.Helper()
	var (
		all    []T
		cursor string
		pages  int
	)
	for {
		items, next, err := list(storage.Page{Limit: limit, Cursor: cursor})
		must(t, err)
		pages++
		if len(items) > limit {
			t.Fatalf("page %d has %d items, limit %d", pages, len(items), limit)
		}
		all = append(all, items...)
		if next == "" {
			return all, pages
		}
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
}

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

func testPing(t *testing.T, s storage.Store) {
	must(t, s.Ping(t.Context()))
}
