package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) echo(t *testing.T) gatewaytest.Echo {
	t.Helper()
	var e gatewaytest.Echo
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("upstream echo: %v (status %d, body %s)", err, r.status, r.body)
	}
	return e
}

func (r response) errorBody(t *testing.T) (string, string) {
	t.Helper()
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
		t.Fatalf("want a JSON error body, got %q (%v)", r.body, err)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q", ct)
	}
	return e.Error, e.Description
}

// do sends one request; token "" sends none. extra headers are added as
// given (raw names, so underscore spellings survive).
func do(t *testing.T, method, url, token string, extra map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range extra {
		req.Header[k] = append(req.Header[k], v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func get(t *testing.T, url, token string) response { return do(t, http.MethodGet, url, token, nil) }

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %s)", r.status, status, r.body)
	}
}

// wantChallenge asserts a 401/403 with the RFC 6750 challenge and JSON body.
func wantChallenge(t *testing.T, r response, status int, errCode string) {
	t.Helper()
	wantStatus(t, r, status)
	wa := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(wa, `Bearer realm="portcullis"`) {
		t.Fatalf("WWW-Authenticate %q", wa)
	}
	if errCode != "" && !strings.Contains(wa, `error="`+errCode+`"`) {
		t.Fatalf("WWW-Authenticate %q lacks error=%q", wa, errCode)
	}
	code, _ := r.errorBody(t)
	if errCode != "" && code != errCode {
		t.Fatalf("body error %q, want %q", code, errCode)
	}
}
