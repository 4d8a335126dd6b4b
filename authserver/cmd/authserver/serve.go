package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/admin"
	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/authorize"
	"github.com/portcullis/portcullis/authserver/internal/config"
	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/login"
	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/password"
	"github.com/portcullis/portcullis/authserver/internal/ratelimit"
	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/reqctx"
	"github.com/portcullis/portcullis/authserver/internal/revocation"
	"github.com/portcullis/portcullis/authserver/internal/server"
	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/claims"
)

func init() {
	laterCommands = append(laterCommands, newServeCmd, newKeysCmd)
}

// redisPrefix namespaces every key the auth server writes to Redis.
const redisPrefix = "portcullis:authserver:"

func newServeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the authorisation server (token endpoint, JWKS, discovery, revocation, introspection)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Four steps: load config (validated by Load), build the
			// dependencies, listen, run until a signal.
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			logger := slog.New(reqctx.NewHandler(a.newLogger(cfg, slog.LevelDebug).Handler()))
			st, err := a.openStore(ctx, cfg, logger)
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()
			srv, sg, closeDeps, err := buildServer(ctx, cfg, st, logger)
			if err != nil {
				return refused(err)
			}
			defer closeDeps()
			ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
			if err != nil {
				return refused(fmt.Errorf("listen on %s: %w", cfg.Listen, err))
			}
			go sg.Run(ctx)
			logger.Info("authserver listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer,
				"algorithm", cfg.Keys.Algorithm, "redis", cfg.Redis != "")
			return refused(srv.Run(ctx, ln))
		},
	}
}

// buildServer wires the token service from the configuration.
func buildServer(ctx context.Context, cfg *config.Config, st storage.Store, logger *slog.Logger) (*server.Server, *signer.Signer, func(), error) {
	closeDeps := func() {}
	sg, err := newSigner(cfg, st, logger)
	if err != nil {
		return nil, nil, closeDeps, err
	}
	if err := sg.Sync(ctx); err != nil {
		return nil, nil, closeDeps, err
	}
	format, err := claims.ParseFormat(cfg.Tokens.RolesFormat)
	if err != nil {
		return nil, nil, closeDeps, err
	}
	hasher, err := password.New(cfg.Password.Params(), cfg.Password.MaxConcurrent)
	if err != nil {
		return nil, nil, closeDeps, err
	}

	checks := map[string]server.Pinger{"database": st}
	sqlRefresh := refresh.NewSQL(st)
	var (
		rs      refresh.Store     = sqlRefresh
		limiter ratelimit.Limiter = ratelimit.NewMemory(cfg.LoginLimits.Window, time.Now)
	)
	var rc *redis.Client
	if cfg.Redis != "" {
		opts, err := redis.ParseURL(cfg.Redis)
		if err != nil {
			return nil, nil, closeDeps, fmt.Errorf("redis URL: %w", err)
		}
		rc = redis.NewClient(opts)
		closeDeps = func() { _ = rc.Close() }
		rs = refresh.NewRedis(rc, redisPrefix, cfg.Tokens.RefreshTTL)
		limiter = ratelimit.NewRedis(rc, redisPrefix+"limit:", cfg.LoginLimits.Window)
		checks["redis"] = redisPinger{rc}
	} else {
		go sqlRefresh.Sweep(ctx, time.Hour, time.Now, logger)
	}

	// Authorization codes and login sessions (issue 7): in Redis when it
	// is configured, so that every replica can redeem a code and see a
	// session; in memory otherwise (a single replica).
	var (
		codes    authcode.Store = authcode.NewMemory(time.Now)
		sessions login.Sessions = login.NewMemorySessions(time.Now)
	)
	if rc != nil {
		codes = authcode.NewRedis(rc, redisPrefix, time.Now)
		sessions = login.NewRedisSessions(rc, redisPrefix, time.Now)
	}

	reg := prometheus.NewRegistry()
	metrics := server.NewMetrics(reg)
	emitter, err := newEmitter(cfg, st, rc, reg, logger)
	if err != nil {
		return nil, nil, closeDeps, err
	}
	go emitter.Run(ctx) // repairs Redis after failures, prunes moot events
	svc, err := oauth.New(oauth.Config{
		Issuer: cfg.Issuer, Audience: cfg.Tokens.Audience, AccessTTL: cfg.Tokens.AccessTTL, RefreshTTL: cfg.Tokens.RefreshTTL,
		RefreshReuseGrace: cfg.Tokens.RefreshReuseGrace, RolesFormat: format,
		Limits:  oauth.LoginLimits{PerUsername: cfg.LoginLimits.PerUsername, PerIP: cfg.LoginLimits.PerIP},
		OnReuse: metrics.RefreshReuse.Inc,
	}, oauth.Deps{
		Store: st, Refresh: rs, Signer: sg, Keys: sg, Passwords: hasher, Limiter: limiter, Logger: logger, Now: time.Now,
		Codes:       codes,
		Revocations: emitter,
	})
	if err != nil {
		return nil, nil, closeDeps, err
	}
	// The admin API (issue 5) runs every change through the identity
	// service, whose events feed the revocation emitter.
	ids := identity.New(st, hasher, logger)
	ids.Events = revocation.IdentityEvents{Emitter: emitter, Logger: logger}
	srv := server.New(server.Config{Issuer: cfg.Issuer}, server.Deps{
		Tokens: svc, Signer: sg, Checks: checks, Registry: reg, Metrics: metrics, Logger: logger,
		Browser: authorize.Routes(authorize.Deps{Issuer: cfg.Issuer, Store: st, Tokens: svc, Codes: codes,
			Sessions: sessions, Logger: logger, Now: time.Now,
			// GET /oauth2/logout?client_id=... revokes like POST /oauth2/logout.
			Revoke: func(ctx context.Context, userID, clientID string) error {
				if err := rs.RevokeUser(ctx, userID, clientID, time.Now()); err != nil {
					return fmt.Errorf("revoke refresh tokens: %w", err)
				}
				return emitter.RevokeSubject(ctx, userID, clientID)
			}}),
		Admin: &admin.Handler{Identity: ids, Store: st, Verifier: svc.Verifier(), Revocations: svc, Signer: sg, Logger: logger},
	})
	// Revocation feed and logout (issue 6).
	root := srv.Echo().Group("")
	(&revocation.FeedHandler{Store: st, Clients: feedClients{svc}, Logger: logger, Now: time.Now}).Register(root)
	(&revocation.LogoutHandler{Verifier: svc.Verifier(), Refresh: rs, Emitter: emitter, Logger: logger, Now: time.Now}).Register(root)
	return srv, sg, closeDeps, nil
}

// newSigner builds the signer from keys.*; the encryption key comes from
// keys.encryption_key (PORTCULLIS_KEYS_ENCRYPTION_KEY) or, failing that,
// from keys.encryption_key_file, generated with mode 0600 on first use.
func newSigner(cfg *config.Config, st storage.Store, logger *slog.Logger) (*signer.Signer, error) {
	var encKey []byte
	var err error
	if cfg.Keys.EncryptionKey != "" {
		encKey, err = signer.ParseEncryptionKey(cfg.Keys.EncryptionKey)
	} else {
		encKey, err = signer.LoadOrCreateKeyFile(cfg.Keys.EncryptionKeyFile)
	}
	if err != nil {
		return nil, fmt.Errorf("keys encryption key: %w", err)
	}
	return signer.New(st, signer.Config{
		Algorithm: cfg.Keys.Algorithm, RSABits: cfg.Keys.RSABits, RotateEvery: cfg.Keys.RotateEvery,
		Prepublish: cfg.Keys.Prepublish, TokenTTL: cfg.Tokens.AccessTTL, EncryptionKey: encKey,
	}, logger, time.Now)
}

type redisPinger struct{ c *redis.Client }

func (p redisPinger) Ping(ctx context.Context) error { return p.c.Ping(ctx).Err() }
