package stateful

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/portcullis/portcullis/migrations"
)

// dialect holds the few differences between SQLite and PostgreSQL that the
// bench needs: placeholders and the timestamp encoding of the auth server's
// schema (INTEGER microseconds on SQLite, TIMESTAMPTZ on PostgreSQL).
type dialect struct {
	name   string
	driver string
	goose  goose.Dialect
	fs     fs.FS
	dir    string
}

func (d dialect) rebind(q string) string {
	if d.name != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (d dialect) ts(t time.Time) any {
	if d.name == "postgres" {
		return t.UTC()
	}
	return t.UnixMicro()
}

// DB is an open bench database.
type DB struct {
	*sql.DB
	d dialect
}

// Open connects to "sqlite:PATH" or a postgres:// URL. conns bounds the pool:
// the stateful proxy is given as many connections as it can use, so that the
// row measures the design, not a starved pool.
func Open(ctx context.Context, dsn string, conns int) (*DB, error) {
	var (
		d    dialect
		open string
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		d = dialect{name: "sqlite", driver: "sqlite", goose: goose.DialectSQLite3, fs: migrations.SQLite, dir: "sqlite"}
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("open bench database: empty sqlite path")
		}
		// WAL lets the pool's readers run side by side; the settings are in
		// the DSN so that every connection of the pool gets them.
		open = "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d = dialect{name: "postgres", driver: "pgx", goose: goose.DialectPostgres, fs: migrations.Postgres, dir: "postgres"}
		open = dsn
	default:
		return nil, errors.New("open bench database: want sqlite:PATH or a postgres URL")
	}
	db, err := sql.Open(d.driver, open)
	if err != nil {
		return nil, fmt.Errorf("open %s bench database: %w", d.name, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s bench database: %w", d.name, err)
	}
	return &DB{DB: db, d: d}, nil
}

// Dialect reports "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

const sessionsTable = `CREATE TABLE IF NOT EXISTS bench_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)`

// Migrate applies the auth server's migrations with goose, then creates the
// bench-only sessions table.
func (db *DB) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(db.d.fs, db.d.dir)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	p, err := goose.NewProvider(db.d.goose, db.DB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s bench database: %w", db.d.name, err)
	}
	if _, err := db.ExecContext(ctx, sessionsTable); err != nil {
		return fmt.Errorf("create bench_sessions: %w", err)
	}
	return nil
}

// WithSearchPath returns the PostgreSQL URL dsn with its search_path set to
// schema, so that the bench's tables live in a schema of their own.
func WithSearchPath(dsn, schema string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
