package reqctx

import (
	"context"
	"log/slog"
)

type key struct{}

type info struct {
	id, ip string
}

// With returns ctx carrying the request id and client IP.
func With(ctx context.Context, requestID, remoteIP string) context.Context {
	return context.WithValue(ctx, key{}, info{id: requestID, ip: remoteIP})
}

// RequestID returns the request id carried by ctx, if any.
func RequestID(ctx context.Context) string {
	i, _ := ctx.Value(key{}).(info)
	return i.id
}

// Handler wraps a slog.Handler to add request_id and remote_ip.
type Handler struct {
	slog.Handler
}

// NewHandler wraps h.
func NewHandler(h slog.Handler) *Handler { return &Handler{Handler: h} }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if i, ok := ctx.Value(key{}).(info); ok {
		r.AddAttrs(slog.String("request_id", i.id))
		if i.ip != "" {
			r.AddAttrs(slog.String("remote_ip", i.ip))
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{Handler: h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{Handler: h.Handler.WithGroup(name)}
}
