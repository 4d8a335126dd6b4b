package gateway

import (
	"net/http"
	"strconv"
)

// decision is what the gateway decided for a request; its name is the
// "decision" label and the access-log field.
type decision uint8

const (
	decNone decision = iota
	decAllow
	decPublic
	decNoToken
	decInvalidRequest
	decInvalidToken
	decRevoked
	decInsufficientScope
	decNotFound
	decMethodNotAllowed
	decRedirect
	decBadPath
	decUpstreamError
	decUpstreamTimeout
	decOwnEndpoint
)

var decisionNames = [...]string{
	decNone:              "none",
	decAllow:             "allow",
	decPublic:            "public",
	decNoToken:           "no_token",
	decInvalidRequest:    "invalid_request",
	decInvalidToken:      "invalid_token",
	decRevoked:           "revoked",
	decInsufficientScope: "insufficient_scope",
	decNotFound:          "not_found",
	decMethodNotAllowed:  "method_not_allowed",
	decRedirect:          "redirect",
	decBadPath:           "bad_path",
	decUpstreamError:     "upstream_error",
	decUpstreamTimeout:   "upstream_timeout",
	decOwnEndpoint:       "gateway",
}

func (d decision) String() string { return decisionNames[d] }

// writeError renders the gateway's one error shape: a JSON body
// {"error","error_description"} and, for 401/403, an RFC 6750 challenge.
func writeError(w http.ResponseWriter, status int, code, desc, challenge string) {
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	body := `{"error":` + strconv.Quote(code) + `,"error_description":` + strconv.Quote(desc) + "}\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	// #nosec G705 -- a JSON body of fixed error codes and descriptions.
	_, _ = w.Write([]byte(body))
}

// challenge builds an RFC 6750 3 WWW-Authenticate value. Descriptions are
// fixed sentences without quotes (shared/verify guarantees it for token
// errors), so they need no escaping.
func challenge(realm, errCode, desc string) string {
	if errCode == "" {
		return `Bearer realm="` + realm + `"`
	}
	return `Bearer realm="` + realm + `", error="` + errCode + `", error_description="` + desc + `"`
}
