package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

type echo struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
}

func TestEchoesMethodPathAndIdentityHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/accounts/acme/x", nil)
	req.Header.Set("X-Portcullis-Subject", "alice")
	req.Header.Set("X-Portcullis-Roles", `[{"role":"developer","account":"acme"}]`)
	req.Header.Add("X-Portcullis-Client", "c1")
	req.Header.Add("X-Portcullis-Client", "c2\"\u00e9\\")
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
	if e.Method != http.MethodPost || e.Path != "/accounts/acme/x" || len(e.Headers) != 3 ||
		e.Headers["X-Portcullis-Subject"] != "alice" ||
		e.Headers["X-Portcullis-Roles"] != `[{"role":"developer","account":"acme"}]` ||
		e.Headers["X-Portcullis-Client"] != "c1,c2\"\u00e9\\" {
		t.Fatalf("echo %+v", e)
	}
}
