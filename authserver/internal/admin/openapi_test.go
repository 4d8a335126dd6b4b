package admin_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/admin"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/shared/roles"
)

// TestOpenAPIMatchesRoutes walks the routes Register puts on echo and the
// document's operations: each must have the other.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := echo.New()
	(&admin.Handler{}).Register(e.Group(admin.Prefix))
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		registered[r.Method+" "+strings.Join(parts, "/")] = true
	}
	documented := map[string]bool{}
	for path, item := range mustDoc(t).Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+admin.Prefix+path] = true
		}
	}
	for _, r := range slices.Sorted(maps.Keys(registered)) {
		if !documented[r] {
			t.Errorf("route %s is not in docs/openapi/admin.yaml", r)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(documented)) {
		if !registered[d] {
			t.Errorf("the document names %s, which is not a route", d)
		}
	}
	if len(registered) < 30 {
		t.Fatalf("only %d routes registered", len(registered))
	}
}

// TestOpenAPIDocsCopy: docs/openapi/admin.yaml is the embedded document.
func TestOpenAPIDocsCopy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "openapi", "admin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, admin.OpenAPIYAML) {
		t.Fatal("docs/openapi/admin.yaml differs from authserver/internal/admin/openapi.yaml; copy the latter over the former")
	}
	if v := mustDoc(t).OpenAPI; v != "3.1.0" {
		t.Fatalf("openapi = %q", v)
	}
}

// TestOpenAPIServed: /api/v1/openapi.json is the document as JSON, without
// a token.
func TestOpenAPIServed(t *testing.T) {
	f := &fixture{s: servertest.New(t, servertest.Options{}), tok: map[string]string{}, vars: map[string]string{}}
	r := f.call(t, anonymous, "GET", "/openapi.json", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json = %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("served document does not load: %v", err)
	}
	if got, want := len(doc.Paths.Map()), len(mustDoc(t).Paths.Map()); got != want {
		t.Fatalf("served document has %d paths; want %d", got, want)
	}
}

// exampleRun is every documented operation, in an order that makes each
// succeed, with path parameters taken from the document's examples and the
// ids created on the way.
var exampleRun = []struct{ method, path string }{
	{"GET", "/openapi.json"},
	{"GET", "/me"},
	{"POST", "/accounts"},
	{"GET", "/accounts"},
	{"GET", "/accounts/{account}"},
	{"PATCH", "/accounts/{account}"},
	{"POST", "/accounts/{account}/applications"},
	{"GET", "/accounts/{account}/applications"},
	{"GET", "/accounts/{account}/applications/{application}"},
	{"PATCH", "/accounts/{account}/applications/{application}"},
	{"POST", "/users"},
	{"GET", "/users"},
	{"GET", "/users/{user}"},
	{"GET", "/roles"},
	{"GET", "/roles/{role}"},
	{"POST", "/roles"},
	{"DELETE", "/roles/{role}"},
	{"POST", "/grants"},
	{"GET", "/grants"},
	{"GET", "/grants/{id}"},
	{"POST", "/clients"},
	{"GET", "/clients"},
	{"GET", "/clients/{client}"},
	{"PATCH", "/clients/{client}"},
	{"GET", "/keys"},
	{"POST", "/keys/rotate"},
	{"PATCH", "/users/{user}"},
	{"GET", "/audit"},
	{"DELETE", "/grants/{id}"},
	{"DELETE", "/clients/{client}"},
	{"DELETE", "/users/{user}"},
	{"DELETE", "/accounts/{account}/applications/{application}"},
	{"DELETE", "/accounts/{account}"},
	{"POST", "/me/password"},
}

// TestOpenAPIExamples runs every operation once with the document's
// request example and checks the real response against the documented
// example of its status: the example validates against the schema, and it
// shows every member the real response has.
func TestOpenAPIExamples(t *testing.T) {
	doc := mustDoc(t)
	s := servertest.New(t, servertest.Options{})
	tok, _ := s.MintUserToken(t, rootUser, roles.Grant{Role: roles.Administrator})
	f := &fixture{s: s, tok: map[string]string{rootUser: tok}, vars: map[string]string{}}

	seen := map[string]bool{}
	for _, step := range exampleRun {
		item := doc.Paths.Value(step.path)
		if item == nil || item.GetOperation(step.method) == nil {
			t.Fatalf("%s %s is not documented", step.method, step.path)
		}
		op := item.GetOperation(step.method)
		seen[step.method+" "+step.path] = true

		// Path parameters: the documented example, or an id made earlier.
		path := step.path
		for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
			if p.Value.In != "path" {
				continue
			}
			v, _ := p.Value.Example.(string)
			if saved, ok := f.vars["saved-"+p.Value.Name]; ok {
				v = saved
			}
			path = strings.ReplaceAll(path, "{"+p.Value.Name+"}", v)
		}
		var body any
		if rb := op.RequestBody; rb != nil {
			mt := rb.Value.Content.Get("application/json")
			if mt == nil || mt.Example == nil {
				t.Fatalf("%s %s: request body without a JSON example", step.method, step.path)
			}
			if err := mt.Schema.Value.VisitJSON(mt.Example, openapi3.EnableJSONSchema2020()); err != nil {
				t.Errorf("%s %s: request example does not match its schema: %v", step.method, step.path, err)
			}
			body = mt.Example
		}
		r := f.call(t, rootUser, step.method, path, body)
		if r.Status >= 300 {
			t.Errorf("%s %s with the documented example = %d %s", step.method, path, r.Status, r.Body)
			continue
		}
		switch step.method + " " + step.path {
		case "POST /grants":
			f.vars["saved-id"] = r.JSON["id"].(string)
		case "POST /roles":
			f.vars["saved-role"] = r.JSON["name"].(string)
		case "POST /clients":
			f.vars["saved-client"] = r.JSON["client_id"].(string)
		}
		resp := op.Responses.Status(r.Status)
		mt := resp.Value.Content.Get("application/json")
		if mt == nil || step.path == "/openapi.json" {
			continue
		}
		if mt.Example == nil {
			t.Errorf("%s %s %d: no response example", step.method, step.path, r.Status)
			continue
		}
		if err := mt.Schema.Value.VisitJSON(mt.Example, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s %s %d: response example does not match its schema: %v", step.method, step.path, r.Status, err)
		}
		var real any
		_ = json.Unmarshal(r.Body, &real)
		if missing := missingKeys(real, mt.Example, ""); len(missing) > 0 {
			t.Errorf("%s %s %d: the example lacks members the real response has: %v\nreal: %s", step.method, step.path, r.Status, missing, r.Body)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !seen[method+" "+path] {
				t.Errorf("%s %s has no example run", method, path)
			}
		}
	}
}

// TestOpenAPIErrorExamples: the shared error responses' examples match
// real error bodies.
func TestOpenAPIErrorExamples(t *testing.T) {
	doc := mustDoc(t)
	f := newFixture(t, servertest.Options{})
	real := map[string]reply{
		"BadRequest":   f.call(t, rootUser, "POST", "/accounts", obj{"name": "Not A Slug"}),
		"Unauthorized": f.call(t, anonymous, "GET", "/me", nil),
		"Forbidden":    f.call(t, shopUser, "GET", "/keys", nil),
		"NotFound":     f.call(t, rootUser, "GET", "/accounts/nope", nil),
		"Conflict":     f.call(t, rootUser, "POST", "/accounts", obj{"name": "acme"}),
	}
	for name, r := range real {
		ex := doc.Components.Responses[name].Value.Content.Get("application/json").Example
		var got any
		_ = json.Unmarshal(r.Body, &got)
		if missing := missingKeys(got, ex, ""); len(missing) > 0 {
			t.Errorf("%s example lacks %v (real %s)", name, missing, r.Body)
		}
		if exm, _ := ex.(map[string]any); exm["error"] != r.JSON["error"] {
			t.Errorf("%s example error = %v; real %v", name, exm["error"], r.JSON["error"])
		}
	}
	if !strings.HasPrefix(real["Unauthorized"].Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("401 without a Bearer challenge: %v", real["Unauthorized"].Header)
	}
}

// missingKeys lists the object members of real (recursively; for arrays,
// the union over items) that example does not show.
func missingKeys(real, example any, at string) []string {
	var out []string
	switch r := real.(type) {
	case map[string]any:
		e, _ := example.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(r)) {
			ev, ok := e[k]
			if !ok {
				out = append(out, at+"/"+k)
				continue
			}
			if k == "before" || k == "after" {
				continue // audit snapshots: free-form JSON of the changed object
			}
			out = append(out, missingKeys(r[k], ev, at+"/"+k)...)
		}
	case []any:
		e, _ := example.([]any)
		merged := map[string]any{}
		for _, it := range e {
			if m, ok := it.(map[string]any); ok {
				maps.Copy(merged, m)
			}
		}
		for _, it := range r {
			if _, ok := it.(map[string]any); ok {
				out = append(out, missingKeys(it, merged, at+"[]")...)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
