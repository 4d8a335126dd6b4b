// Package server is the auth server's HTTP front: an echo/v4 server whose
// handler groups (token, discovery, revocation, introspection, health,
// metrics) each hold their dependencies and register their own routes,
// behind one middleware chain (request id, recovery, body limit, request
// log and metrics) and one HTTPErrorHandler that renders RFC 6749 JSON
// errors. Run serves a listener and drains in-flight requests on shutdown.
package server
