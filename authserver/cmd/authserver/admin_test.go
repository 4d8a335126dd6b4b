package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// serveForAdmin starts `authserver serve` on a free port and returns its
// base URL; the process is killed when the test ends.
func serveForAdmin(t *testing.T, c *cli) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cmd := exec.Command(bin, "serve", "--config", c.config)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORTCULLIS_LISTEN=" + addr, "PORTCULLIS_ISSUER=http://" + addr}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func passwordToken(t *testing.T, base, clientID, secret, username, pw string) string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {pw}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	at, _ := tok["access_token"].(string)
	if resp.StatusCode != http.StatusOK || at == "" {
		t.Fatalf("password grant for %s: %d %v", username, resp.StatusCode, tok)
	}
	return at
}

func adminCall(t *testing.T, base, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, base+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// nextMillisecond waits for the wall clock's next millisecond: the
// precision of token iat and of revocation cut-offs (see shared/claims.Time).
func nextMillisecond() {
	time.Sleep(time.Until(time.Now().Truncate(time.Millisecond).Add(time.Millisecond)))
}

// TestServeMountsAdminAPI drives the admin API of the real binary: an
// administrator bootstrapped with the CLI manages accounts and users over
// HTTP, and disabling a user through the API cuts that user's access token
// at once (the identity service's events reach the revocation emitter).
func TestServeMountsAdminAPI(t *testing.T) {
	c := newCLI(t)
	c.ok("root password\n", "user", "create", "--username", "root", "--password-stdin")
	c.ok("", "role", "grant", "--username", "root", "--role", "administrator")
	client := c.okJSON("", "client", "create", "--name", "console", "--grant-types", "password,refresh_token")
	id, secret := client["client_id"].(string), client["client_secret"].(string)
	base := serveForAdmin(t, c)

	// A grant change refuses every token of the subject issued before it,
	// to the millisecond.
	nextMillisecond()
	root := passwordToken(t, base, id, secret, "root", "root password")
	if st, me := adminCall(t, base, root, "GET", "/me", ""); st != http.StatusOK || me["user"].(map[string]any)["username"] != "root" {
		t.Fatalf("GET /me = %d %v", st, me)
	}
	if st, body := adminCall(t, base, root, "POST", "/accounts", `{"name":"acme"}`); st != http.StatusCreated {
		t.Fatalf("POST /accounts = %d %v", st, body)
	}
	if st, body := adminCall(t, base, root, "POST", "/users", `{"username":"alice","password":"alice password"}`); st != http.StatusCreated {
		t.Fatalf("POST /users = %d %v", st, body)
	}
	if st, body := adminCall(t, base, root, "POST", "/grants", `{"username":"alice","role":"account_manager","account":"acme"}`); st != http.StatusCreated {
		t.Fatalf("POST /grants = %d %v", st, body)
	}
	nextMillisecond()
	alice := passwordToken(t, base, id, secret, "alice", "alice password")
	if st, _ := adminCall(t, base, alice, "GET", "/accounts/acme", ""); st != http.StatusOK {
		t.Fatalf("account manager GET /accounts/acme = %d", st)
	}
	if st, _ := adminCall(t, base, alice, "POST", "/accounts", `{"name":"mine"}`); st != http.StatusForbidden {
		t.Fatalf("account manager POST /accounts = %d; want 403", st)
	}
	if st, body := adminCall(t, base, root, "PATCH", "/users/alice", `{"active":false}`); st != http.StatusOK {
		t.Fatalf("disable alice = %d %v", st, body)
	}
	if st, _ := adminCall(t, base, alice, "GET", "/me", ""); st != http.StatusUnauthorized {
		t.Fatalf("disabled user's token: GET /me = %d; want 401", st)
	}
	// The CLI sees what the API wrote, audit included.
	if st, audit := adminCall(t, base, root, "GET", "/audit?limit=1", ""); st != http.StatusOK ||
		audit["items"].([]any)[0].(map[string]any)["action"] != "user.update" {
		t.Fatalf("GET /audit = %d %v", st, audit)
	}
	if st, _ := adminCall(t, base, root, "GET", "/openapi.json", ""); st != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d", st)
	}
}
