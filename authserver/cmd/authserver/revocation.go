package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/config"
	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/revocation"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// newEmitter builds the revocation-event emitter (issue 6): events go to
// the store's feed and, when rc is not nil, to Redis. reg may be nil (CLI).
func newEmitter(cfg *config.Config, st storage.Store, rc *redis.Client, reg prometheus.Registerer, logger *slog.Logger) (*revocation.Emitter, error) {
	d := revocation.Deps{Store: st, Logger: logger, Now: time.Now}
	if rc != nil {
		d.Redis = rc
	}
	if reg != nil {
		d.Metrics = revocation.NewMetrics(reg)
	}
	e, err := revocation.New(revocation.Config{MaxAccessTTL: cfg.Tokens.AccessTTL}, d)
	if err != nil {
		return nil, fmt.Errorf("revocation events: %w", err)
	}
	return e, nil
}

// identityEvents is the identity service's Events hook for the CLI: `user
// disable`, `role revoke` and the like emit their revocation events from
// the command's own process (store and, when configured, Redis), so the
// gateways hear of them without waiting for the server.
func identityEvents(cfg *config.Config, st storage.Store, logger *slog.Logger) (identity.Events, func(), error) {
	var rc *redis.Client
	closeFn := func() {}
	if cfg.Redis != "" {
		opts, err := redis.ParseURL(cfg.Redis)
		if err != nil {
			return nil, closeFn, fmt.Errorf("redis URL: %w", err)
		}
		rc = redis.NewClient(opts)
		closeFn = func() { _ = rc.Close() }
	}
	e, err := newEmitter(cfg, st, rc, nil, logger)
	if err != nil {
		closeFn()
		return nil, func() {}, err
	}
	return revocation.IdentityEvents{Emitter: e, Logger: logger}, closeFn, nil
}

// feedClients authenticates the revocation feed's callers with the token
// service's client authentication (argon2id secrets, cached successes).
type feedClients struct{ svc *oauth.Service }

func (f feedClients) AuthenticateClient(ctx context.Context, id, secret string) (*storage.Client, error) {
	c, err := f.svc.AuthenticateClient(ctx, oauth.Credentials{ClientID: id, ClientSecret: secret, Method: oauth.AuthBasic})
	if errors.Is(err, oerrors.ErrInvalidClient) {
		return nil, revocation.ErrBadClient
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate client: %w", err)
	}
	return c, nil
}
