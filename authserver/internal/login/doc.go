// Package login is the auth server's browser sign-in: a server-rendered
// login page (html/template, embedded CSS, no third-party assets) protected
// by a double-submit CSRF token, the credential check shared with the
// password grant (same failed-login limits), and a short-lived login
// session kept server-side behind an HttpOnly, SameSite=Lax cookie (Secure
// when the issuer is https) so that a signed-in user skips the form until
// it expires or GET /oauth2/logout ends it. The authorization endpoint
// (internal/authorize) asks it for the current session and to render the
// form; this package never issues codes or tokens itself.
package login
