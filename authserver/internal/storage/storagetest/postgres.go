package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresDSN creates a fresh schema (named prefix + random hex) on the
// server named by PORTCULLIS_TEST_POSTGRES_DSN, drops it when the test ends,
// and returns a DSN whose search_path is that schema, so that concurrent
// test runs sharing one server never see each other's rows. It skips the
// test when the variable is not set.
func PostgresDSN(t testing.TB, prefix string) string {
	t.Helper()
	dsn := os.Getenv("PORTCULLIS_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PORTCULLIS_TEST_POSTGRES_DSN not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Test data need not survive a crash: skip the fsync on every commit.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}
