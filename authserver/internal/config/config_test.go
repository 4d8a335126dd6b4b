package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/config"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "authserver.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := config.Default()
	if cfg.Listen != "127.0.0.1:9096" || cfg.Database != "sqlite:var/portcullis.db" || !cfg.MigrateOnStart ||
		cfg.Tokens.AccessTTL != 5*time.Minute || cfg.Keys.Algorithm != "EdDSA" || cfg.Password.MaxConcurrent != want.Password.MaxConcurrent {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestFileThenEnv(t *testing.T) {
	path := writeFile(t, `
listen: 0.0.0.0:9000
issuer: https://auth.example.com
database: postgres://db.example.com/portcullis
migrate_on_start: false
log: {level: debug, format: json}
tokens:
  access_ttl: 10m
  audience: [api, portcullis]
  roles_format: compact
keys:
  algorithm: RS256
  rsa_bits: 3072
password:
  memory_kib: 1024
  iterations: 2
  parallelism: 1
login_limits:
  window: 1m
`)
	cfg, err := config.Load(path, []string{
		"PORTCULLIS_LISTEN=127.0.0.1:9999",
		"PORTCULLIS_TOKENS_ACCESS_TTL=2m",
		"PORTCULLIS_LOG_FORMAT=text",
		"PORTCULLIS_TOKENS_AUDIENCE=a,b",
		"PORTCULLIS_PASSWORD_MAX_CONCURRENT=9",
		"UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen (env over file)", cfg.Listen, "127.0.0.1:9999"},
		{"issuer (file)", cfg.Issuer, "https://auth.example.com"},
		{"migrate_on_start (file)", cfg.MigrateOnStart, false},
		{"log.level (file)", cfg.Log.Level, "debug"},
		{"log.format (env)", cfg.Log.Format, "text"},
		{"tokens.access_ttl (env)", cfg.Tokens.AccessTTL, 2 * time.Minute},
		{"tokens.refresh_ttl (default)", cfg.Tokens.RefreshTTL, 720 * time.Hour},
		{"tokens.audience (env)", strings.Join(cfg.Tokens.Audience, ","), "a,b"},
		{"keys.rsa_bits (file)", cfg.Keys.RSABits, 3072},
		{"password.memory_kib (file)", cfg.Password.MemoryKiB, uint32(1024)},
		{"password.max_concurrent (env)", cfg.Password.MaxConcurrent, 9},
		{"login_limits.window (file)", cfg.LoginLimits.Window, time.Minute},
		{"login_limits.per_ip (default)", cfg.LoginLimits.PerIP, 20},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestUnknownKeyRejected(t *testing.T) {
	for _, body := range []string{"listne: x\n", "tokens:\n  acces_ttl: 1m\n"} {
		if _, err := config.Load(writeFile(t, body), nil); err == nil {
			t.Errorf("config %q loaded; want an unknown-key error", body)
		}
	}
}

func TestBadDurationRejected(t *testing.T) {
	if _, err := config.Load(writeFile(t, "tokens:\n  access_ttl: five minutes\n"), nil); err == nil {
		t.Fatal("bad duration accepted")
	}
	if _, err := config.Load("", []string{"PORTCULLIS_TOKENS_ACCESS_TTL=soon"}); err == nil {
		t.Fatal("bad duration in env accepted")
	}
}

func TestValidateReportsEverything(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "nope"
	cfg.Issuer = "ftp://x"
	cfg.Database = "mysql://x"
	cfg.Redis = "http://x"
	cfg.Log.Level = "loud"
	cfg.Log.Format = "xml"
	cfg.Tokens.AccessTTL = 0
	cfg.Tokens.RolesFormat = "flat"
	cfg.Tokens.Audience = nil
	cfg.Keys.Algorithm = "HS256"
	cfg.Keys.Prepublish = 1000 * time.Hour
	cfg.Keys.EncryptionKey = "c2hvcnQ="
	cfg.Password.Parallelism = 0
	cfg.Password.MaxConcurrent = 0
	cfg.LoginLimits.Window = 0
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid config validated")
	}
	for _, key := range []string{"listen", "issuer", "database", "redis", "log.level", "log.format",
		"tokens.access_ttl", "tokens.roles_format", "tokens.audience", "keys.algorithm", "keys.prepublish",
		"keys.encryption_key", "password", "password.max_concurrent", "login_limits.window"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("error does not mention %s:\n%v", key, err)
		}
	}
	if strings.Contains(err.Error(), "c2hvcnQ") {
		t.Error("validation error echoes the encryption key")
	}
}

func TestRSABits(t *testing.T) {
	cfg := config.Default()
	cfg.Keys.Algorithm = "RS256"
	cfg.Keys.RSABits = 1024
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "keys.rsa_bits") {
		t.Fatalf("rsa_bits 1024 accepted: %v", err)
	}
}
