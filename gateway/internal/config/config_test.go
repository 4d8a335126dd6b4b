package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
)

const base = `
issuers:
  - issuer: http://127.0.0.1:9096
    audiences: [portcullis]
resources:
  - name: billing-api
    methods: [GET, POST]
    path: /billing/{rest...}
    upstream: http://127.0.0.1:8081
    strip_prefix: /billing
    account: acme
    application: billing
    access: roles
    roles: [developer, consumer]
`

func TestParseDefaultsAndEnv(t *testing.T) {
	f, err := config.Parse([]byte(base), map[string]string{
		"PORTCULLIS_LISTEN":              "0.0.0.0:9000",
		"PORTCULLIS_TOKEN_CACHE_ENABLED": "false",
		"PORTCULLIS_LOG_LEVEL":           "debug",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if f.Listen != "0.0.0.0:9000" || f.TokenCache.On() || f.Log.Level != "debug" {
		t.Fatalf("env overlay: listen %q cache %v level %q", f.Listen, f.TokenCache.On(), f.Log.Level)
	}
	is := f.Issuers[0]
	if is.StaleKeysMax != 24*time.Hour || *is.Leeway != 30*time.Second || is.MaxTokenSize != 8<<10 ||
		strings.Join(is.Algorithms, ",") != "RS256,ES256,EdDSA" || is.RolesClaim != "roles" || is.SubjectClaim != "sub" {
		t.Fatalf("issuer defaults: %+v", is)
	}
	if f.Paths.Health != "/healthz" || f.Paths.Ready != "/readyz" || f.Paths.Metrics != "/metrics" || f.Realm != "portcullis" {
		t.Fatalf("defaults: %+v %q", f.Paths, f.Realm)
	}

	f, err = config.Parse([]byte(base), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Listen != "127.0.0.1:8080" || !f.TokenCache.On() {
		t.Fatalf("defaults: listen %q cache %v", f.Listen, f.TokenCache.On())
	}
}

func TestParseIsStrict(t *testing.T) {
	if _, err := config.Parse([]byte(base+"unknown_key: 1\n"), map[string]string{}); err == nil {
		t.Fatal("unknown top-level key accepted")
	}
	if _, err := config.Parse([]byte(strings.Replace(base, "audiences:", "audience:", 1)), map[string]string{}); err == nil {
		t.Fatal("unknown issuer key accepted")
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cases := map[string]struct {
		yaml string
		want []string
	}{
		"duplicate pattern and method": {base + `
  - name: other
    methods: [POST]
    path: /billing/{rest...}
    upstream: http://127.0.0.1:8082
    access: token
`, []string{`conflicts with resource "billing-api"`}},
		"unknown wildcards": {base + `
  - name: tenant
    path: /accounts/{account}/apps/{app}/{rest...}
    upstream: http://127.0.0.1:8082
    account: "{acct}"
    application: "{application}"
    access: roles
    roles: [developer]
`, []string{`account "{acct}" names a wildcard`, `application "{application}" names a wildcard`}},
		"several problems at once": {`
listen: bad
issuers:
  - issuer: not-a-url
    audiences: []
    algorithms: [none]
    roles_format: xml
resources:
  - name: x
    path: /x
    upstream: ftp://x
    access: sometimes
  - name: x
    path: /y
    upstream: http://127.0.0.1:1
    access: public
    roles: [developer]
  - name: z
    path: /healthz
    upstream: http://127.0.0.1:1
    access: roles
`, []string{"listen", "issuer: want an absolute", "roles_format", `algorithm "none"`, "at least one audience",
			"upstream: want an absolute", `access "sometimes"`, "name used twice", "roles apply only to access: roles",
			"own paths.health endpoint", "needs at least one role"}},
		"strip_prefix outside the path": {strings.Replace(base, "strip_prefix: /billing", "strip_prefix: /other", 1),
			[]string{"strip_prefix"}},
		"token resources need an issuer": {`
resources:
  - name: t
    path: /t
    upstream: http://127.0.0.1:1
    access: token
`, []string{"no issuers"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := config.Parse([]byte(tc.yaml), map[string]string{})
			if err != nil {
				t.Fatal(err)
			}
			err = f.Validate()
			var p config.Problems
			if !errors.As(err, &p) {
				t.Fatalf("want Problems, got %v", err)
			}
			all := strings.Join(p, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestLeewayZeroIsHonoured: an explicit "leeway: 0s" means no leeway, not
// the 30s default that an absent key gets.
func TestLeewayZeroIsHonoured(t *testing.T) {
	for in, want := range map[string]time.Duration{"0s": 0, "5s": 5 * time.Second} {
		doc := strings.Replace(base, "    audiences: [portcullis]\n", "    audiences: [portcullis]\n    leeway: "+in+"\n", 1)
		f, err := config.Parse([]byte(doc), map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := *f.Issuers[0].Leeway; got != want {
			t.Errorf("leeway: %s parsed as %v, want %v", in, got, want)
		}
	}
}
