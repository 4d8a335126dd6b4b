// Package e2e runs the revocation path end to end with real processes: the
// authserver binary (serve and its CLI) and gateway binaries, built once per
// run, against real Redis (PORTCULLIS_TEST_REDIS_ADDR), against miniredis
// for the outage case (the shared Redis cannot be stopped), and against the
// feed with no Redis at all.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var bins struct {
	authserver, gateway string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pc-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.authserver = filepath.Join(dir, "authserver")
	bins.gateway = filepath.Join(dir, "gateway")
	for out, pkg := range map[string]string{
		bins.authserver: "github.com/portcullis/portcullis/authserver/cmd/authserver",
		bins.gateway:    "github.com/portcullis/portcullis/gateway/cmd/gateway",
	} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a running binary whose output goes to a log file, shown when the
// test fails.
type proc struct {
	cmd *exec.Cmd
	log string
}

func start(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("--- %s log (tail) ---\n%s", name, b)
		}
	})
	return p
}

// stack is one auth server, its CLI and the gateways in front of an echo
// upstream.
type stack struct {
	dir      string
	authURL  string
	authCfg  string
	redisURL string // empty: feed
	gwClient struct{ id, secret string }
	web      struct{ id, secret string }
	gateways []string // base URLs
}

type options struct {
	redisURL string // auth server and gateways use Redis; empty: the feed
}

func newStack(t *testing.T, o options) *stack {
	t.Helper()
	s := &stack{dir: t.TempDir(), redisURL: o.redisURL}
	authAddr := freeAddr(t)
	s.authURL = "http://" + authAddr
	s.authCfg = filepath.Join(s.dir, "authserver.yaml")
	cfg := fmt.Sprintf(`listen: %s
issuer: %s
database: sqlite:%s
migrate_on_start: true
log: {level: info, format: text}
tokens: {access_ttl: 5m}
keys: {algorithm: ES256, encryption_key_file: %s}
password: {memory_kib: 64, iterations: 1, parallelism: 1}
login_limits: {per_username: 1000, per_ip: 1000}
`, authAddr, s.authURL, filepath.Join(s.dir, "pc.db"), filepath.Join(s.dir, "keys.secret"))
	if o.redisURL != "" {
		cfg += "redis: " + o.redisURL + "\n"
	}
	if err := os.WriteFile(s.authCfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	s.cli(t, "", "account", "create", "--name", "acme")
	s.cli(t, "", "application", "create", "--account", "acme", "--name", "billing")
	for _, u := range []string{"alice", "bob"} {
		s.cli(t, u+"-password-1", "user", "create", "--username", u, "--password-stdin")
		s.cli(t, "", "role", "grant", "--username", u, "--role", "developer", "--account", "acme", "--application", "billing")
	}
	var c map[string]any
	must(t, json.Unmarshal([]byte(s.cli(t, "", "client", "create", "--name", "web", "--grant-types", "password,refresh_token", "--output", "json")), &c))
	s.web.id, s.web.secret = c["client_id"].(string), c["client_secret"].(string)
	must(t, json.Unmarshal([]byte(s.cli(t, "", "client", "create", "--name", "gateway", "--grant-types", "client_credentials",
		"--scopes", "revocations", "--output", "json")), &c))
	s.gwClient.id, s.gwClient.secret = c["client_id"].(string), c["client_secret"].(string)

	start(t, "authserver", bins.authserver, nil, "serve", "--config", s.authCfg)
	waitStatus(t, s.authURL+"/readyz", http.StatusOK, 60*time.Second)
	// The role grants above emitted subject events (grants changed); tokens
	// issued in the same millisecond would be refused (see nextMillisecond).
	nextMillisecond()
	return s
}

// cli runs an authserver command as a process and returns its stdout.
func (s *stack) cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bins.authserver, append([]string{"--config", s.authCfg}, args...)...)
	cmd.Stdin = strings.NewReader(stdin + "\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("authserver %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// addGateway starts a gateway process in front of an upstream that answers
// 200 to everything, and waits until it is ready (keys and revocation set
// loaded).
func (s *stack) addGateway(t *testing.T, upstream string) string {
	t.Helper()
	addr := freeAddr(t)
	rev := fmt.Sprintf("  feed: %s/oauth2/revocations\n  client_id: %s\n  interval: 200ms\n", s.authURL, s.gwClient.id)
	if s.redisURL != "" {
		rev = "  redis: " + s.redisURL + "\n"
	}
	cfg := fmt.Sprintf(`listen: %s
issuers:
  - issuer: %s
    audiences: [portcullis]
resources:
  - name: api
    path: /api/{rest...}
    upstream: %s
    access: token
  - name: billing
    path: /billing/{rest...}
    upstream: %s
    account: acme
    application: billing
    access: roles
    roles: [developer]
revocation:
%slog: {level: info, format: text}
`, addr, s.authURL, upstream, upstream, rev)
	path := filepath.Join(s.dir, fmt.Sprintf("gateway-%d.yaml", len(s.gateways)))
	must(t, os.WriteFile(path, []byte(cfg), 0o600))
	name := fmt.Sprintf("gateway-%d", len(s.gateways))
	// The feed secret comes from the environment, as operators should
	// pass it.
	start(t, name, bins.gateway, []string{"PORTCULLIS_REVOCATION_CLIENT_SECRET=" + s.gwClient.secret}, "serve", "--config", path)
	base := "http://" + addr
	waitStatus(t, base+"/readyz", http.StatusOK, 30*time.Second)
	s.gateways = append(s.gateways, base)
	return base
}

func upstream(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "upstream ok")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func waitStatus(t *testing.T, u string, want int, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(u) //nolint:noctx // test polling
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %d within %v (last: %s)", u, want, bound, last)
}

// tokens is a token response.
type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func (s *stack) token(t *testing.T, form url.Values) tokens {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.authURL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(s.web.id), url.QueryEscape(s.web.secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token request %s: %d %s", form.Get("grant_type"), resp.StatusCode, b)
	}
	var tk tokens
	must(t, json.Unmarshal(b, &tk))
	return tk
}

func (s *stack) login(t *testing.T, user string) tokens {
	t.Helper()
	return s.token(t, url.Values{"grant_type": {"password"}, "username": {user}, "password": {user + "-password-1"}})
}

// call sends GET base+path with the token and returns the status and the
// WWW-Authenticate header.
func call(t *testing.T, base, path, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// expectAccepted asserts every gateway lets tok through on path.
func (s *stack) expectStatus(t *testing.T, path, tok string, want int) {
	t.Helper()
	for _, g := range s.gateways {
		if got, wa := call(t, g, path, tok); got != want {
			t.Fatalf("%s%s: %d (%s), want %d", g, path, got, wa, want)
		}
	}
}

// waitRefused polls every gateway until each refuses tok as revoked and
// returns how long the slowest took from since.
func (s *stack) waitRefused(t *testing.T, what, tok string, since time.Time, bound time.Duration) time.Duration {
	t.Helper()
	var slowest time.Duration
	var wg sync.WaitGroup
	errs := make(chan string, len(s.gateways))
	var mu sync.Mutex
	for _, g := range s.gateways {
		wg.Go(func() {
			for {
				code, wa := call(t, g, "/api/x", tok)
				if code == http.StatusUnauthorized && strings.Contains(wa, `error="invalid_token"`) &&
					strings.Contains(wa, "token revoked") {
					d := time.Since(since)
					mu.Lock()
					slowest = max(slowest, d)
					mu.Unlock()
					return
				}
				if time.Since(since) > bound {
					errs <- fmt.Sprintf("%s still answers %d (%s) %v after %s", g, code, wa, bound, what)
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	t.Logf("%s: refused by all %d gateways after %v", what, len(s.gateways), slowest.Round(time.Millisecond))
	return slowest
}

// claims decodes a JWT's payload (already verified by the gateways; here we
// only look at what it carries).
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

// nextMillisecond waits for the next millisecond. Access tokens carry iat
// to the millisecond and subject cut-offs are rounded up to it, so a token
// issued in the very millisecond of a subject-wide revocation is refused
// too (the safe side); scenarios that need a fresh token right after an
// event step past it.
func nextMillisecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Millisecond).Add(time.Millisecond).Sub(now))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
