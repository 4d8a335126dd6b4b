// Package microbench runs the Go micro-benchmarks that live beside the code
// they measure (the gateway's middleware path, token signing and
// verification) with `go test -bench` and reads ns/op, B/op and allocs/op
// from their output, so that `make bench` reports them with the load figures.
package microbench
