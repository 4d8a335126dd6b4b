// Package procs runs each benchmarked configuration as a child process of
// its own on a free loopback port, waits for it by polling its readiness
// URL, reads its peak memory from /proc, and makes sure no child outlives the
// benchmark (stopped in reverse order on return, on error and on Ctrl-C).
package procs
