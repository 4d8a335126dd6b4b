// Package gatewaytest boots real gateways for tests: a fake issuer (OpenID
// discovery + JWKS over httptest, with key rotation, outages and a fetch
// counter) that mints tokens with test keys, an echoing upstream, a
// settable clock, and Start, which serves a gateway on a real listener and
// waits until it is ready. The auth server is not needed.
package gatewaytest
