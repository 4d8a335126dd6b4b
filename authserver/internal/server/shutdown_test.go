package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/server"
)

// TestShutdownDrainsInFlightRequests: after the context ends the server
// stops accepting connections but finishes the request it is serving.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := server.New(server.Config{Issuer: "http://127.0.0.1", ShutdownTimeout: 10 * time.Second}, server.Deps{Logger: logger})
	started, release := make(chan struct{}), make(chan struct{})
	srv.Echo().GET("/slow", func(c echo.Context) error {
		close(started)
		<-release
		return c.String(http.StatusOK, "done")
	})
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx, ln) }()

	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		slow <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel()
	// Wait until the listener is closed: new connections are refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			break
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	r := <-slow
	if r.err != nil || r.status != http.StatusOK || r.body != "done" {
		t.Fatalf("in-flight request: %+v", r)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
