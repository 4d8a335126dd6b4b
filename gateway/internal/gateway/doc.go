// Package gateway is the request path of the Portcullis gateway and its
// lifecycle. The chain, in this order and written down only here (see
// Gateway.ServeHTTP and route.ServeHTTP): request id -> access log and
// metrics -> the gateway's own health/ready/metrics endpoints (never
// proxied) -> path cleaning -> route match (404, or 405 with Allow) ->
// token verification (401) -> revocation check (the seam for issue 6) ->
// role authorisation (403) -> identity headers (incoming X-Portcullis-* in
// any spelling stripped first; Authorization dropped unless forward_token)
// -> httputil.ReverseProxy (502/504). The configuration lives in an
// immutable runtime swapped atomically on reload.
package gateway
