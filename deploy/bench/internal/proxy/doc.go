// Package proxy is the bench's reference reverse proxy: a plain
// httputil.ReverseProxy with the same transport tuning as the Portcullis
// gateway, so that the bare-proxy and stateful-db rows differ from the
// gateway rows only in what the gateway adds (token verification, roles,
// headers, logging, metrics) and not in connection handling.
package proxy
