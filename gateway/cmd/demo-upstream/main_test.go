package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestEchoesMethodPathAndIdentityHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/accounts/acme/x", nil)
	req.Header.Set("X-Portcullis-Subject", "alice")
	req.Header.Set("X-Other", "ignored")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e echo
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Method != http.MethodPost || e.Path != "/accounts/acme/x" || e.Headers["X-Portcullis-Subject"] != "alice" || len(e.Headers) != 1 {
		t.Fatalf("echo %+v", e)
	}
}
