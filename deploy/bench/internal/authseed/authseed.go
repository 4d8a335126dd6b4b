package authseed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/load"
)

// Options shape one auth server's configuration.
type Options struct {
	Algorithm   string // RS256, ES256 or EdDSA
	RSABits     int    // for RS256
	RolesFormat string // scoped or compact
	// CheapPasswords uses minimal argon2id parameters: for seeding many
	// users quickly, never for the password-grant figures.
	CheapPasswords bool
}

// Server is one auth server's configuration and data directory.
type Server struct {
	Bin    string
	Dir    string
	Config string
	Port   int
	URL    string
}

// New writes the configuration for an auth server on port, with its
// database and key file in dir.
func New(bin, dir string, port int, o Options) (*Server, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("auth server dir: %w", err)
	}
	s := &Server{Bin: bin, Dir: dir, Config: filepath.Join(dir, "authserver.yaml"), Port: port,
		URL: "http://127.0.0.1:" + strconv.Itoa(port)}
	if err := s.WriteConfig(o); err != nil {
		return nil, err
	}
	return s, nil
}

// WriteConfig (re)writes the configuration file with o; the database and
// keys stay, so a restart with another roles format signs with the same key.
func (s *Server) WriteConfig(o Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:%d\nissuer: %s\n", s.Port, s.URL)
	fmt.Fprintf(&b, "database: sqlite:%s\n", filepath.Join(s.Dir, "auth.db"))
	b.WriteString("log:\n  level: warn\n")
	// One hour: the gateway rows run for minutes on tokens issued up front.
	fmt.Fprintf(&b, "tokens:\n  access_ttl: 1h\n  roles_format: %s\n", orDefault(o.RolesFormat, "scoped"))
	fmt.Fprintf(&b, "keys:\n  algorithm: %s\n  encryption_key_file: %s\n", o.Algorithm, filepath.Join(s.Dir, "keys.secret"))
	if o.RSABits > 0 {
		fmt.Fprintf(&b, "  rsa_bits: %d\n", o.RSABits)
	}
	if o.CheapPasswords {
		b.WriteString("password:\n  memory_kib: 64\n  iterations: 1\n  parallelism: 1\n")
	}
	// The bench logs in many times from one address; it never fails a login.
	b.WriteString("login_limits:\n  per_username: 1000000\n  per_ip: 1000000\n  window: 1m\n")
	if err := os.WriteFile(s.Config, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write auth server config: %w", err)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// CLI runs `authserver --config FILE args...` with stdin and returns its
// standard output.
func (s *Server) CLI(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Bin, append([]string{"--config", s.Config}, args...)...) // #nosec G204 -- our own binary
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("authserver %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Parallel runs fn(i) for i in [0, n) on four workers and returns the first
// error. Each CLI call is a process that spends most of its life starting
// and opening the database, so a few run side by side even on two cores;
// SQLite queues their short writes (busy_timeout).
func Parallel(n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// Client is an OAuth2 client created through the CLI.
type Client struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// CreateClient creates a confidential client allowed the bench's grants.
func (s *Server) CreateClient(ctx context.Context, name string) (Client, error) {
	out, err := s.CLI(ctx, "", "--output", "json", "client", "create", "--name", name,
		"--grant-types", "password,refresh_token,client_credentials")
	if err != nil {
		return Client{}, err
	}
	var c Client
	if err := json.Unmarshal(out, &c); err != nil {
		return Client{}, fmt.Errorf("client create output %q: %w", out, err)
	}
	if c.ID == "" || c.Secret == "" {
		return Client{}, fmt.Errorf("client create output without client_id or client_secret: %q", out)
	}
	return c, nil
}

// CreateUser creates a user with password and grants it each of grants,
// given as [role, account, application].
func (s *Server) CreateUser(ctx context.Context, username, password string, grants [][3]string) error {
	if _, err := s.CLI(ctx, password+"\n", "user", "create", "--username", username, "--password-stdin"); err != nil {
		return err
	}
	for _, g := range grants {
		if err := s.Grant(ctx, "--username", username, g); err != nil {
			return err
		}
	}
	return nil
}

// Grant gives role g[0] in account g[1] / application g[2] to a user
// (who = "--username") or a client (who = "--client").
func (s *Server) Grant(ctx context.Context, who, name string, g [3]string) error {
	args := []string{"role", "grant", who, name, "--role", g[0]}
	if g[1] != "" {
		args = append(args, "--account", g[1])
	}
	if g[2] != "" {
		args = append(args, "--application", g[2])
	}
	_, err := s.CLI(ctx, "", args...)
	return err
}

// CreateApps creates account and its applications.
func (s *Server) CreateApps(ctx context.Context, account string, apps ...string) error {
	if _, err := s.CLI(ctx, "", "account", "create", "--name", account); err != nil {
		return err
	}
	return Parallel(len(apps), func(i int) error {
		_, err := s.CLI(ctx, "", "application", "create", "--account", account, "--name", apps[i])
		return err
	})
}

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/oauth2/token" }

// Login runs the password grant for username.
func (s *Server) Login(ctx context.Context, c *http.Client, cl Client, username, password string) (load.TokenResponse, error) {
	return load.RequestToken(ctx, c, s.TokenURL(), cl.ID, cl.Secret, url.Values{
		"grant_type": {"password"},
		"username":   {username},
		"password":   {password},
	})
}
