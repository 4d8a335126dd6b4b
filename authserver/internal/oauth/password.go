package oauth

import (
	"context"
	"errors"
	"strings"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// LoginLimits are the failed-login limits (login_limits.*).
type LoginLimits struct {
	PerUsername int
	PerIP       int
}

func usernameKey(u string) string { return "login:user:" + strings.ToLower(u) }
func ipKey(ip string) string      { return "login:ip:" + ip }

// checkLoginLimit refuses a password attempt while its username or client
// IP is over the failed-login limit. The limit, not the password, is
// logged.
func (s *Service) checkLoginLimit(ctx context.Context, req *TokenRequest) error {
	if s.limiter == nil {
		return nil
	}
	checks := []struct {
		key   string
		limit int
		what  string
	}{{usernameKey(req.Username), s.cfg.Limits.PerUsername, "username"}, {ipKey(req.RemoteIP), s.cfg.Limits.PerIP, "ip"}}
	for _, c := range checks {
		if c.limit <= 0 || (c.what == "ip" && req.RemoteIP == "") {
			continue
		}
		wait, err := s.limiter.Blocked(ctx, c.key, c.limit)
		if err != nil {
			// Fail open: a limiter outage must not lock every user out;
			// argon2id's bounded pool still caps the work.
			s.log.ErrorContext(ctx, "login limiter unavailable", "err", err)
			return nil
		}
		if wait > 0 {
			s.log.WarnContext(ctx, "failed-login limit reached", "limit_by", c.what, "limit", c.limit,
				"username", req.Username, "remote_ip", req.RemoteIP, "retry_after", wait.String())
			return oautherr.ErrTooManyRequests.WithRetryAfter(wait)
		}
	}
	return nil
}

func (s *Service) recordLoginFailure(ctx context.Context, req *TokenRequest) {
	if s.limiter == nil {
		return
	}
	if err := s.limiter.Fail(ctx, usernameKey(req.Username)); err != nil {
		s.log.ErrorContext(ctx, "record failed login", "err", err)
	}
	if req.RemoteIP != "" {
		if err := s.limiter.Fail(ctx, ipKey(req.RemoteIP)); err != nil {
			s.log.ErrorContext(ctx, "record failed login", "err", err)
		}
	}
}

// authenticateUser is the password grant's check (the library's
// PasswordAuthorizationHandler role). It takes the same time whether or
// not the user exists, refuses disabled users without saying so, and
// upgrades an old or bcrypt hash after a successful check.
func (s *Service) authenticateUser(ctx context.Context, st *issueState) (string, error) {
	req := st.req
	u, err := s.store.GetUserByUsername(ctx, req.Username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	if u == nil {
		s.passwords.VerifyDummy(ctx, req.Password)
		s.recordLoginFailure(ctx, req)
		s.log.InfoContext(ctx, "password login failed", "username", req.Username, "reason", "unknown user")
		return "", oerrors.ErrInvalidGrant
	}
	ok, rehash, err := s.passwords.Verify(ctx, u.PasswordHash, req.Password)
	if err != nil {
		return "", err
	}
	if !ok {
		s.recordLoginFailure(ctx, req)
		s.log.InfoContext(ctx, "password login failed", "user_id", u.ID, "reason", "wrong password")
		return "", oerrors.ErrInvalidGrant
	}
	if !u.Active {
		s.log.InfoContext(ctx, "password login refused", "user_id", u.ID, "reason", "user disabled")
		return "", oerrors.ErrInvalidGrant
	}
	if s.limiter != nil {
		if err := s.limiter.Reset(ctx, usernameKey(req.Username)); err != nil {
			s.log.ErrorContext(ctx, "reset failed logins", "err", err)
		}
	}
	if rehash {
		s.upgradeHash(ctx, u, req.Password)
	}
	st.user = u
	return u.ID, nil
}

// upgradeHash re-hashes with the current parameters. A failure is logged
// and the login still succeeds: the old hash stays valid.
func (s *Service) upgradeHash(ctx context.Context, u *storage.User, password string) {
	h, err := s.passwords.Hash(ctx, password)
	if err != nil {
		s.log.ErrorContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
		return
	}
	old := u.PasswordHash
	_, err = s.store.UpdateUser(ctx, u.ID, func(x *storage.User) error {
		if x.PasswordHash != old {
			return nil // changed meanwhile; keep the newer one
		}
		x.PasswordHash = h
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "password rehash not stored", "user_id", u.ID, "err", err)
		return
	}
	s.log.InfoContext(ctx, "password hash upgraded", "user_id", u.ID)
}
