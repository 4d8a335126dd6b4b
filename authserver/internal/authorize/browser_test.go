package authorize_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

// chromiumPath finds Debian's chromium: PORTCULLIS_TEST_CHROMIUM, else
// PATH. Without one the test is skipped, except in CI, where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PORTCULLIS_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (CI must run the browser test): apt-get install chromium")
	}
	t.Skip("chromium not installed; set PORTCULLIS_TEST_CHROMIUM or install Debian's chromium")
	return ""
}

// newBrowser starts a headless chromium with a throwaway profile.
func newBrowser(t *testing.T, exec string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exec),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return tctx
}

// clientApp is the relying party: its callback records what the
// authorization server sent back.
type clientApp struct {
	srv *httptest.Server
	mu  sync.Mutex
	got url.Values
}

func newClientApp(t *testing.T) *clientApp {
	a := &clientApp{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r) // favicon.ico and the like
			return
		}
		a.mu.Lock()
		a.got = r.URL.Query()
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, `<!doctype html><title>Client app</title><h1 id="done">Signed in</h1>`)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *clientApp) callback() url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.got
}

// startGateway builds and runs the real gateway binary in front of an
// echo upstream, trusting the auth server's issuer.
func startGateway(t *testing.T, issuer string) string {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "headers": r.Header})
	}))
	t.Cleanup(upstream.Close)

	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-o", bin, "github.com/portcullis/portcullis/gateway/cmd/gateway")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gateway: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cfg := fmt.Sprintf(`listen: %s
issuers:
  - issuer: %s
    audiences: [portcullis]
resources:
  - name: billing-api
    methods: [GET]
    path: /billing/{rest...}
    upstream: %s
    strip_prefix: /billing
    account: acme
    application: billing
    access: roles
    roles: [developer]
`, addr, issuer, upstream.URL)
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz") //nolint:noctx // test polling
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserFlowThroughGateway drives the whole flow in headless
// chromium: authorize URL → login form → redirect with a code → token
// exchange → a request the real gateway lets through.
func TestBrowserFlowThroughGateway(t *testing.T) {
	chromium := chromiumPath(t)
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "alice", password, roles.Grant{Role: roles.Developer, Account: "acme", Application: "billing"})
	app := newClientApp(t)
	callback := app.srv.URL + "/callback"
	if err := s.Store.CreateClient(context.Background(), &storage.Client{ID: "spa", Name: "Billing console", Public: true,
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectURIs: []string{callback},
		Scopes: []string{"openid", "profile", "email"}}); err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, s.URL)

	q := url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {callback},
		"scope": {"openid profile"}, "state": {"xyz"}, "nonce": {"abc"},
		"code_challenge": {authcode.S256(verifier)}, "code_challenge_method": {"S256"}}
	ctx := newBrowser(t, chromium)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/oauth2/authorize?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	); err != nil {
		t.Fatalf("open login page: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	focused := activeElement(t, ctx)
	if !strings.Contains(title, "Sign in") || focused != "username" {
		t.Fatalf("login page: title %q, focus on %q", title, focused)
	}
	if shot := os.Getenv("PORTCULLIS_LOGIN_SCREENSHOT"); shot != "" {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(720, 620)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shot, png, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// A wrong password first: the generic message, focus on the password.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("[role=alert]")),
	); err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	alert, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("[role=alert]")))
	if err != nil {
		t.Fatal(err)
	}
	if focused := activeElement(t, ctx); alert != "The username or password is incorrect." || focused != "password" {
		t.Fatalf("after a wrong password: alert %q, focus %q", alert, focused)
	}

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	got := app.callback()
	if got.Get("state") != "xyz" || got.Get("iss") != s.URL || got.Get("code") == "" {
		t.Fatalf("callback query: %v", got)
	}

	// The app exchanges the code (PKCE) ...
	tr := s.Token(t, "spa", "", url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {callback}, "code_verifier": {verifier}})
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("token exchange: %+v", tr)
	}
	// ... and the gateway accepts the access token for a resource that
	// needs developer in acme/billing.
	call := func(token string) int {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, gw+"/billing/invoices", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if c := call(tr.AccessToken); c != http.StatusOK {
		t.Fatalf("gateway with the token: %d", c)
	}
	if c := call(""); c != http.StatusUnauthorized {
		t.Fatalf("gateway without a token: %d", c)
	}

	// Signed in: a second authorization in the same browser skips the form.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/oauth2/authorize?"+q.Encode()),
		chromedp.WaitVisible(chromedp.CSS("#done")),
	); err != nil {
		t.Fatalf("second authorization: %v", err)
	}
	if again := app.callback(); again.Get("code") == "" || again.Get("code") == got.Get("code") {
		t.Fatalf("second callback: %v", again)
	}
}

func activeElement(t *testing.T, ctx context.Context) string {
	t.Helper()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if err != nil {
		t.Fatal(err)
	}
	return id
}
