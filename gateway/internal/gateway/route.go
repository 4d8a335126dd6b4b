package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/shared/roles"
	"github.com/portcullis/portcullis/shared/verify"
)

// Identity headers the upstream receives.
const (
	HeaderSubject = "X-Portcullis-Subject"
	HeaderClient  = "X-Portcullis-Client"
	HeaderIssuer  = "X-Portcullis-Issuer"
	HeaderRoles   = "X-Portcullis-Roles"
)

// route is one resource: it runs verify -> revocation -> authorise ->
// identity headers -> proxy for requests ServeMux matched to it.
type route struct {
	g   *Gateway
	rt  *runtime
	res config.Resource

	account, accountWild         string
	application, applicationWild string
	proxy                        http.Handler
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st, ok := w.(*reqState)
	if !ok {
		// Only reachable if someone mounts the mux elsewhere; refuse.
		writeError(w, http.StatusInternalServerError, "server_error", "misrouted request", "")
		return
	}
	st.routed = true
	st.resource = rt.res.Name
	if st.explain != nil {
		rt.explainRoute(st, r)
		return
	}
	stripIdentityHeaders(r.Header)

	var id *identity
	if rt.res.Access != config.AccessPublic {
		if id = rt.authenticate(st, r); id == nil {
			return
		}
		if rt.res.Access == config.AccessRoles && !rt.authorised(id, r) {
			st.decision = decInsufficientScope
			writeError(st, http.StatusForbidden, "insufficient_scope",
				"the token does not grant a role this resource requires",
				challenge(rt.rt.realm, "insufficient_scope", "the token does not grant a role this resource requires"))
			return
		}
		st.decision = decAllow
		h := r.Header
		h[HeaderSubject] = id.subject
		h[HeaderClient] = id.client
		h[HeaderIssuer] = id.issuer
		h[HeaderRoles] = id.roles
	} else {
		st.decision = decPublic
	}
	if !rt.res.ForwardToken {
		delete(r.Header, "Authorization")
	}
	if c := r.Header["Connection"]; len(c) > 0 {
		// ReverseProxy drops every header the Connection header names; a
		// client naming ours would strip the identity the upstream relies on.
		r.Header["Connection"] = withoutIdentityTokens(c)
	}
	if id != nil && isUpgrade(r) {
		rt.proxy.ServeHTTP(&expiringWriter{reqState: st, expires: id.tok.ExpiresAt, now: rt.g.now}, r)
		return
	}
	rt.proxy.ServeHTTP(st, r)
}

// authenticate finds and checks the bearer token, answering the request
// itself (and returning nil) when it is missing or refused.
func (rt *route) authenticate(st *reqState, r *http.Request) *identity {
	realm := rt.rt.realm
	if hasQueryToken(r.URL.RawQuery) {
		// RFC 6750 2.3 is deliberately not supported: URLs end up in logs.
		st.decision = decInvalidRequest
		writeError(st, http.StatusBadRequest, "invalid_request", "tokens are accepted only in the Authorization header",
			challenge(realm, "invalid_request", "tokens are accepted only in the Authorization header"))
		return nil
	}
	authz := r.Header["Authorization"]
	if len(authz) == 0 {
		st.decision = decNoToken
		writeError(st, http.StatusUnauthorized, "unauthorized", "a bearer token is required", rt.rt.noToken)
		return nil
	}
	raw, ok := bearer(authz)
	if !ok {
		st.decision = decInvalidRequest
		writeError(st, http.StatusBadRequest, "invalid_request", "malformed Authorization header",
			challenge(realm, "invalid_request", "malformed Authorization header"))
		return nil
	}
	now := rt.g.now()
	var id *identity
	if c := rt.rt.cache; c != nil {
		if v, hit := c.Get(raw, now); hit && v.src.Has(v.tok.KeyID) {
			id = v
			rt.g.metrics.CacheHits.Inc()
		}
	}
	if id == nil {
		rt.g.metrics.CacheMisses.Inc()
		var err error
		if id, err = rt.verify(r.Context(), raw, now); err != nil {
			st.decision = decInvalidToken
			reason := verify.ReasonOf(err)
			st.reason = reason.String()
			desc := reason.Description()
			writeError(st, http.StatusUnauthorized, "invalid_token", desc, challenge(realm, "invalid_token", desc))
			return nil
		}
	}
	st.subject = id.tok.Subject
	// The seam for issue 6: a revocation set consulted after verification
	// on every request, cached or not. It must be a map lookup.
	if rv := rt.g.revocations; rv != nil && rv.Revoked(id.tok.ID, id.tok.Subject, id.tok.ClientID, id.tok.IssuedAt) {
		st.decision = decRevoked
		st.reason = verify.ReasonRevoked.String()
		desc := verify.ReasonRevoked.Description()
		writeError(st, http.StatusUnauthorized, "invalid_token", desc, challenge(realm, "invalid_token", desc))
		return nil
	}
	return id
}

func (rt *route) verify(ctx context.Context, raw string, now time.Time) (*identity, error) {
	tok, _, err := rt.rt.verifiers.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	is := rt.rt.issuers[tok.Issuer]
	id, err := newIdentity(tok, is.src)
	if err != nil {
		return nil, &verify.Error{Reason: verify.ReasonClaims, Err: err}
	}
	if c := rt.rt.cache; c != nil && tok.ExpiresAt.After(now) {
		c.Put(strings.Clone(raw), tok.ExpiresAt, now, id)
	}
	return id, nil
}

// authorised applies THE role rule (shared/roles) for this resource's
// account and application, taken literally or from the matched path.
func (rt *route) authorised(id *identity, r *http.Request) bool {
	account, app := rt.account, rt.application
	if rt.accountWild != "" {
		account = r.PathValue(rt.accountWild)
	}
	if rt.applicationWild != "" {
		app = r.PathValue(rt.applicationWild)
	}
	return roles.Satisfied(id.tok.Roles, rt.res.Roles, account, app)
}

// bearer extracts the token from exactly one "Bearer <token>" header
// (scheme case-insensitive, RFC 6750 2.1).
func bearer(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	v := values[0]
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(v[7:])
	if tok == "" || strings.ContainsAny(tok, " \t,") {
		return "", false
	}
	return tok, true
}

// hasQueryToken reports an access_token query parameter (RFC 6750 2.3).
// The cheap substring test keeps query parsing off the common path.
func hasQueryToken(rawQuery string) bool {
	if !strings.Contains(rawQuery, "access_token") {
		return false
	}
	q, err := url.ParseQuery(rawQuery)
	return err != nil || q.Has("access_token")
}

// stripIdentityHeaders removes every incoming header an upstream might read
// as one of ours: any case, and "_" in place of "-" (some servers, e.g.
// CGI-style ones, fold both to the same variable). It does not allocate.
func stripIdentityHeaders(h map[string][]string) {
	const prefix = "x-portcullis-"
	for k := range h {
		if len(k) < len(prefix) {
			continue
		}
		match := true
		for i := 0; i < len(prefix); i++ {
			c := k[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c == '_' {
				c = '-'
			}
			if c != prefix[i] {
				match = false
				break
			}
		}
		if match {
			delete(h, k)
		}
	}
}

// withoutIdentityTokens removes X-Portcullis-* names (any spelling) from
// Connection header values; values without them are returned as they are.
func withoutIdentityTokens(values []string) []string {
	dirty := false
	for _, v := range values {
		if containsFold(v, "portcullis") {
			dirty = true
			break
		}
	}
	if !dirty {
		return values
	}
	var out []string
	for _, v := range values {
		var keep []string
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			h := map[string][]string{tok: nil}
			if stripIdentityHeaders(h); len(h) == 1 {
				keep = append(keep, tok)
			}
		}
		if len(keep) > 0 {
			out = append(out, strings.Join(keep, ", "))
		}
	}
	return out
}

// containsFold is an allocation-free ASCII case-insensitive substring test.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
