// Package oauth is the token service: it wires go-oauth2/oauth2/v4 (manager,
// client store, token store, access-token generator, hooks) to Portcullis'
// store, signer and refresh-token store, and adds what the library does not
// do for us: one place that parses token requests and authenticates clients
// for every grant, roles read from the store on every issue, refresh-token
// rotation with reuse detection, the password grant with rate limiting, and
// RFC 7009 revocation and RFC 7662 introspection. Hooks and stores hand the
// library its own error sentinels, unwrapped; everything else is mapped in
// one place (ErrorFor).
package oauth
