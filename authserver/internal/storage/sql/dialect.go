package sqlstore

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// dialect holds everything that differs between SQLite and PostgreSQL. The
// rest of the package writes portable SQL with "?" placeholders.
type dialect struct {
	name   string
	goose  goose.Dialect
	rebind func(query string) string
	// timeArg encodes a time for a query argument: SQLite stores INTEGER
	// microseconds (sortable, no string-format ambiguity), PostgreSQL a
	// TIMESTAMPTZ.
	timeArg func(t time.Time) any
	// lockRevocations is run inside the transaction that appends a
	// revocation event; empty when the database already serialises writers.
	lockRevocations string
	// forUpdate is appended to the SELECT that locks a row before a
	// read-modify-write; empty when transactions already serialise writers.
	forUpdate string
}

var sqliteDialect = dialect{
	name:    "sqlite",
	goose:   goose.DialectSQLite3,
	rebind:  func(q string) string { return q },
	timeArg: func(t time.Time) any { return t.UnixMicro() },
	// SQLite has one writer at a time (BEGIN IMMEDIATE): seq order is
	// already commit order, and a read-modify-write cannot interleave.
	lockRevocations: "",
	forUpdate:       "",
}

var postgresDialect = dialect{
	name:    "postgres",
	goose:   goose.DialectPostgres,
	rebind:  rebindDollar,
	timeArg: func(t time.Time) any { return t.UTC() },
	// Identity values are handed out at insert, not at commit; without this
	// lock a reader could see seq 11 committed before seq 10 and move its
	// cursor past 10 for good.
	lockRevocations: "LOCK TABLE revocation_events IN SHARE ROW EXCLUSIVE MODE",
	// READ COMMITTED lets two transactions read the same row and both
	// write it back; locking the row first makes the second wait and read
	// the first one's result.
	forUpdate: " FOR UPDATE",
}

// rebindDollar turns "?" placeholders into PostgreSQL's $1, $2, ... Our
// queries never contain a literal "?".
func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// mapError turns constraint violations into the storage sentinels: a unique
// violation is ErrAlreadyExists, a foreign-key violation (the row refers to
// something that does not exist) is ErrNotFound, a CHECK violation is
// ErrInvalid. Anything else is wrapped as is.
func mapError(err error, what string) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: a referenced object does not exist: %w", what, storage.ErrNotFound)
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return fmt.Errorf("%s: %w: %s", what, storage.ErrInvalid, se.Error())
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: a referenced object does not exist: %w", what, storage.ErrNotFound)
		case "23514", "23502": // check_violation, not_null_violation
			return fmt.Errorf("%s: %w: %s", what, storage.ErrInvalid, pe.Message)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// dbTime scans either encoding of a timestamp (INTEGER microseconds from
// SQLite, time.Time from PostgreSQL) into a UTC time.
type dbTime struct{ t time.Time }

// Scan implements sql.Scanner.
func (d *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		d.t = time.UnixMicro(v).UTC()
	case time.Time:
		d.t = v.UTC()
	default:
		return fmt.Errorf("unexpected time value of type %T", src)
	}
	return nil
}

// nullTime scans a nullable timestamp into a *time.Time.
type nullTime struct{ t *time.Time }

// Scan implements sql.Scanner.
func (n *nullTime) Scan(src any) error {
	if src == nil {
		n.t = nil
		return nil
	}
	var d dbTime
	if err := d.Scan(src); err != nil {
		return err
	}
	n.t = &d.t
	return nil
}

// optTime encodes a nullable time argument.
func (d dialect) optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.timeArg(*t)
}

var _ driver.Valuer = nullString("")

// nullString stores "" as NULL, for optional foreign keys.
type nullString string

// Value implements driver.Valuer.
func (s nullString) Value() (driver.Value, error) {
	if s == "" {
		return nil, nil
	}
	return string(s), nil
}
