package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/shared/verify"
)

// Explanation is what `gateway explain` prints: each step of the decision
// for one request, and the outcome.
type Explanation struct {
	Lines   []string
	Allowed bool
	Status  int
}

func (e *Explanation) add(format string, args ...any) {
	e.Lines = append(e.Lines, fmt.Sprintf(format, args...))
}

// LoadKeys loads every issuer's keys synchronously (explain has no time to
// wait for the background loaders). Failures are returned per issuer.
func (g *Gateway) LoadKeys(ctx context.Context) map[string]error {
	out := map[string]error{}
	for iss, is := range g.rt.Load().issuers {
		if is.src.Ready() {
			continue
		}
		if err := is.src.Load(ctx); err != nil {
			out[iss] = err
		}
	}
	return out
}

// Explain runs the real decision chain for METHOD target with token (may be
// empty) without proxying anything, and says why it would be allowed or
// refused.
func (g *Gateway) Explain(ctx context.Context, method, target, token string) (*Explanation, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ex := &Explanation{}
	rt := g.rt.Load()
	rec := httptest.NewRecorder()
	st := getState(rec, rt.realm)
	defer putState(st)
	st.explain = ex
	clean, ok := cleanPath(req.URL.Path, req.URL.RawPath)
	if !ok {
		ex.add("path: %q is refused (encoded separator, backslash or NUL)", req.URL.EscapedPath())
		ex.add("decision: refused (400 invalid_request)")
		ex.Status = http.StatusBadRequest
		return ex, nil
	}
	if clean != req.URL.Path {
		ex.add("path: %q cleaned to %q before matching", req.URL.Path, clean)
		req.URL.Path, req.URL.RawPath = clean, ""
	}
	rt.mux.ServeHTTP(st, req)
	if !st.routed || st.decision == decNotFound || st.decision == decMethodNotAllowed || st.decision == decRedirect {
		ex.Status = rec.Code
		switch rec.Code {
		case http.StatusMethodNotAllowed:
			ex.add("resource: the path matches, but not the method %s (Allow: %s)", method, rec.Header().Get("Allow"))
			ex.add("decision: refused (405 method_not_allowed)")
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
			ex.add("resource: none; ServeMux redirects to %s", rec.Header().Get("Location"))
			ex.add("decision: redirect (%d)", rec.Code)
		default:
			ex.add("resource: no resource matches %s %s", method, req.URL.Path)
			ex.add("decision: refused (404 not_found)")
		}
	}
	return ex, nil
}

// explainRoute is route.ServeHTTP's explain mode.
func (rt *route) explainRoute(st *reqState, r *http.Request) {
	ex := st.explain
	res := rt.res
	ex.add("resource: %s (pattern %q, upstream %s)", res.Name, r.Pattern, res.Upstream)
	account, app := rt.account, rt.application
	if rt.accountWild != "" {
		account = r.PathValue(rt.accountWild)
	}
	if rt.applicationWild != "" {
		app = r.PathValue(rt.applicationWild)
	}
	switch res.Access {
	case config.AccessPublic:
		ex.add("access: public (no token needed)")
		ex.add("decision: allowed (proxied to %s)", res.Upstream)
		ex.Allowed, ex.Status = true, http.StatusOK
		return
	case config.AccessToken:
		ex.add("access: token (any valid token from a trusted issuer)")
	default:
		ex.add("access: roles (one of [%s] for account %q, application %q)", strings.Join(res.Roles, ", "), account, app)
	}
	if hasQueryToken(r.URL.RawQuery) {
		ex.add("token: found in the query string, which is not accepted")
		ex.add("decision: refused (400 invalid_request)")
		ex.Status = http.StatusBadRequest
		return
	}
	raw, ok := bearer(r.Header["Authorization"])
	if !ok {
		ex.add("token: none given")
		ex.add("decision: refused (401, WWW-Authenticate: %s)", rt.rt.noToken)
		ex.Status = http.StatusUnauthorized
		return
	}
	tok, _, err := rt.rt.verifiers.Verify(r.Context(), raw)
	if err != nil {
		reason := verify.ReasonOf(err)
		ex.add("token: refused by check %q: %s", reason.String(), reason.Description())
		ex.add("  detail: %v", err)
		ex.add("decision: refused (401 invalid_token)")
		ex.Status = http.StatusUnauthorized
		return
	}
	ex.add("token: valid (issuer %s, subject %q, client %q, key %q %s, expires %s)",
		tok.Issuer, tok.Subject, tok.ClientID, tok.KeyID, tok.Algorithm, tok.ExpiresAt.UTC().Format(time.RFC3339))
	if rv := rt.g.revocations; rv != nil && rv.Revoked(tok.ID, tok.Subject, tok.ClientID, tok.IssuedAt) {
		ex.add("revocation: the token is revoked")
		ex.add("decision: refused (401 invalid_token)")
		ex.Status = http.StatusUnauthorized
		return
	}
	if res.Access == config.AccessRoles {
		if len(tok.Roles) == 0 {
			ex.add("grants considered: none (the token carries no roles)")
		} else {
			ex.add("grants considered:")
		}
		allowed := false
		for _, gr := range tok.Roles {
			var met []string
			for _, need := range res.Roles {
				if gr.Satisfies(need, account, app) {
					met = append(met, need)
				}
			}
			if len(met) > 0 {
				allowed = true
				ex.add("  %s: satisfies %s", gr.String(), strings.Join(met, ", "))
			} else {
				ex.add("  %s: does not satisfy any required role here", gr.String())
			}
		}
		if !allowed {
			ex.add("decision: refused (403 insufficient_scope)")
			ex.Status = http.StatusForbidden
			return
		}
	}
	ex.add("decision: allowed (proxied to %s with X-Portcullis-* identity headers)", res.Upstream)
	ex.Allowed, ex.Status = true, http.StatusOK
}
