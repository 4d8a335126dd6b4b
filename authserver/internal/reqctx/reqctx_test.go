package reqctx_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/reqctx"
)

func TestHandlerAddsRequestFields(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(reqctx.NewHandler(slog.NewTextHandler(&buf, nil))).With("component", "test")
	ctx := reqctx.With(context.Background(), "req-42", "192.0.2.7")
	log.InfoContext(ctx, "hello")
	log.Info("no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%q", buf.String())
	}
	if !strings.Contains(lines[0], "request_id=req-42") || !strings.Contains(lines[0], "remote_ip=192.0.2.7") || !strings.Contains(lines[0], "component=test") {
		t.Fatalf("first line %q", lines[0])
	}
	if strings.Contains(lines[1], "request_id") {
		t.Fatalf("second line %q", lines[1])
	}
	if reqctx.RequestID(ctx) != "req-42" || reqctx.RequestID(context.Background()) != "" {
		t.Fatal("RequestID")
	}
}
