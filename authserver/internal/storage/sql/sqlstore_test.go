package sqlstore_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
	"github.com/portcullis/portcullis/authserver/internal/storage/storagetest"
	"github.com/portcullis/portcullis/shared/roles"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newSQLite opens and migrates a fresh SQLite database in a temp dir.
func newSQLite(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "test.db"), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func openPostgres(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newPostgres opens and migrates a store in a fresh schema.
func newPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	s := openPostgres(t, storagetest.PostgresDSN(t, "pc_test_"))
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformanceSQLite(t *testing.T) {
	storagetest.RunTests(t, func(t *testing.T) storage.Store { return newSQLite(t) })
}

func TestConformancePostgres(t *testing.T) {
	// One fresh schema for the run, migrated once; each case starts from it
	// emptied (DDL is what makes a fresh schema per case slow).
	dsn := storagetest.PostgresDSN(t, "pc_test_")
	if _, err := openPostgres(t, dsn).Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storagetest.RunTests(t, func(t *testing.T) storage.Store {
		s := openPostgres(t, dsn)
		for _, table := range []string{"audit_log", "revocation_events", "refresh_tokens", "signing_keys",
			"grants", "clients", "users", "applications", "accounts"} {
			if _, err := s.DB().ExecContext(t.Context(), "DELETE FROM "+table); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DB().ExecContext(t.Context(), "DELETE FROM roles WHERE NOT builtin"); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	for name, open := range map[string]func(*testing.T) *sqlstore.Store{"sqlite": newSQLite, "postgres": newPostgres} {
		t.Run(name, func(t *testing.T) {
			s := open(t) // migrated once
			before := schemaDump(t, s)
			v1, latest, err := s.SchemaVersion(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if v1 != latest || v1 < 2 {
				t.Fatalf("version after first migrate = %d, latest %d", v1, latest)
			}
			v2, err := s.Migrate(t.Context())
			if err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if v2 != v1 {
				t.Fatalf("second migrate moved version %d -> %d", v1, v2)
			}
			if after := schemaDump(t, s); after != before {
				t.Fatalf("second migrate changed the schema:\nbefore %s\nafter  %s", before, after)
			}
			rs, err := s.ListRoles(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 5 {
				t.Fatalf("built-in roles seeded %d times over: %d roles", 1, len(rs))
			}
		})
	}
}

// schemaDump summarises the schema and the migration bookkeeping so two
// snapshots can be compared.
func schemaDump(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	var q string
	if s.Dialect() == "sqlite" {
		q = `SELECT (SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master ORDER BY name)) ||
			'|' || (SELECT COUNT(*) FROM goose_db_version) || '|' || (SELECT COUNT(*) FROM roles)`
	} else {
		q = `SELECT (SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()) ||
			'|' || (SELECT COUNT(*) FROM goose_db_version) || '|' || (SELECT COUNT(*) FROM roles)`
	}
	var out string
	if err := s.DB().QueryRowContext(t.Context(), q).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(out)
}

func TestOpenRejectsUnknownDSN(t *testing.T) {
	if _, err := sqlstore.Open(t.Context(), "mysql://x", nil); err == nil {
		t.Fatal("Open accepted a mysql DSN")
	}
}

// BenchmarkRoleGrantsOfUser measures the store read on the token issuance
// path: the roles of one user holding a handful of grants.
func BenchmarkRoleGrantsOfUser(b *testing.B) {
	s, err := sqlstore.Open(b.Context(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if _, err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(s.CreateAccount(ctx, &storage.Account{Name: "acme"}))
	u := &storage.User{Username: "alice", Active: true}
	must(s.CreateUser(ctx, u))
	for _, app := range []string{"a", "b", "c"} {
		must(s.CreateApplication(ctx, &storage.Application{Account: "acme", Name: app}))
		must(s.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: roles.Grant{Role: roles.Developer, Account: "acme", Application: app}}))
	}
	must(s.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: roles.Grant{Role: roles.AccountManager, Account: "acme"}}))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		gs, err := s.RoleGrantsOfUser(ctx, u.ID)
		if err != nil || len(gs) != 4 {
			b.Fatal(gs, err)
		}
	}
}
