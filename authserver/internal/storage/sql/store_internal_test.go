package sqlstore

import (
	"strings"
	"testing"
)

func TestPostgresURLDefaultsToVerifyFull(t *testing.T) {
	cases := map[string]string{
		"postgres://u@db.example.com/app":                     "sslmode=verify-full",
		"postgres://u@db.example.com/app?search_path=x":       "sslmode=verify-full",
		"postgres://u@127.0.0.1/test?sslmode=disable":         "sslmode=disable",
		"postgresql://u@db.example.com/app?sslmode=verify-ca": "sslmode=verify-ca",
	}
	for in, want := range cases {
		got, err := postgresURL(in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, want) || strings.Count(got, "sslmode=") != 1 {
			t.Errorf("postgresURL(%q) = %q; want %s", in, got, want)
		}
	}
	if _, err := postgresURL("postgres://u:s3cret@[bad/x"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad URL: err %v (must fail without echoing the password)", err)
	}
}

func TestRebindDollar(t *testing.T) {
	if got := rebindDollar("SELECT a FROM t WHERE b = ? AND (? = '' OR c = ?)"); got != "SELECT a FROM t WHERE b = $1 AND ($2 = '' OR c = $3)" {
		t.Fatalf("rebindDollar = %q", got)
	}
}

func TestMigrationsDownAndUpAgain(t *testing.T) {
	s, err := Open(t.Context(), "sqlite:"+t.TempDir()+"/down.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	top, err := s.Migrate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.migrator(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(t.Context(), 0); err != nil {
		t.Fatalf("down to 0: %v", err)
	}
	var n int
	if err := s.db.QueryRowContext(t.Context(),
		`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'goose%' AND name NOT LIKE 'sqlite%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d tables left after migrating down to 0", n)
	}
	if v, err := s.Migrate(t.Context()); err != nil || v != top {
		t.Fatalf("migrate up again = %d, %v; want %d", v, err, top)
	}
}
