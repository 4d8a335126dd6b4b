// Package serve runs the bench's own configurations as servers: the fallback
// upstream, the bare reverse proxy and the stateful per-request-database
// proxy. Each runs in a process of its own, started by the orchestrator, and
// stops cleanly when its context ends (SIGTERM).
package serve
