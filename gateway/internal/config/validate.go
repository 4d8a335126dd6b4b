package config

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/verify"
)

// Problems is every problem Validate found, one per line.
type Problems []string

func (p Problems) Error() string {
	return fmt.Sprintf("%d config problem(s):\n  - %s", len(p), strings.Join(p, "\n  - "))
}

// Validate checks the whole file and returns Problems listing everything
// wrong, or nil. It does no I/O and has no side effects.
func (f *File) Validate() error {
	var p Problems
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	if _, _, err := net.SplitHostPort(f.Listen); err != nil {
		add("listen %q: want host:port", f.Listen)
	}
	if strings.ContainsAny(f.Realm, "\"\\\r\n") {
		add("realm must not contain quotes, backslashes or newlines")
	}
	own := map[string]string{}
	for name, path := range map[string]string{"paths.health": f.Paths.Health, "paths.ready": f.Paths.Ready, "paths.metrics": f.Paths.Metrics} {
		if !strings.HasPrefix(path, "/") {
			add("%s %q must start with /", name, path)
		}
		if other, dup := own[path]; dup {
			add("%s and %s are both %q", name, other, path)
		}
		own[path] = name
	}
	if f.TokenCache.Size < 1 {
		add("token_cache.size must be positive")
	}
	if f.Upstream.MaxIdleConnsPerHost < 1 {
		add("upstream.max_idle_conns_per_host must be positive")
	}
	switch f.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level %q: want debug, info, warn or error", f.Log.Level)
	}
	switch f.Log.Format {
	case "json", "text":
	default:
		add("log.format %q: want json or text", f.Log.Format)
	}

	if f.Revocation.Enabled() {
		if err := f.Revocation.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				add("%s", line)
			}
		}
	}

	f.validateIssuers(add)
	f.validateResources(add, own)
	if len(p) == 0 {
		return nil
	}
	return p
}

func (f *File) validateIssuers(add func(string, ...any)) {
	seen := map[string]bool{}
	for i, is := range f.Issuers {
		where := fmt.Sprintf("issuers[%d]", i)
		if is.Issuer != "" {
			where = fmt.Sprintf("issuers[%d] (%s)", i, is.Issuer)
		}
		if err := checkHTTPURL(is.Issuer); err != nil {
			add("%s: issuer: %v", where, err)
		}
		if seen[is.Issuer] {
			add("%s: issuer configured twice", where)
		}
		seen[is.Issuer] = true
		if is.JWKSURI != "" {
			if err := checkHTTPURL(is.JWKSURI); err != nil {
				add("%s: jwks_uri: %v", where, err)
			}
		}
		if _, err := claims.ParseFormat(is.RolesFormat); err != nil || is.RolesFormat == "compact" {
			add("%s: roles_format %q: want scoped or strings", where, is.RolesFormat)
		}
		// verify.New holds the authoritative checks of the verification
		// settings (alg allow-list, claim syntax, audiences); it is pure.
		if _, err := verify.New(is.VerifyConfig(verify.StaticKeys{}, nil)); err != nil {
			add("%s: %v", where, strings.TrimPrefix(err.Error(), "verify: "))
		}
		if is.StaleKeysMax <= 0 {
			add("%s: stale_keys_max must be positive", where)
		}
		if is.RefreshMin < time.Second {
			add("%s: refresh_min must be at least 1s", where)
		}
		if is.RefreshMax < is.RefreshMin {
			add("%s: refresh_max must not be below refresh_min", where)
		}
		if is.RefreshMax > is.StaleKeysMax {
			add("%s: refresh_max must not exceed stale_keys_max (keys would go stale between refreshes)", where)
		}
		if is.RefetchMinInterval <= 0 {
			add("%s: refetch_min_interval must be positive", where)
		}
	}
}

// VerifyConfig maps the issuer section onto shared/verify's Config.
func (is Issuer) VerifyConfig(keys verify.Keys, now func() time.Time) verify.Config {
	return verify.Config{
		Issuer:       is.Issuer,
		Audiences:    is.Audiences,
		Algorithms:   is.Algorithms,
		SubjectClaim: is.SubjectClaim,
		RolesClaim:   is.RolesClaim,
		RolesFormat:  is.RolesFormat,
		Leeway:       *is.Leeway,
		MaxTokenSize: is.MaxTokenSize,
		Keys:         keys,
		Now:          now,
	}
}

var methodRE = regexp.MustCompile(`^[A-Z]+$`)

func (f *File) validateResources(add func(string, ...any), own map[string]string) {
	names := map[string]bool{}
	mux := http.NewServeMux()
	owners := map[string]string{} // pattern -> resource name
	needsIssuer := false
	for i, r := range f.Resources {
		where := fmt.Sprintf("resources[%d]", i)
		if r.Name != "" {
			where = fmt.Sprintf("resources[%d] (%s)", i, r.Name)
		} else {
			add("%s: name is required", where)
		}
		if names[r.Name] && r.Name != "" {
			add("%s: name used twice", where)
		}
		names[r.Name] = true
		if r.Path == "" || strings.ContainsAny(r.Path, " \t") {
			add("%s: path %q: want a ServeMux pattern without method (methods go in methods)", where, r.Path)
			continue
		}
		for _, m := range r.Methods {
			if !methodRE.MatchString(m) {
				add("%s: method %q: want an upper-case HTTP method", where, m)
			}
		}
		if err := checkHTTPURL(r.Upstream); err != nil {
			add("%s: upstream: %v", where, err)
		}
		switch r.Access {
		case AccessPublic, AccessToken:
			if len(r.Roles) > 0 {
				add("%s: roles apply only to access: roles", where)
			}
		case AccessRoles:
			if len(r.Roles) == 0 {
				add("%s: access: roles needs at least one role", where)
			}
		default:
			add("%s: access %q: want public, token or roles", where, r.Access)
		}
		if r.Access != AccessPublic {
			needsIssuer = true
		}
		wild := Wildcards(r.Path)
		for field, v := range map[string]string{"account": r.Account, "application": r.Application} {
			if name, ok := WildcardRef(v); ok {
				if !wild[name] {
					add("%s: %s %q names a wildcard the path pattern lacks", where, field, v)
				}
			} else if strings.ContainsAny(v, "{}") {
				add("%s: %s %q: want a literal or a single {wildcard}", where, field, v)
			}
		}
		if r.Application != "" && r.Account == "" {
			add("%s: application needs an account", where)
		}
		if r.StripPrefix != "" {
			if !strings.HasPrefix(r.StripPrefix, "/") || strings.HasSuffix(r.StripPrefix, "/") {
				add("%s: strip_prefix %q must start with / and not end with /", where, r.StripPrefix)
			} else if !strings.HasPrefix(pathPart(r.Path), r.StripPrefix) {
				add("%s: strip_prefix %q is not a prefix of the path", where, r.StripPrefix)
			}
		}
		if name, ok := own[pathPart(r.Path)]; ok {
			add("%s: path %q is the gateway's own %s endpoint", where, r.Path, name)
		}
		for _, pat := range r.Patterns() {
			if err := register(mux, pat, owners); err != nil {
				add("%s: %v", where, err)
			}
			owners[pat] = r.Name
		}
	}
	if needsIssuer && len(f.Issuers) == 0 {
		add("a resource needs a token but no issuers are configured")
	}
}

var conflictRE = regexp.MustCompile(`conflicts with pattern "([^"]*)"`)

// register adds pat to mux, turning ServeMux's panic on an invalid or
// conflicting pattern (including the same pattern and method twice) into
// an error naming the resource it conflicts with.
func register(mux *http.ServeMux, pat string, owners map[string]string) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		msg := fmt.Sprint(r)
		if m := conflictRE.FindStringSubmatch(msg); m != nil {
			lines := strings.Split(strings.TrimSpace(msg), "\n")
			err = fmt.Errorf("pattern %q conflicts with resource %q (pattern %q): %s",
				pat, owners[m[1]], m[1], strings.TrimSpace(lines[len(lines)-1]))
			return
		}
		err = fmt.Errorf("pattern %q: %s", pat, msg)
	}()
	mux.Handle(pat, http.NotFoundHandler())
	return nil
}

// Patterns are the ServeMux patterns of the resource: one per method, or
// the bare path when methods is empty (all methods).
func (r Resource) Patterns() []string {
	if len(r.Methods) == 0 {
		return []string{r.Path}
	}
	out := make([]string, len(r.Methods))
	for i, m := range r.Methods {
		out[i] = m + " " + r.Path
	}
	return out
}

var wildcardRE = regexp.MustCompile(`\{([^{}.]+)(\.\.\.)?\}`)

// Wildcards returns the wildcard names of a ServeMux path pattern ({$} is
// not a wildcard).
func Wildcards(pattern string) map[string]bool {
	out := map[string]bool{}
	for _, m := range wildcardRE.FindAllStringSubmatch(pattern, -1) {
		if m[1] != "$" {
			out[m[1]] = true
		}
	}
	return out
}

// WildcardRef reports whether v is "{name}" and returns name.
func WildcardRef(v string) (string, bool) {
	if len(v) > 2 && v[0] == '{' && v[len(v)-1] == '}' && !strings.ContainsAny(v[1:len(v)-1], "{}./") {
		return v[1 : len(v)-1], true
	}
	return "", false
}

// pathPart drops a host from a pattern ("example.com/x" -> "/x").
func pathPart(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		return pattern[i:]
	}
	return pattern
}

func checkHTTPURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http(s) URL")
	}
	return nil
}
