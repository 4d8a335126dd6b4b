// Package bench is the home of `make bench`: the portcullis-bench command
// (cmd/portcullis-bench) measures the Portcullis gateway and auth server side
// by side with a bare reverse proxy and with the per-request database check
// that Portcullis replaces, and writes docs/bench/. It is a module of its own
// so that the gateway module never links an SQL driver.
package bench
