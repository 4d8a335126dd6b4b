// Package report holds the benchmark's results and writes them three ways: a
// table on stdout, docs/bench/results.json for machines, and
// docs/bench/gateway.svg (requests/s and p99 per proxy configuration) for the
// README. It also checks the figures against the targets of issue 8.
package report
