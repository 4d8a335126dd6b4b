package main_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
	"github.com/portcullis/portcullis/shared/roles"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gateway-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build gateway: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func configYAML(listen, issuer, upstream string, extra string) string {
	return fmt.Sprintf(`listen: %s
issuers:
  - issuer: %s
    audiences: [portcullis]
reload:
  poll_interval: 100ms
resources:
  - name: public
    path: /public/{rest...}
    upstream: %s
    access: public
  - name: billing-api
    methods: [GET, POST]
    path: /billing/{rest...}
    upstream: %s
    strip_prefix: /billing
    account: acme
    application: billing
    access: roles
    roles: [developer, consumer]
%s`, listen, issuer, upstream, upstream, extra)
}

func TestValidate(t *testing.T) {
	good := writeConfig(t, configYAML("127.0.0.1:8080", "http://127.0.0.1:9096", "http://127.0.0.1:8081", ""))
	r := run(t, "validate", "--config", good)
	if r.code != 0 || !strings.Contains(r.stdout, "OK") {
		t.Fatalf("valid config: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	bad := writeConfig(t, `listen: nowhere
issuers:
  - issuer: http://127.0.0.1:9096
    audiences: [portcullis]
    algorithms: [HS256]
resources:
  - name: a
    methods: [GET]
    path: /a/{rest...}
    upstream: http://127.0.0.1:8081
    access: roles
    roles: [developer]
  - name: b
    methods: [GET]
    path: /a/{rest...}
    upstream: http://127.0.0.1:8081
    access: token
  - name: c
    path: /accounts/{account}/x
    upstream: http://127.0.0.1:8081
    account: "{acct}"
    access: roles
    roles: [developer]
`)
	r = run(t, "validate", "--config", bad)
	if r.code == 0 {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"listen", "HS256", `conflicts with resource "a"`, `"{acct}" names a wildcard the path pattern lacks`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	unknown := writeConfig(t, "listen: 127.0.0.1:1\nlisten_typo: x\n")
	if r := run(t, "validate", "--config", unknown); r.code == 0 || !strings.Contains(r.stderr, "listen_typo") {
		t.Fatalf("unknown key: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, "validate", "--config", filepath.Join(t.TempDir(), "missing.yaml")); r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("missing file: exit %d, stderr %q (want one line)", r.code, r.stderr)
	}
}

func TestExplain(t *testing.T) {
	clock := gatewaytest.NewClock(time.Now())
	is := gatewaytest.NewIssuer(t, clock, "", "ES256")
	cfg := writeConfig(t, configYAML("127.0.0.1:8080", is.ID, "http://127.0.0.1:8081", ""))
	dev := is.Token(t, "alice", roles.Grant{Role: "developer", Account: "acme", Application: "billing"},
		roles.Grant{Role: "consumer", Account: "globex", Application: "crm"})

	r := run(t, "explain", "--config", cfg, "--token", dev, "GET", "/billing/invoices")
	if r.code != 0 {
		t.Fatalf("allowed request: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"resource: billing-api", "developer:acme/billing: satisfies developer",
		"consumer:globex/crm: does not satisfy", "decision: allowed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}

	other := is.Token(t, "bob", roles.Grant{Role: "developer", Account: "acme", Application: "payroll"})
	r = run(t, "explain", "--config", cfg, "--token", other, "GET", "/billing/invoices")
	if r.code != 1 || !strings.Contains(r.stdout, "403 insufficient_scope") {
		t.Fatalf("refused request: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	c := is.Claims("carol")
	c["exp"] = time.Now().Add(-time.Hour).Unix()
	r = run(t, "explain", "--config", cfg, "--token", is.Sign(t, "", c), "GET", "/billing/invoices")
	if r.code != 1 || !strings.Contains(r.stdout, `refused by check "expired"`) {
		t.Fatalf("expired token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = run(t, "explain", "--config", cfg, "DELETE", "/billing/x")
	if r.code != 1 || !strings.Contains(r.stdout, "405") {
		t.Fatalf("405: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "explain", "--config", cfg, "GET", "/public/../billing/x")
	if r.code != 1 || !strings.Contains(r.stdout, `cleaned to "/billing/x"`) || !strings.Contains(r.stdout, "token: none given") {
		t.Fatalf("path cleaning: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "explain", "--config", cfg, "GET", "/nowhere")
	if r.code != 1 || !strings.Contains(r.stdout, "404") {
		t.Fatalf("404: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if f() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// `gateway serve` as a process: env override of listen, hot reload on
// SIGHUP and on file change (a bad config is refused and the old one keeps
// serving), graceful shutdown that lets an in-flight request finish.
func TestServeReloadAndShutdown(t *testing.T) {
	clock := gatewaytest.NewClock(time.Now())
	is := gatewaytest.NewIssuer(t, clock, "", "EdDSA")
	up := gatewaytest.Upstream(t)
	addr := freePort(t)
	cfgPath := writeConfig(t, configYAML("127.0.0.1:1", is.ID, up.URL, ""))
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "PORTCULLIS_LISTEN="+addr, "PORTCULLIS_LOG_FORMAT=text")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("gateway logs:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	eventually(t, "ready", func() bool { c, _ := httpGet(t, base+"/readyz", ""); return c == 200 })
	tok := is.Token(t, "alice", roles.Grant{Role: "developer", Account: "acme", Application: "billing"})
	if c, b := httpGet(t, base+"/billing/x", tok); c != 200 {
		t.Fatalf("before reload: %d %s", c, b)
	}

	// A broken config is refused: the old one keeps serving.
	if err := os.WriteFile(cfgPath, []byte("issuers: [oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reload refused", func() bool { return strings.Contains(logs.String(), "config reload refused") })
	if c, b := httpGet(t, base+"/billing/x", tok); c != 200 {
		t.Fatalf("after a refused reload: %d %s", c, b)
	}

	// A valid change is picked up by the file watch alone.
	extra := fmt.Sprintf("  - name: added\n    path: /added\n    upstream: %s\n    access: public\n", up.URL)
	if err := os.WriteFile(cfgPath, []byte(configYAML("127.0.0.1:1", is.ID, up.URL, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new resource", func() bool { c, _ := httpGet(t, base+"/added", ""); return c == 200 })
	if c, _ := httpGet(t, base+"/billing/x", tok); c != 200 {
		t.Fatalf("after reload: %d", c)
	}

	// Graceful shutdown: an in-flight request completes.
	done := make(chan int, 1)
	go func() { c, _ := httpGet(t, base+"/public/delay", ""); done <- c }()
	time.Sleep(100 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if c := <-done; c != 200 {
		t.Fatalf("in-flight request during shutdown: %d", c)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("gateway exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not exit after SIGTERM")
	}
	if strings.Contains(logs.String(), tok) {
		t.Fatal("the token appeared in the logs")
	}
}

// The gateway binary opens no database: no SQL driver may be linked in. A
// driver is any package (other than database/sql itself) that imports
// database/sql/driver; the well-known driver modules are named too.
// (database/sql alone is allowed: prometheus' collectors package imports it
// for its DB stats collector, which the gateway does not use.)
func TestNoSQLDriver(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, name := range []string{"sqlite", "jackc/pgx", "lib/pq", "go-sql-driver", "mattn/go-sqlite3"} {
			if strings.Contains(pkg, name) {
				t.Errorf("the gateway binary links %s", pkg)
			}
		}
		if pkg == "database/sql" {
			continue
		}
		for _, imp := range imports {
			if imp == "database/sql/driver" {
				t.Errorf("the gateway binary links %s, which implements a database/sql driver", pkg)
			}
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
