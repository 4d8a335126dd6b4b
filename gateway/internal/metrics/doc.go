// Package metrics holds the gateway's Prometheus collectors, registered on
// the gateway's own registry (never the global one). Request counters are
// resolved once per label set and then looked up without locks or
// allocations, because they are touched on every request.
package metrics
