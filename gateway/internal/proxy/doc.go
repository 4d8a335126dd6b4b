// Package proxy builds the gateway's upstream side: one tuned transport
// cloned from http.DefaultTransport and shared by every upstream (Go's
// default keeps only two idle connections per host, which costs a proxy
// most of its throughput), and an httputil.ReverseProxy per resource using
// Rewrite (so X-Forwarded-* and hop-by-hop handling are the standard
// library's) with an ErrorHandler supplied by the gateway.
package proxy
