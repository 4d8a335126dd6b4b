package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/migrations"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is storage.Store on SQLite or PostgreSQL. The value returned by Open
// runs each call on the pool; the one InTx hands to its callback runs every
// call in that transaction.
type Store struct {
	db     *sql.DB
	q      querier
	tx     *sql.Tx // non-nil inside InTx
	d      dialect
	stmts  *stmtCache // nil: no statement cache (PostgreSQL)
	logger *slog.Logger
	// Now is the clock used for timestamps the store fills in itself.
	Now func() time.Time
}

var _ storage.Store = (*Store)(nil)

// Open connects to dsn, which is "sqlite:PATH" (PATH may be ":memory:" or a
// "file:" URI with its own query) or a "postgres://" / "postgresql://" URL.
// A PostgreSQL URL without sslmode gets sslmode=verify-full. Open checks the
// connection but does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		db  *sql.DB
		d   dialect
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		d = sqliteDialect
		db, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d = postgresDialect
		db, err = openPostgres(dsn)
	default:
		return nil, fmt.Errorf("open database: unsupported DSN (want sqlite:PATH or postgres://...)")
	}
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s database: %w", d.name, err)
	}
	st := &Store{db: db, q: db, d: d, logger: logger, Now: time.Now}
	if d.name == "sqlite" {
		st.stmts = &stmtCache{}
	}
	return st, nil
}

func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite database: empty path")
	}
	// Connection settings go in the DSN so they apply to every connection the
	// pool ever opens: foreign keys (off by default in SQLite), WAL so readers
	// in other processes (the CLI) do not block the server, a busy timeout
	// instead of immediate SQLITE_BUSY, and BEGIN IMMEDIATE so a transaction
	// takes the write lock up front rather than failing on upgrade.
	base, query, _ := strings.Cut(path, "?")
	if !strings.HasPrefix(base, "file:") {
		base = "file:" + base
	}
	params := []string{
		"_pragma=foreign_keys(1)",
		"_pragma=busy_timeout(5000)",
		"_pragma=synchronous(NORMAL)",
		"_txlock=immediate",
	}
	if !strings.Contains(base, ":memory:") && !strings.Contains(query, "mode=memory") {
		params = append(params, "_pragma=journal_mode(WAL)")
		// A fresh checkout has no var/ yet; SQLite creates the file, not
		// its directory.
		if dir := filepath.Dir(strings.TrimPrefix(base, "file:")); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open sqlite database: create directory: %w", err)
			}
		}
	}
	if query != "" {
		params = append([]string{query}, params...)
	}
	db, err := sql.Open("sqlite", base+"?"+strings.Join(params, "&"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", err)
	}
	// One connection: SQLite has one writer anyway, and a single connection
	// makes concurrent writers in this process queue instead of racing for
	// the file lock (and keeps a :memory: database a single database).
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// postgresURL adds sslmode=verify-full to a URL that does not choose a mode:
// libpq's default ("prefer") silently falls back to plain text.
func postgresURL(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// The parse error quotes the URL, password included: drop it.
		return "", errors.New("open postgres database: invalid URL")
	}
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "verify-full")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func openPostgres(dsn string) (*sql.DB, error) {
	dsn, err := postgresURL(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres database: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// Dialect reports "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// DB exposes the pool for tests and health checks.
func (s *Store) DB() *sql.DB { return s.db }

// Migrate applies every pending migration, each in its own transaction, and
// returns the schema version. On PostgreSQL a session advisory lock keeps
// replicas that start together from migrating at the same time.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	p, err := s.migrator(ctx)
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate %s database: %w", s.d.name, err)
	}
	for _, r := range results {
		s.logger.InfoContext(ctx, "migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate %s database: read version: %w", s.d.name, err)
	}
	return v, nil
}

// SchemaVersion returns the applied schema version and the newest version
// this binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrator(ctx)
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, latest, nil
}

func (s *Store) migrator(ctx context.Context) (*goose.Provider, error) {
	var (
		fsys fs.FS
		err  error
		opts = []goose.ProviderOption{
			goose.WithDisableGlobalRegistry(true),
			goose.WithSlog(s.logger),
		}
	)
	switch s.d.name {
	case "postgres":
		fsys, err = fs.Sub(migrations.Postgres, "postgres")
		if err == nil {
			// Advisory locks are per database, migrations per schema: key
			// the lock by schema so that schemas (tenants, test runs) do not
			// queue behind each other. Retry every second, for 5 minutes.
			var schema string
			if err = s.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
				return nil, fmt.Errorf("load migrations: read current schema: %w", err)
			}
			h := fnv.New64a()
			_, _ = h.Write([]byte(schema))
			var l lock.SessionLocker
			l, err = lock.NewPostgresSessionLocker(
				lock.WithLockID(lock.DefaultLockID^int64(h.Sum64()>>1)), //nolint:gosec // shifted into int64 range
				lock.WithLockTimeout(1, 300))
			opts = append(opts, goose.WithSessionLocker(l))
		}
	default:
		fsys, err = fs.Sub(migrations.SQLite, "sqlite")
	}
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	p, err := goose.NewProvider(s.d.goose, s.db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", s.d.name, err)
	}
	return nil
}

// Close closes the pool. Calling it on a transaction-bound Store is a no-op.
func (s *Store) Close() error {
	if s.tx != nil {
		return nil
	}
	s.stmts.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s database: %w", s.d.name, err)
	}
	return nil
}

// InTx runs fn with a Store bound to one transaction: it commits when fn
// returns nil and rolls back otherwise. A nested call reuses the outer
// transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx storage.Store) error) error {
	return s.inTx(ctx, func(tx *Store) error { return fn(tx) })
}

func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) (err error) {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	bound := &Store{db: s.db, q: tx, tx: tx, d: s.d, stmts: s.stmts, logger: s.logger, Now: s.Now}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
				s.logger.ErrorContext(ctx, "rollback failed", "error", rbErr)
			}
			return
		}
		if cErr := tx.Commit(); cErr != nil {
			err = mapError(cErr, "commit transaction")
		}
	}()
	return fn(bound)
}

// exec, query and queryRow rebind the placeholders for the dialect and, on
// SQLite, run through the prepared-statement cache.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.runner(ctx, q).ExecContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.runner(ctx, q).QueryContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.runner(ctx, q).QueryRowContext(ctx, s.d.rebind(q), args...)
}

// stmtCache holds prepared statements by query text. SQLite compiles every
// unprepared statement afresh, which costs more than running the small
// queries on the token path (RoleGrantsOfUser: 175 µs unprepared, 80 µs
// prepared); pgx already caches prepared statements per connection, so
// PostgreSQL does not use this.
type stmtCache struct {
	m sync.Map // query text -> *sql.Stmt; read without locking
	// prepMu serialises preparation. Only calls outside a transaction take
	// it, so a transaction (which holds SQLite's one connection) never
	// waits for a preparer that waits for that connection.
	prepMu sync.Mutex
}

// prepared runs a statement prepared once for its query text; the query
// argument of its methods is ignored.
type prepared struct{ st *sql.Stmt }

func (p prepared) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.st.ExecContext(ctx, args...)
}

func (p prepared) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return p.st.QueryRowContext(ctx, args...)
}

// runner returns what should run q: the cached statement (bound to the
// transaction when s is transaction-bound), or s.q when the dialect does not
// cache, when q is not cached yet inside a transaction (preparing needs the
// connection the transaction holds), or when q fails to prepare (running it
// reports the error).
func (s *Store) runner(ctx context.Context, q string) querier {
	if s.stmts == nil {
		return s.q
	}
	v, ok := s.stmts.m.Load(q)
	if !ok {
		if s.tx != nil {
			return s.q
		}
		s.stmts.prepMu.Lock()
		defer s.stmts.prepMu.Unlock()
		if v, ok = s.stmts.m.Load(q); !ok {
			st, err := s.db.PrepareContext(ctx, q)
			if err != nil {
				return s.q
			}
			v, _ = s.stmts.m.LoadOrStore(q, st)
		}
	}
	st, _ := v.(*sql.Stmt)
	if s.tx != nil {
		st = s.tx.StmtContext(ctx, st)
	}
	return prepared{st}
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.m.Range(func(q, v any) bool {
		if st, ok := v.(*sql.Stmt); ok {
			_ = st.Close()
		}
		c.m.Delete(q)
		return true
	})
}

func (s *Store) t(t time.Time) any { return s.d.timeArg(t) }

func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// idEncoding is lower-case base32 without padding: URL- and shell-safe.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix + 120 random bits, e.g. "u_" + 24 characters.
func NewID(prefix string) string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + idEncoding.EncodeToString(b[:])
}

// lockRow locks the row of table whose col equals val until the transaction
// ends, where the dialect needs it (see dialect.forUpdate). Call it inside
// inTx before reading a row that will be written back.
func (s *Store) lockRow(ctx context.Context, table, col, val string) error {
	if s.d.forUpdate == "" {
		return nil
	}
	var one int
	err := s.queryRow(ctx, `SELECT 1 FROM `+table+` WHERE `+col+` = ?`+s.d.forUpdate, val).Scan(&one)
	if err != nil {
		return notFound(err, "lock "+table+" row")
	}
	return nil
}

// affected returns ErrNotFound when a single-row write changed nothing.
func affected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return nil
}

func rowsAffected(res sql.Result, what string) (int, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return int(n), nil
}

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return mapError(err, what)
}
