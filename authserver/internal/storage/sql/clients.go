package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

const clientSelect = `SELECT c.id, c.secret_hash, c.public, c.name, c.grant_types, c.redirect_uris, c.scopes,
	COALESCE(a.name, ''), COALESCE(p.name, ''), c.created_at, c.updated_at
	FROM clients c
	LEFT JOIN accounts a ON a.id = c.account_id
	LEFT JOIN applications p ON p.id = c.application_id`

func scanClient(r scanner) (storage.Client, error) {
	var (
		c          storage.Client
		gt, ru, sc string
		cat, uat   dbTime
	)
	if err := r.Scan(&c.ID, &c.SecretHash, &c.Public, &c.Name, &gt, &ru, &sc, &c.Account, &c.Application, &cat, &uat); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = cat.t, uat.t
	for _, f := range []struct {
		src string
		dst *[]string
	}{{gt, &c.GrantTypes}, {ru, &c.RedirectURIs}, {sc, &c.Scopes}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return c, fmt.Errorf("client %q: decode list: %w", c.ID, err)
		}
	}
	return c, nil
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// owner resolves the client's optional owning account/application names.
func (s *Store) owner(ctx context.Context, c *storage.Client) (accID, appID string, err error) {
	switch {
	case c.Application != "":
		if c.Account == "" {
			return "", "", fmt.Errorf("an owning application needs its account: %w", storage.ErrInvalid)
		}
		return s.applicationID(ctx, c.Account, c.Application)
	case c.Account != "":
		accID, err = s.accountID(ctx, c.Account)
		return accID, "", err
	}
	return "", "", nil
}

// CreateClient inserts c, filling ID (when empty) and timestamps.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	what := fmt.Sprintf("create client %q", c.Name)
	if c.Public && c.SecretHash != "" {
		return fmt.Errorf("%s: a public client has no secret: %w", what, storage.ErrInvalid)
	}
	return s.inTx(ctx, func(tx *Store) error {
		accID, appID, err := tx.owner(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if c.ID == "" {
			c.ID = NewID("cl_")
		}
		now := tx.now()
		c.CreatedAt, c.UpdatedAt = now, now
		_, err = tx.exec(ctx, `INSERT INTO clients (id, secret_hash, public, name, grant_types, redirect_uris, scopes,
			account_id, application_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.SecretHash, c.Public, c.Name, jsonList(c.GrantTypes), jsonList(c.RedirectURIs), jsonList(c.Scopes),
			nullString(accID), nullString(appID), tx.t(now), tx.t(now))
		return mapError(err, what)
	})
}

// GetClient returns the client by client_id.
func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := scanClient(s.queryRow(ctx, clientSelect+` WHERE c.id = ?`, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("get client %q", id))
	}
	return &c, nil
}

// ListClients lists clients by id.
func (s *Store) ListClients(ctx context.Context, f storage.ClientFilter, p storage.Page) ([]storage.Client, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := limitOf(p)
	q := clientSelect + ` WHERE c.id > ?`
	args := []any{after}
	if f.Account != "" {
		q += ` AND a.name = ?`
		args = append(args, f.Account)
	}
	if f.Application != "" {
		q += ` AND p.name = ?`
		args = append(args, f.Application)
	}
	q += ` ORDER BY c.id LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, "", mapError(err, "list clients")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, "", mapError(err, "list clients")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapError(err, "list clients")
	}
	items, next := trim(out, limit, func(c storage.Client) string { return c.ID })
	return items, next, nil
}

// UpdateClient applies update in one transaction. ID and CreatedAt cannot
// change.
func (s *Store) UpdateClient(ctx context.Context, id string, update func(*storage.Client) error) (*storage.Client, error) {
	what := fmt.Sprintf("update client %q", id)
	var out *storage.Client
	err := s.inTx(ctx, func(tx *Store) error {
		if err := tx.lockRow(ctx, "clients", "id", id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		c, err := tx.GetClient(ctx, id)
		if err != nil {
			return err
		}
		created := c.CreatedAt
		if err := update(c); err != nil {
			return err
		}
		c.ID, c.CreatedAt, c.UpdatedAt = id, created, tx.now()
		if c.Public && c.SecretHash != "" {
			return fmt.Errorf("%s: a public client has no secret: %w", what, storage.ErrInvalid)
		}
		accID, appID, err := tx.owner(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		res, err := tx.exec(ctx, `UPDATE clients SET secret_hash = ?, public = ?, name = ?, grant_types = ?,
			redirect_uris = ?, scopes = ?, account_id = ?, application_id = ?, updated_at = ? WHERE id = ?`,
			c.SecretHash, c.Public, c.Name, jsonList(c.GrantTypes), jsonList(c.RedirectURIs), jsonList(c.Scopes),
			nullString(accID), nullString(appID), tx.t(c.UpdatedAt), id)
		if err != nil {
			return mapError(err, what)
		}
		out = c
		return affected(res, what)
	})
	return out, err
}

// DeleteClient deletes the client; the schema cascades to its grants and
// refresh tokens.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	what := fmt.Sprintf("delete client %q", id)
	res, err := s.exec(ctx, `DELETE FROM clients WHERE id = ?`, id)
	if err != nil {
		return mapError(err, what)
	}
	return affected(res, what)
}
