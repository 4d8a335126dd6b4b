// Package userinfo serves the OpenID Connect UserInfo endpoint (Core 1.0
// 5.3): GET or POST /userinfo with a bearer access token (RFC 6750 2.1)
// that carries the openid scope returns the user's claims that the token's
// scope releases. The token is verified exactly as introspection does
// (shared/verify plus the revocation events); refusals carry RFC 6750
// WWW-Authenticate challenges.
package userinfo
