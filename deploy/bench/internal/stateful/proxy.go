package stateful

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/portcullis/portcullis/shared/roles"
)

// decisionQuery finds the session and, in the same round trip, every grant
// of its user with the names of the role's scope: the one query a stateful
// design runs on every request. A session whose user holds no grant yields
// one row with NULL grant columns, so "no session" and "no grants" differ.
const decisionQuery = `SELECT u.id, g.role, COALESCE(a.name, ''), COALESCE(p.name, '')
FROM bench_sessions s
JOIN users u ON u.id = s.user_id
LEFT JOIN grants g ON g.user_id = u.id
LEFT JOIN roles r ON r.name = g.role
LEFT JOIN accounts a ON a.id = g.account_id
LEFT JOIN applications p ON p.id = g.application_id
WHERE s.token_hash = ? AND s.expires_at > ? AND u.active`

// Decision is the outcome of one lookup.
type Decision int

// The outcomes, in the gateway's terms.
const (
	Allow        Decision = iota
	Unauthorized          // no, unknown or expired session: 401
	Forbidden             // valid session, no satisfying grant: 403
)

// Decider answers "may this session reach Account/Application with one of
// Roles?" from the database.
type Decider struct {
	stmt        *sql.Stmt
	Account     string
	Application string
	Roles       []string
	Now         func() time.Time
}

// NewDecider prepares the decision query on db.
func NewDecider(ctx context.Context, db *DB, account, application string, required []string) (*Decider, error) {
	stmt, err := db.PrepareContext(ctx, db.d.rebind(decisionQuery)) // #nosec G701 -- a constant query with placeholders
	if err != nil {
		return nil, fmt.Errorf("prepare decision query: %w", err)
	}
	return &Decider{stmt: stmt, Account: account, Application: application, Roles: required, Now: time.Now}, nil
}

// Close releases the prepared statement.
func (d *Decider) Close() error { return d.stmt.Close() }

// Decide looks token up and applies the shared role rule to its grants.
func (d *Decider) Decide(ctx context.Context, token string) (Decision, error) {
	rows, err := d.stmt.QueryContext(ctx, hashToken(token), d.Now().UnixMicro())
	if err != nil {
		return Unauthorized, fmt.Errorf("decision query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var (
		found  bool
		grants []roles.Grant
	)
	for rows.Next() {
		var (
			user, account, app string
			role               sql.NullString
		)
		if err := rows.Scan(&user, &role, &account, &app); err != nil {
			return Unauthorized, fmt.Errorf("decision query: scan: %w", err)
		}
		found = true
		if role.Valid {
			grants = append(grants, roles.Grant{Role: role.String, Account: account, Application: app})
		}
	}
	if err := rows.Err(); err != nil {
		return Unauthorized, fmt.Errorf("decision query: %w", err)
	}
	if !found {
		return Unauthorized, nil
	}
	if !roles.Satisfied(grants, d.Roles, d.Account, d.Application) {
		return Forbidden, nil
	}
	return Allow, nil
}

// Handler checks each request with d and passes allowed ones to next.
// Refusals use the gateway's status codes and JSON error bodies.
func Handler(d *Decider, next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			refuse(w, http.StatusUnauthorized, "invalid_token", "missing bearer token")
			return
		}
		dec, err := d.Decide(r.Context(), token)
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			logger.ErrorContext(r.Context(), "session lookup failed", "err", err)
			refuse(w, http.StatusServiceUnavailable, "temporarily_unavailable", "session store unavailable")
			return
		case err != nil:
			return
		case dec == Unauthorized:
			refuse(w, http.StatusUnauthorized, "invalid_token", "unknown or expired session")
			return
		case dec == Forbidden:
			refuse(w, http.StatusForbidden, "insufficient_scope", "no grant for this resource")
			return
		}
		r.Header.Del("Authorization")
		next.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, desc)
}
