package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin is the authserver binary, built once for all tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authserver-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "authserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build authserver: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary against one SQLite database.
type cli struct {
	t      *testing.T
	dir    string
	config string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "authserver.yaml")
	// Cheap argon2id: the algorithm is what matters here, not its cost.
	body := fmt.Sprintf("database: sqlite:%s\npassword: {memory_kib: 64, iterations: 1, parallelism: 1}\n",
		filepath.Join(dir, "db", "portcullis.db"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, dir: dir, config: cfg}
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.Command(bin, append(args, "--config", c.config)...)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.runIn(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("authserver %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// okJSON runs a command with --output json and decodes its one object.
func (c *cli) okJSON(stdin string, args ...string) map[string]any {
	c.t.Helper()
	out := c.ok(stdin, append(args, "--output", "json")...)
	var v map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&v); err != nil {
		c.t.Fatalf("authserver %s: stdout is not a JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	if dec.More() {
		c.t.Fatalf("authserver %s: more than one JSON value on stdout:\n%s", strings.Join(args, " "), out)
	}
	return v
}

// fails runs a command that must exit with code and one line on stderr.
func (c *cli) fails(code int, stdin string, args ...string) string {
	c.t.Helper()
	r := c.runIn(stdin, args...)
	if r.code != code {
		c.t.Fatalf("authserver %s: exit %d, want %d (stdout %q, stderr %q)", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if n := strings.Count(strings.TrimRight(r.stderr, "\n"), "\n"); n != 0 || r.stderr == "" {
		c.t.Fatalf("authserver %s: stderr is not one line: %q", strings.Join(args, " "), r.stderr)
	}
	return r.stderr
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if out := c.ok("", "migrate"); out != "database at version 2\n" {
		t.Fatalf("migrate printed %q", out)
	}
	v := c.okJSON("", "migrate") // a second run is a no-op
	if v["version"] != float64(2) {
		t.Fatalf("migrate --output json = %v", v)
	}
}

func TestIdentityWalkthrough(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	acc := c.okJSON("", "account", "create", "--name", "acme", "--display-name", "Acme Ltd")
	if id, _ := acc["id"].(string); !strings.HasPrefix(id, "acc_") || acc["name"] != "acme" {
		t.Fatalf("account create json = %v", acc)
	}
	if out := c.ok("", "application", "create", "--account", "acme", "--name", "billing"); !strings.HasPrefix(out, "created application acme/billing (id app_") {
		t.Fatalf("application create printed %q", out)
	}

	// Password from stdin, text output.
	out := c.ok("correct horse battery\n", "user", "create", "--username", "alice", "--email", "alice@example.com", "--password-stdin")
	if !strings.HasPrefix(out, "created user alice (id u_") {
		t.Fatalf("user create printed %q", out)
	}
	bob := c.okJSON("another password", "user", "create", "--username", "bob", "--password-stdin")
	if id, _ := bob["id"].(string); !strings.HasPrefix(id, "u_") || bob["active"] != true {
		t.Fatalf("user create json = %v", bob)
	}

	g := c.okJSON("", "role", "grant", "--username", "alice", "--role", "developer", "--account", "acme", "--application", "billing")
	if id, _ := g["id"].(string); !strings.HasPrefix(id, "grt_") || g["role"] != "developer" || g["application"] != "billing" {
		t.Fatalf("role grant json = %v", g)
	}
	c.ok("", "role", "grant", "--username", "ALICE", "--role", "account_manager", "--account", "acme")
	c.ok("", "role", "grant", "--username", "bob", "--role", "administrator")

	conf := c.okJSON("", "client", "create", "--name", "cli", "--grant-types", "password,refresh_token,client_credentials")
	id, _ := conf["id"].(string)
	secret, _ := conf["client_secret"].(string)
	if id == "" || conf["client_id"] != id || len(secret) != 43 {
		t.Fatalf("client create json = %v", conf)
	}
	if scopes := fmt.Sprint(conf["scopes"]); scopes != "[openid profile email offline_access]" {
		t.Fatalf("default scopes = %s", scopes)
	}
	c.ok("", "role", "grant", "--client", id, "--role", "consumer", "--account", "acme", "--application", "billing")

	pub := c.okJSON("", "client", "create", "--name", "spa", "--grant-types", "authorization_code,refresh_token",
		"--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "http://127.0.0.1:8000/cb", "--scopes", "openid,profile", "--public")
	if _, has := pub["client_secret"]; has || pub["public"] != true {
		t.Fatalf("public client create json = %v", pub)
	}
	text := c.ok("", "client", "create", "--name", "svc", "--grant-types", "client_credentials")
	if !strings.Contains(text, "client_id: ") || !strings.Contains(text, "client_secret: ") {
		t.Fatalf("client create text = %q", text)
	}

	d := c.okJSON("", "user", "disable", "--username", "alice")
	if d["active"] != false {
		t.Fatalf("user disable json = %v", d)
	}
	if out := c.ok("", "user", "enable", "--username", "alice"); !strings.HasPrefix(out, "enabled user alice") {
		t.Fatalf("user enable printed %q", out)
	}
	r := c.okJSON("", "role", "revoke", "--username", "alice", "--role", "developer", "--account", "acme", "--application", "billing")
	if r["id"] != g["id"] {
		t.Fatalf("role revoke removed %v, granted was %v", r["id"], g["id"])
	}
}

func TestRefusedRequestsExit1(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "account", "create", "--name", "acme")
	c.ok("password1", "user", "create", "--username", "alice", "--password-stdin")
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate account", "", []string{"account", "create", "--name", "acme"}, "already exists"},
		{"bad slug", "", []string{"account", "create", "--name", "Acme Ltd"}, "name:"},
		{"unknown account", "", []string{"application", "create", "--account", "nope", "--name", "x"}, "not found"},
		{"duplicate username in other case", "password1", []string{"user", "create", "--username", "ALICE", "--password-stdin"}, "already exists"},
		{"short password", "short", []string{"user", "create", "--username", "carol", "--password-stdin"}, "password:"},
		{"empty password", "", []string{"user", "create", "--username", "carol", "--password-stdin"}, "empty password"},
		{"scope mismatch", "", []string{"role", "grant", "--username", "alice", "--role", "administrator", "--account", "acme"}, "global"},
		{"unknown role", "", []string{"role", "grant", "--username", "alice", "--role", "wizard"}, "not found"},
		{"unknown user", "", []string{"user", "disable", "--username", "zed"}, "not found"},
		{"revoke missing grant", "", []string{"role", "revoke", "--username", "alice", "--role", "administrator"}, "not found"},
		{"public client_credentials", "", []string{"client", "create", "--name", "x", "--grant-types", "client_credentials", "--public"}, "client_credentials"},
		{"relative redirect", "", []string{"client", "create", "--name", "x", "--grant-types", "authorization_code", "--redirect-uri", "/cb"}, "redirect_uris"},
		{"unknown grant type", "", []string{"client", "create", "--name", "x", "--grant-types", "implicit"}, "implicit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if msg := c.fails(1, tc.stdin, tc.args...); !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q does not mention %q", msg, tc.want)
			}
		})
	}
	c.ok("", "role", "grant", "--username", "alice", "--role", "administrator")
	c.fails(1, "", "role", "grant", "--username", "alice", "--role", "administrator") // duplicate grant
}

func TestBadUsageExit2(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for name, args := range map[string][]string{
		"unknown flag":             {"account", "create", "--name", "a", "--colour", "red"},
		"missing required flag":    {"account", "create"},
		"unknown command":          {"acount", "create"},
		"password flag not stdin":  {"user", "create", "--username", "a"},
		"both username and client": {"role", "grant", "--username", "a", "--client", "b", "--role", "developer"},
		"neither user nor client":  {"role", "grant", "--role", "developer"},
		"bad output":               {"migrate", "--output", "yaml"},
		"stray argument":           {"migrate", "now"},
	} {
		t.Run(name, func(t *testing.T) { c.fails(2, "", args...) })
	}
}

func TestEnvironmentOverridesConfig(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	other := filepath.Join(c.dir, "other.db")
	cmd := exec.Command(bin, "migrate", "--config", c.config)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORTCULLIS_DATABASE=sqlite:" + other}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("PORTCULLIS_DATABASE was not used: %v", err)
	}
	// A bad environment value is refused before anything runs.
	cmd = exec.Command(bin, "migrate", "--config", c.config)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORTCULLIS_DATABASE=mysql://x"}
	var ee *exec.ExitError
	if out, err := cmd.CombinedOutput(); !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "database:") {
		t.Fatalf("bad PORTCULLIS_DATABASE: err %v, output %q", err, out)
	}
}

func TestTwoProcessesSameUsername(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "migrate")
	// Two processes on one SQLite file: the busy timeout queues them and the
	// unique index picks exactly one winner.
	for round := range 3 {
		name := fmt.Sprintf("racer%d", round)
		results := make(chan result, 2)
		for _, n := range []string{name, strings.ToUpper(name)} {
			go func() { results <- c.runIn("password1", "user", "create", "--username", n, "--password-stdin") }()
		}
		a, b := <-results, <-results
		if a.code+b.code != 1 || (a.code != 0 && b.code != 0) {
			t.Fatalf("round %d: exit codes %d and %d (stderr %q / %q); want one 0 and one 1", round, a.code, b.code, a.stderr, b.stderr)
		}
		loser := a
		if a.code == 0 {
			loser = b
		}
		if !strings.Contains(loser.stderr, "already exists") {
			t.Fatalf("round %d: loser said %q", round, loser.stderr)
		}
	}
}
