package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

func testTxCommit(t *testing.T, s storage.Store) {
	ctx := t.Context()
	var uid string
	must(t, s.InTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateAccount(ctx, &storage.Account{Name: "acme"}); err != nil {
			return err
		}
		u := &storage.User{Username: "alice", Active: true}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		uid = u.ID
		// Reads inside the transaction see its own writes.
		if _, err := tx.GetUserByUsername(ctx, "alice"); err != nil {
			return err
		}
		if err := tx.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: roles.Grant{Role: roles.AccountManager, Account: "acme"}}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &storage.AuditRecord{Actor: "cli", Action: "user.create", Target: u.ID})
	}))
	if _, err := s.GetUser(ctx, uid); err != nil {
		t.Fatalf("committed user missing: %v", err)
	}
	if rg, _ := s.RoleGrantsOfUser(ctx, uid); len(rg) != 1 {
		t.Fatalf("committed grant missing: %v", rg)
	}
	if recs, _, _ := s.ListAudit(ctx, storage.Page{}); len(recs) != 1 {
		t.Fatalf("committed audit record missing: %v", recs)
	}
}

// expectEmpty checks that no account, user, client, grant, refresh token,
// revocation event or audit record exists.
func expectEmpty(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := t.Context()
	accs, _, err := s.ListAccounts(ctx, storage.Page{})
	must(t, err)
	users, _, err := s.ListUsers(ctx, storage.UserFilter{}, storage.Page{})
	must(t, err)
	clients, _, err := s.ListClients(ctx, storage.ClientFilter{}, storage.Page{})
	must(t, err)
	grants, _, err := s.ListGrants(ctx, storage.GrantFilter{}, storage.Page{})
	must(t, err)
	events, err := s.ListRevocationEvents(ctx, 0, at, 100)
	must(t, err)
	recs, _, err := s.ListAudit(ctx, storage.Page{})
	must(t, err)
	keys, err := s.ListSigningKeys(ctx)
	must(t, err)
	if n := len(accs) + len(users) + len(clients) + len(grants) + len(events) + len(recs) + len(keys); n != 0 {
		t.Fatalf("rolled-back transaction left %d accounts, %d users, %d clients, %d grants, %d events, %d audit records, %d keys",
			len(accs), len(users), len(clients), len(grants), len(events), len(recs), len(keys))
	}
	if _, err := s.GetRefreshTokenByHash(ctx, "tx-h"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("rolled-back refresh token: %v", err)
	}
}

func testTxRollback(t *testing.T, s storage.Store) {
	ctx := t.Context()
	boom := errors.New("boom")
	// Everything written before a failure disappears, whether the failure is
	// the callback's own error or a store error inside the transaction.
	for _, failure := range []string{"callback error", "store error", "panic"} {
		t.Run(failure, func(t *testing.T) {
			run := func() error {
				return s.InTx(ctx, func(tx storage.Store) error {
					if err := tx.CreateAccount(ctx, &storage.Account{Name: "acme"}); err != nil {
						return err
					}
					u := &storage.User{Username: "alice", Active: true}
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
					c := &storage.Client{Name: "web"}
					if err := tx.CreateClient(ctx, c); err != nil {
						return err
					}
					if err := tx.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: roles.Grant{Role: roles.Administrator}}); err != nil {
						return err
					}
					if err := tx.CreateRefreshToken(ctx, &storage.RefreshToken{TokenHash: "tx-h", UserID: u.ID, ClientID: c.ID,
						AuthTime: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
						return err
					}
					if err := tx.AppendRevocationEvent(ctx, &storage.RevocationEvent{Kind: "sub", Subject: u.ID, ExpiresAt: at.Add(time.Hour)}); err != nil {
						return err
					}
					if err := tx.CreateSigningKey(ctx, &storage.SigningKey{ID: "k", Algorithm: "EdDSA", ActivatesAt: at}); err != nil {
						return err
					}
					if err := tx.AppendAudit(ctx, &storage.AuditRecord{Actor: "cli", Action: "x"}); err != nil {
						return err
					}
					switch failure {
					case "store error":
						return tx.CreateUser(ctx, &storage.User{Username: "ALICE"}) // duplicate
					case "panic":
						panic(boom)
					}
					return boom
				})
			}
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("panic: %v", p)
					}
				}()
				err = run()
			}()
			if err == nil {
				t.Fatal("InTx returned nil for a failed transaction")
			}
			if failure == "store error" && !errors.Is(err, storage.ErrAlreadyExists) {
				t.Fatalf("InTx = %v; want the store's ErrAlreadyExists", err)
			}
			if failure == "callback error" && !errors.Is(err, boom) {
				t.Fatalf("InTx = %v; want the callback's error", err)
			}
			expectEmpty(t, s)
		})
	}
	// The store is still usable after a rollback.
	user(t, s, "alice")
}

func testTxNested(t *testing.T, s storage.Store) {
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx storage.Store) error {
		if err := tx.CreateAccount(ctx, &storage.Account{Name: "outer"}); err != nil {
			return err
		}
		// A nested InTx joins the outer transaction: its writes are undone
		// with the outer rollback even though the inner call succeeded.
		if err := tx.InTx(ctx, func(inner storage.Store) error {
			return inner.CreateAccount(ctx, &storage.Account{Name: "inner"})
		}); err != nil {
			return err
		}
		// Update closures run inside the same transaction too.
		if _, err := tx.UpdateAccount(ctx, "inner", func(a *storage.Account) error { a.DisplayName = "x"; return nil }); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	expectEmpty(t, s)
}

func testConcurrentSameUsername(t *testing.T, s storage.Store) {
	// Rounds of goroutines racing to create one username in different
	// letter cases: exactly one wins, every other gets ErrAlreadyExists.
	const rounds, racers = 10, 2
	for r := range rounds {
		var (
			wins, conflicts atomic.Int32
			wg              sync.WaitGroup
			start           = make(chan struct{})
		)
		for i := range racers {
			name := fmt.Sprintf("user%d", r)
			if i%2 == 1 {
				name = fmt.Sprintf("USER%d", r)
			}
			wg.Go(func() {
				<-start
				err := s.CreateUser(t.Context(), &storage.User{Username: name, Active: true})
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, storage.ErrAlreadyExists):
					conflicts.Add(1)
				default:
					t.Errorf("round %d: unexpected error %v", r, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != racers-1 {
			t.Fatalf("round %d: %d won and %d got ErrAlreadyExists; want 1 and %d", r, wins.Load(), conflicts.Load(), racers-1)
		}
	}
}

func testConcurrentWriters(t *testing.T, s storage.Store) {
	// Writers running transactions at once (each creates a user and grants
	// it a role, then updates it) all succeed and leave consistent rows.
	const writers = 8
	account(t, s, "acme")
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			err := s.InTx(t.Context(), func(tx storage.Store) error {
				u := &storage.User{Username: fmt.Sprintf("w%d", i), Active: true}
				if err := tx.CreateUser(t.Context(), u); err != nil {
					return err
				}
				if err := tx.CreateGrant(t.Context(), &storage.Grant{UserID: u.ID,
					Grant: roles.Grant{Role: roles.AccountManager, Account: "acme"}}); err != nil {
					return err
				}
				_, err := tx.UpdateUser(t.Context(), u.ID, func(u *storage.User) error { u.Email = u.Username + "@example.com"; return nil })
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	users, _ := collect(t, 3, func(p storage.Page) ([]storage.User, string, error) {
		return s.ListUsers(t.Context(), storage.UserFilter{Account: "acme"}, p)
	})
	if len(users) != writers {
		t.Fatalf("%d users with a grant, want %d", len(users), writers)
	}
	for _, u := range users {
		if u.Email != u.Username+"@example.com" {
			t.Fatalf("user %s has email %q", u.Username, u.Email)
		}
	}
}

func testTimesRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	local := at.In(time.FixedZone("X", 5*3600+1800))
	k := &storage.SigningKey{ID: "k", Algorithm: "ES256", CreatedAt: local, ActivatesAt: local.Add(time.Nanosecond * 999)}
	must(t, s.CreateSigningKey(ctx, k))
	ks, err := s.ListSigningKeys(ctx)
	must(t, err)
	got := ks[0]
	// Microsecond precision and the same instant, whatever the zone given.
	if !got.CreatedAt.Equal(at) || !got.ActivatesAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("times read back as %v / %v, want %v in UTC", got.CreatedAt, got.ActivatesAt, at)
	}
}

func testConcurrentUpdatesKeepEveryWrite(t *testing.T, s storage.Store) {
	// Read-modify-write through the Update methods: concurrent updates of one
	// row must each see the previous one's result (no lost update).
	u := user(t, s, "counter")
	c := client(t, s, "counter")
	account(t, s, "acme")
	const writers = 6
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			if _, err := s.UpdateUser(t.Context(), u.ID, func(u *storage.User) error { u.Email += "x"; return nil }); err != nil {
				t.Error(err)
			}
			if _, err := s.UpdateClient(t.Context(), c.ID, func(c *storage.Client) error {
				c.Scopes = append(c.Scopes, fmt.Sprint(len(c.Scopes)))
				return nil
			}); err != nil {
				t.Error(err)
			}
			if _, err := s.UpdateAccount(t.Context(), "acme", func(a *storage.Account) error { a.DisplayName += "x"; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	gu, err := s.GetUser(t.Context(), u.ID)
	must(t, err)
	gc, err := s.GetClient(t.Context(), c.ID)
	must(t, err)
	ga, err := s.GetAccount(t.Context(), "acme")
	must(t, err)
	if got := len(gu.Email) - len(u.Email); got != writers {
		t.Errorf("user: %d of %d concurrent updates kept", got, writers)
	}
	if got := len(gc.Scopes) - len(c.Scopes); got != writers {
		t.Errorf("client: %d of %d concurrent updates kept", got, writers)
	}
	if got := len(ga.DisplayName) - len("Account acme"); got != writers {
		t.Errorf("account: %d of %d concurrent updates kept", got, writers)
	}
}
