package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/caarlos0/env/v11"
	"go.yaml.in/yaml/v3"

	"github.com/portcullis/portcullis/gateway/internal/revocation"
)

// Access modes of a resource.
const (
	AccessPublic = "public" // no token needed
	AccessToken  = "token"  // any valid token from a trusted issuer
	AccessRoles  = "roles"  // a valid token with a grant satisfying one of roles
)

// File is gateway.yaml. Field names are the contract documented in
// docs/configuration-gateway.md.
type File struct {
	Listen     string     `yaml:"listen" env:"LISTEN"`
	Realm      string     `yaml:"realm" env:"REALM"`
	Issuers    []Issuer   `yaml:"issuers"`
	Resources  []Resource `yaml:"resources"`
	Paths      Paths      `yaml:"paths" envPrefix:"PATHS_"`
	TokenCache TokenCache `yaml:"token_cache" envPrefix:"TOKEN_CACHE_"`
	Upstream   Upstream   `yaml:"upstream" envPrefix:"UPSTREAM_"`
	Server     Server     `yaml:"server" envPrefix:"SERVER_"`
	Log        Log        `yaml:"log" envPrefix:"LOG_"`
	Reload     Reload     `yaml:"reload" envPrefix:"RELOAD_"`
	// Revocation selects where revocation events come from (Redis or the
	// auth server's feed), or none; see docs/configuration-gateway.md.
	Revocation revocation.Config `yaml:"revocation" envPrefix:"REVOCATION_"`
}

// Issuer is one trusted token issuer.
type Issuer struct {
	Issuer       string         `yaml:"issuer"`
	JWKSURI      string         `yaml:"jwks_uri"`
	Audiences    []string       `yaml:"audiences"`
	Algorithms   []string       `yaml:"algorithms"`
	SubjectClaim string         `yaml:"subject_claim"`
	RolesClaim   string         `yaml:"roles_claim"`
	RolesFormat  string         `yaml:"roles_format"`
	Leeway       *time.Duration `yaml:"leeway"` // nil: DefaultLeeway; 0 is a valid choice
	MaxTokenSize int            `yaml:"max_token_size"`
	// StaleKeysMax bounds how long the last good key set keeps serving
	// while the JWKS endpoint fails.
	StaleKeysMax time.Duration `yaml:"stale_keys_max"`
	// RefreshMin and RefreshMax bound the background refresh interval the
	// JWKS response's Cache-Control asks for.
	RefreshMin time.Duration `yaml:"refresh_min"`
	RefreshMax time.Duration `yaml:"refresh_max"`
	// RefetchMinInterval: a token with an unknown kid refetches the JWKS at
	// most once per this interval.
	RefetchMinInterval time.Duration `yaml:"refetch_min_interval"`
}

// Resource is one protected (or public) upstream route.
type Resource struct {
	Name         string   `yaml:"name"`
	Methods      []string `yaml:"methods"`
	Path         string   `yaml:"path"`
	Upstream     string   `yaml:"upstream"`
	StripPrefix  string   `yaml:"strip_prefix"`
	Account      string   `yaml:"account"`
	Application  string   `yaml:"application"`
	Access       string   `yaml:"access"`
	Roles        []string `yaml:"roles"`
	ForwardToken bool     `yaml:"forward_token"`
}

// Paths are the gateway's own endpoints; they are never proxied.
type Paths struct {
	Health  string `yaml:"health" env:"HEALTH"`
	Ready   string `yaml:"ready" env:"READY"`
	Metrics string `yaml:"metrics" env:"METRICS"`
}

// TokenCache configures the verified-token cache.
type TokenCache struct {
	Enabled *bool `yaml:"enabled" env:"ENABLED"`
	Size    int   `yaml:"size" env:"SIZE"`
}

// On reports whether the cache is enabled (default true).
func (t TokenCache) On() bool { return t.Enabled == nil || *t.Enabled }

// Upstream tunes the shared transport to every upstream.
type Upstream struct {
	DialTimeout           time.Duration `yaml:"dial_timeout" env:"DIAL_TIMEOUT"`
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout" env:"RESPONSE_HEADER_TIMEOUT"`
	IdleConnTimeout       time.Duration `yaml:"idle_conn_timeout" env:"IDLE_CONN_TIMEOUT"`
	MaxIdleConnsPerHost   int           `yaml:"max_idle_conns_per_host" env:"MAX_IDLE_CONNS_PER_HOST"`
}

// Server tunes the listener.
type Server struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout" env:"READ_HEADER_TIMEOUT"`
	IdleTimeout       time.Duration `yaml:"idle_timeout" env:"IDLE_TIMEOUT"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout" env:"SHUTDOWN_TIMEOUT"`
}

// Log configures the process logger and the access log.
type Log struct {
	Level  string `yaml:"level" env:"LEVEL"`
	Format string `yaml:"format" env:"FORMAT"`
	Access *bool  `yaml:"access" env:"ACCESS"`
}

// AccessOn reports whether each request is logged (default true).
func (l Log) AccessOn() bool { return l.Access == nil || *l.Access }

// Reload configures the config-file watch (SIGHUP always reloads).
type Reload struct {
	// PollInterval is how often the file is checked for changes (default
	// 2s); a negative value turns the watch off.
	PollInterval time.Duration `yaml:"poll_interval" env:"POLL_INTERVAL"`
}

// Defaults.
const (
	DefaultListen             = "127.0.0.1:8080"
	DefaultRealm              = "portcullis"
	DefaultStaleKeysMax       = 24 * time.Hour
	DefaultRefreshFloor       = time.Minute
	DefaultRefreshCeiling     = time.Hour
	DefaultRefetchMinInterval = 5 * time.Second
	DefaultLeeway             = 30 * time.Second
	DefaultTokenCacheSize     = 16384
)

// Load reads path, decodes it strictly, overlays PORTCULLIS_* variables
// from environ (nil means the process environment) and applies defaults.
// It does not validate.
func Load(path string, environ map[string]string) (*File, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names the config file
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(b, environ)
}

// Parse is Load without the file read.
func Parse(b []byte, environ map[string]string) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	opts := env.Options{Prefix: "PORTCULLIS_"}
	if environ != nil {
		opts.Environment = environ
	}
	if err := env.ParseWithOptions(&f, opts); err != nil {
		return nil, fmt.Errorf("config environment: %w", err)
	}
	f.ApplyDefaults()
	return &f, nil
}

// ApplyDefaults fills every unset value; it is the one place defaults live.
func (f *File) ApplyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defD := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&f.Listen, DefaultListen)
	def(&f.Realm, DefaultRealm)
	def(&f.Paths.Health, "/healthz")
	def(&f.Paths.Ready, "/readyz")
	def(&f.Paths.Metrics, "/metrics")
	if f.TokenCache.Size == 0 {
		f.TokenCache.Size = DefaultTokenCacheSize
	}
	defD(&f.Upstream.DialTimeout, 5*time.Second)
	defD(&f.Upstream.ResponseHeaderTimeout, 30*time.Second)
	defD(&f.Upstream.IdleConnTimeout, 90*time.Second)
	if f.Upstream.MaxIdleConnsPerHost == 0 {
		f.Upstream.MaxIdleConnsPerHost = 512
	}
	defD(&f.Server.ReadHeaderTimeout, 10*time.Second)
	defD(&f.Server.IdleTimeout, 120*time.Second)
	defD(&f.Server.ShutdownTimeout, 30*time.Second)
	defD(&f.Reload.PollInterval, 2*time.Second)
	def(&f.Log.Level, "info")
	def(&f.Log.Format, "json")
	for i := range f.Issuers {
		is := &f.Issuers[i]
		if len(is.Algorithms) == 0 {
			is.Algorithms = []string{"RS256", "ES256", "EdDSA"}
		}
		def(&is.SubjectClaim, "sub")
		def(&is.RolesClaim, "roles")
		def(&is.RolesFormat, "scoped")
		if is.Leeway == nil {
			leeway := DefaultLeeway
			is.Leeway = &leeway
		}
		if is.MaxTokenSize == 0 {
			is.MaxTokenSize = 8 << 10
		}
		defD(&is.StaleKeysMax, DefaultStaleKeysMax)
		defD(&is.RefreshMin, DefaultRefreshFloor)
		defD(&is.RefreshMax, DefaultRefreshCeiling)
		defD(&is.RefetchMinInterval, DefaultRefetchMinInterval)
	}
	for i := range f.Resources {
		def(&f.Resources[i].Access, AccessRoles)
	}
}
