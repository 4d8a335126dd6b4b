package admin_test

import (
	"context"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/shared/roles"
)

// TestLastAdministratorSurvivesARace has the only two administrators
// disable each other at the same moment, many times over: whatever the
// interleaving, at least one stays active (on PostgreSQL the count locks the
// administrators' rows; SQLite has one writer at a time).
func TestLastAdministratorSurvivesARace(t *testing.T) {
	backends(t, func(t *testing.T, o servertest.Options) {
		ts := servertest.New(t, o)
		ctx := context.Background()
		for round := range 10 {
			a, b := "admin-a", "admin-b"
			if round == 0 {
				ts.CreateUser(t, a, "a password", roles.Grant{Role: roles.Administrator})
				ts.CreateUser(t, b, "b password", roles.Grant{Role: roles.Administrator})
			} else {
				for _, u := range []string{a, b} {
					if _, err := ts.Identity.EnableUser(ctx, identity.CLI, u); err != nil {
						t.Fatalf("round %d: enable %s: %v", round, u, err)
					}
				}
			}
			var wg sync.WaitGroup
			for _, u := range []string{a, b} {
				wg.Go(func() { _, _ = ts.Identity.DisableUser(ctx, identity.CLI, u) })
			}
			wg.Wait()
			n, err := ts.Store.CountActiveAdministrators(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("round %d: %d active administrators after both disabled each other, want exactly 1", round, n)
			}
		}
	})
}
