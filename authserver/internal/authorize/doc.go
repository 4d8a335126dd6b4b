// Package authorize serves GET /oauth2/authorize, the authorization
// endpoint of the authorization code flow (RFC 6749 4.1) with PKCE (RFC
// 7636, S256 only, required for public clients). It identifies the client
// and its exactly-matching redirect URI first: when either is wrong the
// browser gets an HTML error page, never a redirect (RFC 6749 4.1.2.1);
// every later problem is sent back to the client's redirect URI with
// error, state and iss (RFC 9207). A browser with a live login session
// (internal/login) receives a single-use code (internal/authcode) at once;
// otherwise it gets the login form, which returns here after sign-in.
package authorize
