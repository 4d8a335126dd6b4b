package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"go.yaml.in/yaml/v3"

	"github.com/portcullis/portcullis/authserver/internal/password"
)

// EnvPrefix prefixes every environment variable name, e.g. PORTCULLIS_LISTEN.
const EnvPrefix = "PORTCULLIS_"

// Config is the whole auth server configuration. Field names, YAML keys and
// environment variables are a contract (docs/configuration-authserver.md).
type Config struct {
	// Listen is the HTTP listen address, host:port.
	Listen string `yaml:"listen" env:"LISTEN"`
	// Issuer is the "iss" of every token and the base of discovery URLs.
	Issuer string `yaml:"issuer" env:"ISSUER"`
	// Database is "sqlite:PATH" or a "postgres://" URL.
	Database string `yaml:"database" env:"DATABASE"`
	// MigrateOnStart applies pending migrations when the server starts.
	MigrateOnStart bool `yaml:"migrate_on_start" env:"MIGRATE_ON_START"`
	// Redis, when set (redis:// or rediss:// URL), holds refresh tokens and
	// login-limit counters shared between replicas.
	Redis       string      `yaml:"redis" env:"REDIS"`
	Log         Log         `yaml:"log" envPrefix:"LOG_"`
	Tokens      Tokens      `yaml:"tokens" envPrefix:"TOKENS_"`
	Keys        Keys        `yaml:"keys" envPrefix:"KEYS_"`
	Password    Password    `yaml:"password" envPrefix:"PASSWORD_"`
	LoginLimits LoginLimits `yaml:"login_limits" envPrefix:"LOGIN_LIMITS_"`
}

// Log selects the slog handler.
type Log struct {
	Level  string `yaml:"level" env:"LEVEL"`   // debug, info, warn, error
	Format string `yaml:"format" env:"FORMAT"` // text or json
}

// Tokens are the token lifetimes and format.
type Tokens struct {
	AccessTTL         time.Duration `yaml:"access_ttl" env:"ACCESS_TTL"`
	RefreshTTL        time.Duration `yaml:"refresh_ttl" env:"REFRESH_TTL"`
	RefreshReuseGrace time.Duration `yaml:"refresh_reuse_grace" env:"REFRESH_REUSE_GRACE"`
	Audience          []string      `yaml:"audience" env:"AUDIENCE" envSeparator:","`
	RolesFormat       string        `yaml:"roles_format" env:"ROLES_FORMAT"` // scoped or compact
}

// Keys configure the signing keys and their rotation.
type Keys struct {
	Algorithm   string        `yaml:"algorithm" env:"ALGORITHM"` // RS256, ES256 or EdDSA
	RSABits     int           `yaml:"rsa_bits" env:"RSA_BITS"`
	RotateEvery time.Duration `yaml:"rotate_every" env:"ROTATE_EVERY"`
	Prepublish  time.Duration `yaml:"prepublish" env:"PREPUBLISH"`
	// EncryptionKey is base64 of 32 bytes (AES-256-GCM key for private keys
	// at rest). Prefer the environment variable to the file.
	EncryptionKey string `yaml:"encryption_key" env:"ENCRYPTION_KEY"`
	// EncryptionKeyFile is read when EncryptionKey is empty, and generated
	// (mode 0600) when missing.
	EncryptionKeyFile string `yaml:"encryption_key_file" env:"ENCRYPTION_KEY_FILE"`
}

// Password holds the argon2id parameters and the hashing pool size.
type Password struct {
	MemoryKiB     uint32 `yaml:"memory_kib" env:"MEMORY_KIB"`
	Iterations    uint32 `yaml:"iterations" env:"ITERATIONS"`
	Parallelism   uint8  `yaml:"parallelism" env:"PARALLELISM"`
	MaxConcurrent int    `yaml:"max_concurrent" env:"MAX_CONCURRENT"`
}

// Params converts to the password package's parameters.
func (p Password) Params() password.Params {
	return password.Params{MemoryKiB: p.MemoryKiB, Iterations: p.Iterations, Parallelism: p.Parallelism}
}

// LoginLimits bound failed logins per username and per client IP within a
// window before the token endpoint answers 429.
type LoginLimits struct {
	PerUsername int           `yaml:"per_username" env:"PER_USERNAME"`
	PerIP       int           `yaml:"per_ip" env:"PER_IP"`
	Window      time.Duration `yaml:"window" env:"WINDOW"`
}

// Default returns the configuration used for every key that neither the
// file nor the environment sets. It is the only place defaults live.
func Default() Config {
	return Config{
		Listen:         "127.0.0.1:9096",
		Issuer:         "http://127.0.0.1:9096",
		Database:       "sqlite:var/portcullis.db",
		MigrateOnStart: true,
		Log:            Log{Level: "info", Format: "text"},
		Tokens: Tokens{
			AccessTTL:   5 * time.Minute,
			RefreshTTL:  720 * time.Hour,
			Audience:    []string{"portcullis"},
			RolesFormat: "scoped",
		},
		Keys: Keys{
			Algorithm:         "EdDSA",
			RSABits:           2048,
			RotateEvery:       720 * time.Hour,
			Prepublish:        time.Hour,
			EncryptionKeyFile: "var/keys.secret",
		},
		Password: Password{
			MemoryKiB:     password.DefaultParams.MemoryKiB,
			Iterations:    password.DefaultParams.Iterations,
			Parallelism:   password.DefaultParams.Parallelism,
			MaxConcurrent: 4,
		},
		LoginLimits: LoginLimits{PerUsername: 5, PerIP: 20, Window: 15 * time.Minute},
	}
}

// Load builds the configuration: defaults, then the YAML file at path (when
// path is not empty), then PORTCULLIS_* variables from environ (as
// os.Environ returns them), then Validate. The returned error lists every
// problem.
func Load(path string, environ []string) (*Config, error) {
	cfg := Default()
	if path != "" {
		f, err := os.Open(path) //nolint:gosec // the operator names the config file
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		err = Decode(f, &cfg)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := ApplyEnv(&cfg, environ); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Decode reads YAML from r over cfg. Unknown keys are an error. An empty
// document leaves cfg unchanged.
func Decode(r io.Reader, cfg *Config) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("parse YAML: %w", err)
	}
	return nil
}

// ApplyEnv overlays the PORTCULLIS_* variables found in environ onto cfg.
func ApplyEnv(cfg *Config, environ []string) error {
	vars := make(map[string]string)
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	if err := env.ParseWithOptions(cfg, env.Options{Prefix: EnvPrefix, Environment: vars}); err != nil {
		return fmt.Errorf("config from environment: %w", err)
	}
	return nil
}

// Validate checks every setting and returns all problems joined, each
// naming its key. It does no I/O.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		bad("listen", "want host:port, got %q", c.Listen)
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		bad("issuer", "want an absolute http(s) URL without query or fragment, got %q", c.Issuer)
	}
	switch {
	case strings.HasPrefix(c.Database, "sqlite:"):
		if strings.TrimPrefix(c.Database, "sqlite:") == "" {
			bad("database", "sqlite: needs a path, e.g. sqlite:var/portcullis.db")
		}
	case strings.HasPrefix(c.Database, "postgres://"), strings.HasPrefix(c.Database, "postgresql://"):
		if _, err := url.Parse(c.Database); err != nil {
			bad("database", "invalid PostgreSQL URL")
		}
	default:
		bad("database", "want sqlite:PATH or a postgres:// URL")
	}
	if c.Redis != "" {
		if u, err := url.Parse(c.Redis); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("redis", "want a redis:// or rediss:// URL, or empty")
		}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "want text or json, got %q", c.Log.Format)
	}

	if c.Tokens.AccessTTL <= 0 || c.Tokens.AccessTTL > 24*time.Hour {
		bad("tokens.access_ttl", "want a duration in (0, 24h], got %s", c.Tokens.AccessTTL)
	}
	if c.Tokens.RefreshTTL <= 0 {
		bad("tokens.refresh_ttl", "must be positive, got %s", c.Tokens.RefreshTTL)
	}
	if c.Tokens.RefreshReuseGrace < 0 || c.Tokens.RefreshReuseGrace > time.Minute {
		bad("tokens.refresh_reuse_grace", "want a duration in [0, 1m], got %s", c.Tokens.RefreshReuseGrace)
	}
	if len(c.Tokens.Audience) == 0 || slices.Contains(c.Tokens.Audience, "") {
		bad("tokens.audience", "want at least one non-empty audience")
	}
	if c.Tokens.RolesFormat != "scoped" && c.Tokens.RolesFormat != "compact" {
		bad("tokens.roles_format", "want scoped or compact, got %q", c.Tokens.RolesFormat)
	}

	switch c.Keys.Algorithm {
	case "RS256":
		if c.Keys.RSABits < 2048 || c.Keys.RSABits > 8192 {
			bad("keys.rsa_bits", "want 2048 to 8192, got %d", c.Keys.RSABits)
		}
	case "ES256", "EdDSA":
	default:
		bad("keys.algorithm", "want RS256, ES256 or EdDSA, got %q", c.Keys.Algorithm)
	}
	if c.Keys.RotateEvery < time.Minute {
		bad("keys.rotate_every", "want at least 1m, got %s", c.Keys.RotateEvery)
	}
	if c.Keys.Prepublish < 0 || c.Keys.Prepublish >= c.Keys.RotateEvery {
		bad("keys.prepublish", "want at least 0 and less than keys.rotate_every, got %s", c.Keys.Prepublish)
	}
	if c.Keys.EncryptionKey != "" {
		// The value is a secret: never echo it.
		if k, err := base64.StdEncoding.DecodeString(c.Keys.EncryptionKey); err != nil || len(k) != 32 {
			bad("keys.encryption_key", "want base64 of exactly 32 bytes")
		}
	} else if c.Keys.EncryptionKeyFile == "" {
		bad("keys.encryption_key_file", "required when keys.encryption_key is empty")
	}

	if err := c.Password.Params().Validate(); err != nil {
		bad("password", "%v", err)
	}
	if c.Password.MaxConcurrent < 1 {
		bad("password.max_concurrent", "must be at least 1, got %d", c.Password.MaxConcurrent)
	}

	if c.LoginLimits.PerUsername < 1 {
		bad("login_limits.per_username", "must be at least 1, got %d", c.LoginLimits.PerUsername)
	}
	if c.LoginLimits.PerIP < 1 {
		bad("login_limits.per_ip", "must be at least 1, got %d", c.LoginLimits.PerIP)
	}
	if c.LoginLimits.Window <= 0 {
		bad("login_limits.window", "must be positive, got %s", c.LoginLimits.Window)
	}
	return errors.Join(errs...)
}
