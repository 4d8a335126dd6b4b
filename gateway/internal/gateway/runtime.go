package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/keys"
	"github.com/portcullis/portcullis/gateway/internal/proxy"
	"github.com/portcullis/portcullis/gateway/internal/tokencache"
	"github.com/portcullis/portcullis/shared/roles"
	"github.com/portcullis/portcullis/shared/verify"
)

// runtime is one immutable, fully built configuration: a reload builds a
// new one and swaps it in atomically; requests in flight finish on the old.
type runtime struct {
	cfg       *config.File
	mux       *http.ServeMux
	routes    []*route
	issuers   map[string]*issuer
	verifiers *verify.Issuers
	cache     *tokencache.Cache[*identity] // nil when disabled
	realm     string
	noToken   string // WWW-Authenticate for a request without a token
	transport *http.Transport
}

type issuer struct {
	src *keys.Source
	v   *verify.Verifier
}

// identity is a verified token plus everything the request path derives
// from it, computed once and shared by every request carrying the token.
type identity struct {
	tok     *verify.Token
	src     *keys.Source
	subject []string // header values, ready to assign without allocating
	client  []string
	issuer  []string
	roles   []string
}

func newIdentity(tok *verify.Token, src *keys.Source) (*identity, error) {
	grants := tok.Roles
	if grants == nil {
		grants = []roles.Grant{}
	}
	b, err := json.Marshal(grants)
	if err != nil {
		return nil, fmt.Errorf("encode roles header: %w", err)
	}
	return &identity{
		tok:     tok,
		src:     src,
		subject: []string{tok.Subject},
		client:  []string{tok.ClientID},
		issuer:  []string{tok.Issuer},
		roles:   []string{string(b)},
	}, nil
}

// buildRuntime turns a validated config into a runtime. sources returns the
// key source for an issuer (reusing a running one when its settings did
// not change).
func (g *Gateway) buildRuntime(cfg *config.File, sources func(config.Issuer) *keys.Source) (*runtime, error) {
	rt := &runtime{
		cfg:     cfg,
		mux:     http.NewServeMux(),
		issuers: make(map[string]*issuer, len(cfg.Issuers)),
		realm:   cfg.Realm,
		noToken: challenge(cfg.Realm, "", ""),
		transport: proxy.NewTransport(proxy.TransportOptions{
			DialTimeout:           cfg.Upstream.DialTimeout,
			ResponseHeaderTimeout: cfg.Upstream.ResponseHeaderTimeout,
			IdleConnTimeout:       cfg.Upstream.IdleConnTimeout,
			MaxIdleConnsPerHost:   cfg.Upstream.MaxIdleConnsPerHost,
		}),
	}
	var vs []*verify.Verifier
	for _, ic := range cfg.Issuers {
		src := sources(ic)
		v, err := verify.New(ic.VerifyConfig(src, g.now))
		if err != nil {
			return nil, fmt.Errorf("issuer %s: %w", ic.Issuer, err)
		}
		rt.issuers[ic.Issuer] = &issuer{src: src, v: v}
		vs = append(vs, v)
	}
	var err error
	if rt.verifiers, err = verify.NewIssuers(vs...); err != nil {
		return nil, fmt.Errorf("issuers: %w", err)
	}
	if cfg.TokenCache.On() {
		rt.cache = tokencache.New[*identity](cfg.TokenCache.Size)
	}
	for _, res := range cfg.Resources {
		target, err := url.Parse(res.Upstream)
		if err != nil {
			return nil, fmt.Errorf("resource %s: upstream: %w", res.Name, err)
		}
		r := &route{g: g, rt: rt, res: res}
		r.account, r.accountWild = splitRef(res.Account)
		r.application, r.applicationWild = splitRef(res.Application)
		r.proxy = proxy.New(target, res.StripPrefix, rt.transport, g.proxyError)
		for _, pat := range res.Patterns() {
			if err := safeHandle(rt.mux, pat, r); err != nil {
				return nil, fmt.Errorf("resource %s: %w", res.Name, err)
			}
		}
		rt.routes = append(rt.routes, r)
	}
	return rt, nil
}

func splitRef(v string) (literal, wildcard string) {
	if name, ok := config.WildcardRef(v); ok {
		return "", name
	}
	return v, ""
}

func safeHandle(mux *http.ServeMux, pat string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pattern %q: %v", pat, r)
		}
	}()
	mux.Handle(pat, h)
	return nil
}

// ready reports whether every issuer's keys are loaded and fresh.
func (rt *runtime) ready() (bool, []string) {
	var missing []string
	for name, is := range rt.issuers {
		if !is.src.Ready() {
			missing = append(missing, name)
		}
	}
	return len(missing) == 0, missing
}

var _ http.Handler = (*httputil.ReverseProxy)(nil)

// isUpgrade reports a protocol upgrade request (WebSocket).
func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && headerHasToken(r.Header["Connection"], "upgrade")
}

func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
