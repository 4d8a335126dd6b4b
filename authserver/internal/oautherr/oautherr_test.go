package oautherr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/oautherr"
)

func TestBuildersCopyAndIsComparesCode(t *testing.T) {
	e := oautherr.ErrInvalidGrant.WithDescription("refresh token expired").WithDebug(errors.New("row 7"))
	if oautherr.ErrInvalidGrant.Description == "refresh token expired" || oautherr.ErrInvalidGrant.Debug() != nil {
		t.Fatal("builder mutated the sentinel")
	}
	wrapped := fmt.Errorf("token: %w", e)
	if !errors.Is(wrapped, oautherr.ErrInvalidGrant) || errors.Is(wrapped, oautherr.ErrInvalidRequest) {
		t.Fatal("errors.Is does not compare the code")
	}
	r := oautherr.ErrTooManyRequests.WithRetryAfter(1500 * time.Millisecond)
	if r.Header.Get("Retry-After") != "2" || oautherr.ErrTooManyRequests.Header != nil {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
}

func TestWriteNeverSendsDebug(t *testing.T) {
	w := httptest.NewRecorder()
	oautherr.Write(w, oautherr.ErrInvalidClient.WithDebug(errors.New("secret=hunter2")))
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if w.Code != 401 || body["error"] != "invalid_client" || body["error_description"] == "" || len(body) != 2 {
		t.Fatalf("%d %v", w.Code, body)
	}
	if w.Header().Get("WWW-Authenticate") == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", w.Header())
	}
	if got := w.Body.String(); contains(got, "hunter2") {
		t.Fatal("debug detail leaked")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
