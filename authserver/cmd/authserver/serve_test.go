package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestKeysRotateAndList(t *testing.T) {
	c := newCLI(t)
	if out := c.ok("", "keys", "list"); !strings.HasPrefix(out, "no signing keys yet") {
		t.Fatalf("empty list: %q", out)
	}
	first := c.okJSON("", "keys", "rotate")
	if first["created"] != true || first["algorithm"] != "EdDSA" {
		t.Fatalf("first rotate: %v", first)
	}
	second := c.okJSON("", "keys", "rotate")
	if second["created"] != true || second["id"] == first["id"] {
		t.Fatalf("second rotate: %v", second)
	}
	if again := c.okJSON("", "keys", "rotate"); again["created"] != false || again["id"] != second["id"] {
		t.Fatalf("rotate with a pending key: %v", again)
	}
	list := c.okJSON("", "keys", "list")
	keys, _ := list["keys"].([]any)
	if len(keys) != 2 {
		t.Fatalf("list: %v", list)
	}
	states := map[string]string{}
	for _, k := range keys {
		m := k.(map[string]any)
		states[m["id"].(string)] = m["state"].(string)
	}
	if states[first["id"].(string)] != "active" || states[second["id"].(string)] != "next" {
		t.Fatalf("states %v", states)
	}
	if out := c.ok("", "keys", "list"); !strings.Contains(out, "STATE") || !strings.Contains(out, "next") || !strings.Contains(out, "active") {
		t.Fatalf("text list: %q", out)
	}
	// The key file guarding the private keys is created 0600.
	fi, err := os.Stat(c.dir + "/var/keys.secret")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	c.fails(2, "", "keys")
}

func TestServeAnswersAndShutsDownOnSignal(t *testing.T) {
	c := newCLI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	client := c.okJSON("", "client", "create", "--name", "svc", "--grant-types", "client_credentials")

	cmd := exec.Command(bin, "serve", "--config", c.config)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORTCULLIS_LISTEN=" + addr, "PORTCULLIS_ISSUER=http://" + addr}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client["client_id"].(string), client["client_secret"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || tok["access_token"] == nil {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "draining in-flight requests") {
		t.Fatalf("no graceful shutdown in log:\n%s", stderr.String())
	}
}
