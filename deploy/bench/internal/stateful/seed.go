package stateful

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// The resource every bench request asks for, and the role it needs.
const (
	Account      = "acme"
	Application  = "billing"
	RequiredRole = "developer"
)

// Seed is the population of a seeded database.
type Seed struct {
	// Tokens are the opaque session tokens, one per user: send them as
	// bearer tokens. Every one of them is allowed.
	Tokens []string
	// Denied is a session of a user who holds grants but none that satisfies
	// RequiredRole on Account/Application.
	Denied string
}

// Seed fills the database with accounts and applications, users with a few
// grants each (one of them the one the bench resource needs), and one live
// session per user, in one transaction.
func (db *DB) Seed(ctx context.Context, users int, now time.Time) (Seed, error) {
	var out Seed
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("seed: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	ts := db.d.ts(now)
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, db.d.rebind(q), args...); err != nil { // #nosec G701 -- constant queries with placeholders
			return fmt.Errorf("seed: %s: %w", q, err)
		}
		return nil
	}
	type app struct{ id, account, name string }
	accounts := map[string]string{"acme": "acc-acme", "globex": "acc-globex"}
	for name, id := range accounts {
		if err := exec(`INSERT INTO accounts (id, name, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, id, name, name, ts, ts); err != nil {
			return out, err
		}
	}
	apps := []app{{"app-acme-billing", "acc-acme", "billing"}, {"app-acme-reports", "acc-acme", "reports"}, {"app-globex-api", "acc-globex", "api"}}
	for _, a := range apps {
		if err := exec(`INSERT INTO applications (id, account_id, name, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`, a.id, a.account, a.name, a.name, ts, ts); err != nil {
			return out, err
		}
	}
	userStmt, err := tx.PrepareContext(ctx, db.d.rebind(`INSERT INTO users (id, username, username_key, email, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, ?, '', ?, ?, ?)`))
	if err != nil {
		return out, fmt.Errorf("seed: prepare users: %w", err)
	}
	defer func() { _ = userStmt.Close() }()
	grantStmt, err := tx.PrepareContext(ctx, db.d.rebind(`INSERT INTO grants (id, user_id, role, account_id, application_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return out, fmt.Errorf("seed: prepare grants: %w", err)
	}
	defer func() { _ = grantStmt.Close() }()
	sessStmt, err := tx.PrepareContext(ctx, db.d.rebind(`INSERT INTO bench_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`))
	if err != nil {
		return out, fmt.Errorf("seed: prepare sessions: %w", err)
	}
	defer func() { _ = sessStmt.Close() }()

	expires := now.Add(24 * time.Hour).UnixMicro()
	for i := range users + 1 {
		id := fmt.Sprintf("user-%06d", i)
		name := fmt.Sprintf("bench-user-%06d", i)
		if _, err := userStmt.ExecContext(ctx, id, name, name, name+"@example.test", true, ts, ts); err != nil {
			return out, fmt.Errorf("seed: user %d: %w", i, err)
		}
		// Three grants each, so the join returns several rows per request
		// as it would for a real user; the last user lacks the needed one.
		grants := [][3]any{
			{"consumer", "acc-acme", "app-acme-reports"},
			{"developer", "acc-globex", "app-globex-api"},
			{RequiredRole, "acc-acme", "app-acme-billing"},
		}
		if i == users {
			grants = grants[:2]
		}
		for j, g := range grants {
			if _, err := grantStmt.ExecContext(ctx, fmt.Sprintf("grant-%06d-%d", i, j), id, g[0], g[1], g[2], ts); err != nil {
				return out, fmt.Errorf("seed: grant of user %d: %w", i, err)
			}
		}
		tok, hash, err := newSessionToken()
		if err != nil {
			return out, err
		}
		if _, err := sessStmt.ExecContext(ctx, hash, id, now.UnixMicro(), expires); err != nil {
			return out, fmt.Errorf("seed: session of user %d: %w", i, err)
		}
		if i == users {
			out.Denied = tok
		} else {
			out.Tokens = append(out.Tokens, tok)
		}
	}
	if err := tx.Commit(); err != nil {
		return out, fmt.Errorf("seed: commit: %w", err)
	}
	// Fresh statistics, as a long-running database would have.
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return out, fmt.Errorf("seed: analyze: %w", err)
	}
	return out, nil
}

func newSessionToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("session token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
