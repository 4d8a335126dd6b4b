// Package reqctx carries a request's id and client IP in its context and
// provides the slog handler that adds them to every record logged with
// that context, so handlers log with the …Context methods and never
// thread the id by hand.
package reqctx
