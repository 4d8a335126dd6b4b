package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

const keyCols = `id, algorithm, private_key, public_jwk, created_at, activates_at, retired_at, expires_at`

func scanKey(r scanner) (storage.SigningKey, error) {
	var (
		k        storage.SigningKey
		cat, aat dbTime
		rat, eat nullTime
	)
	err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicJWK, &cat, &aat, &rat, &eat)
	k.CreatedAt, k.ActivatesAt, k.RetiredAt, k.ExpiresAt = cat.t, aat.t, rat.t, eat.t
	return k, err
}

// CreateSigningKey inserts k; CreatedAt is filled when zero.
func (s *Store) CreateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	what := fmt.Sprintf("create signing key %q", k.ID)
	if k.ID == "" || k.Algorithm == "" {
		return fmt.Errorf("%s: id and algorithm are required: %w", what, storage.ErrInvalid)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	_, err := s.exec(ctx, `INSERT INTO signing_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, nonNil(k.PrivateKey), nonNil(k.PublicJWK), s.t(k.CreatedAt), s.t(k.ActivatesAt),
		s.d.optTime(k.RetiredAt), s.d.optTime(k.ExpiresAt))
	return mapError(err, what)
}

// ListSigningKeys lists every key by ActivatesAt ascending (then id).
func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	rows, err := s.query(ctx, `SELECT `+keyCols+` FROM signing_keys ORDER BY activates_at, id`)
	if err != nil {
		return nil, mapError(err, "list signing keys")
	}
	defer func() { _ = rows.Close() }()
	var out []storage.SigningKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, mapError(err, "list signing keys")
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err, "list signing keys")
	}
	return out, nil
}

// UpdateSigningKey applies update in one transaction; ID cannot change.
func (s *Store) UpdateSigningKey(ctx context.Context, id string, update func(*storage.SigningKey) error) (*storage.SigningKey, error) {
	what := fmt.Sprintf("update signing key %q", id)
	var out *storage.SigningKey
	err := s.inTx(ctx, func(tx *Store) error {
		k, err := scanKey(tx.queryRow(ctx, `SELECT `+keyCols+` FROM signing_keys WHERE id = ?`+tx.d.forUpdate, id))
		if err != nil {
			return notFound(err, what)
		}
		if err := update(&k); err != nil {
			return err
		}
		k.ID = id
		res, err := tx.exec(ctx, `UPDATE signing_keys SET algorithm = ?, private_key = ?, public_jwk = ?,
			activates_at = ?, retired_at = ?, expires_at = ? WHERE id = ?`,
			k.Algorithm, nonNil(k.PrivateKey), nonNil(k.PublicJWK), tx.t(k.ActivatesAt), tx.d.optTime(k.RetiredAt), tx.d.optTime(k.ExpiresAt), id)
		if err != nil {
			return mapError(err, what)
		}
		out = &k
		return affected(res, what)
	})
	return out, err
}

// DeleteSigningKey deletes the key by id.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	what := fmt.Sprintf("delete signing key %q", id)
	res, err := s.exec(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
	if err != nil {
		return mapError(err, what)
	}
	return affected(res, what)
}

// nonNil keeps an empty key blob from becoming SQL NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
