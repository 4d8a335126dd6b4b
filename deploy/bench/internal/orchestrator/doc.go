// Package orchestrator runs a whole benchmark: it starts the upstream, then
// each configuration in its own process (bare proxy, stateful proxy on
// SQLite and PostgreSQL, the gateway with and without its token cache, auth
// servers per signing algorithm), warms each up, loads it three times, and
// hands the figures to package report. Every load is bounded in time and
// aimed at 127.0.0.1 only; every child is stopped before Run returns.
package orchestrator
