package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/password"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func TestPasswordHashUpgradeFromOldArgonParameters(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	ctx := context.Background()
	old, err := password.New(password.Params{MemoryKiB: 32, Iterations: 2, Parallelism: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, err := old.Hash(ctx, "old-params-pass")
	if err != nil {
		t.Fatal(err)
	}
	u := &storage.User{Username: "sam", Email: "sam@example.test", PasswordHash: h, Active: true}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	id, secret := s.CreateClient(t, servertest.Client{})
	s.PasswordToken(t, id, secret, "sam", "old-params-pass")
	got, _ := s.Store.GetUser(ctx, u.ID)
	if got.PasswordHash == h || !strings.Contains(got.PasswordHash, "m=64,t=1,p=1") {
		t.Fatalf("hash not upgraded to the current parameters: %q", got.PasswordHash)
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestLoginLimitIsLoggedNotThePassword(t *testing.T) {
	var logs syncBuffer
	s := servertest.New(t, servertest.Options{Limits: limits(2, 100),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s.CreateUser(t, "tess", "the-real-password")
	id, secret := s.CreateClient(t, servertest.Client{})
	for _, pw := range []string{"guess-one-x", "guess-two-y", "the-real-password"} {
		s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {"tess"}, "password": {pw}})
	}
	out := logs.String()
	if !strings.Contains(out, "failed-login limit reached") || !strings.Contains(out, "limit_by=username") {
		t.Fatalf("limit not logged:\n%s", out)
	}
	for _, secretText := range []string{"guess-one-x", "guess-two-y", "the-real-password", secret} {
		if strings.Contains(out, secretText) {
			t.Fatalf("log contains a secret %q:\n%s", secretText, out)
		}
	}
}
