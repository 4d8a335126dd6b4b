package admin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/portcullis/portcullis/authserver/internal/admin"
	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage/storagetest"
	"github.com/portcullis/portcullis/shared/roles"
)

// backends runs fn on SQLite and, when PORTCULLIS_TEST_POSTGRES_DSN is
// set, on a fresh PostgreSQL schema.
func backends(t *testing.T, fn func(t *testing.T, o servertest.Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, servertest.Options{}) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, servertest.Options{DSN: storagetest.PostgresDSN(t, "pc_admin_")})
	})
}

// The cast of the permission tests: one caller per row of issue 5's matrix.
const (
	rootUser  = "root"       // administrator
	acmeMgr   = "acme-mgr"   // account_manager:acme
	shopMgr   = "shop-mgr"   // application_manager:acme/shop
	shopDev   = "shop-dev"   // developer:acme/shop
	shopUser  = "shop-user"  // consumer:acme/shop
	globexDev = "globex-dev" // developer:globex/store (another account)
	shopBot   = "shop-bot"   // a client with developer:acme/shop (client_credentials)
	anonymous = ""
	password  = "correct horse battery staple"
)

// fixture is a running auth server with the cast, their tokens, and the
// ids the tests refer to by name.
type fixture struct {
	s    *servertest.Server
	tok  map[string]string
	vars map[string]string
	n    atomic.Int64
}

func newFixture(t *testing.T, o servertest.Options) *fixture {
	t.Helper()
	s := servertest.New(t, o)
	f := &fixture{s: s, tok: map[string]string{}, vars: map[string]string{}}
	cast := map[string][]roles.Grant{
		rootUser:  {{Role: roles.Administrator}},
		acmeMgr:   {{Role: roles.AccountManager, Account: "acme"}},
		shopMgr:   {{Role: roles.ApplicationManager, Account: "acme", Application: "shop"}},
		shopDev:   {{Role: roles.Developer, Account: "acme", Application: "shop"}},
		shopUser:  {{Role: roles.Consumer, Account: "acme", Application: "shop"}},
		globexDev: {{Role: roles.Developer, Account: "globex", Application: "store"}},
	}
	s.EnsureScope(t, roles.Grant{Role: roles.Consumer, Account: "acme", Application: "blog"})
	for _, name := range []string{rootUser, acmeMgr, shopMgr, shopDev, shopUser, globexDev} {
		tok, u := s.MintUserToken(t, name, cast[name]...)
		f.tok[name], f.vars[name] = tok, u.ID
	}
	// Users without tokens: bob in acme/blog, carol in globex/store.
	f.vars["bob"] = s.CreateUser(t, "bob", password, roles.Grant{Role: roles.Consumer, Account: "acme", Application: "blog"}).ID
	f.vars["carol"] = s.CreateUser(t, "carol", password, roles.Grant{Role: roles.Consumer, Account: "globex", Application: "store"}).ID

	// Clients owned at each level.
	ctx := t.Context()
	mk := func(name, account, application string) string {
		c, err := s.Identity.CreateClient(ctx, identity.CLI, identity.NewClient{Name: name,
			GrantTypes: []string{identity.GrantClientCredentials}, Account: account, Application: application})
		if err != nil {
			t.Fatalf("create client %s: %v", name, err)
		}
		return c.ID
	}
	f.vars["shop-client"] = mk("shop client", "acme", "shop")
	f.vars["blog-client"] = mk("blog client", "acme", "blog")
	f.vars["acme-client"] = mk("acme client", "acme", "")
	f.vars["globex-client"] = mk("globex client", "globex", "store")
	f.vars["root-client"] = mk("unowned client", "", "")
	id, secret := s.CreateClient(t, servertest.Client{ID: "shop-bot", Grants: []roles.Grant{{Role: roles.Developer, Account: "acme", Application: "shop"}}})
	tr := s.Token(t, id, secret, url.Values{"grant_type": {"client_credentials"}})
	if tr.Status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", tr.Status, tr.Error)
	}
	f.tok[shopBot] = tr.AccessToken
	return f
}

// reply is a response, decoded.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

func (r reply) items() []map[string]any {
	raw, _ := r.JSON["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

// field returns a string member of each item.
func (r reply) field(name string) []string {
	var out []string
	for _, it := range r.items() {
		s, _ := it[name].(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

var placeholder = regexp.MustCompile(`\{([a-z0-9_-]+)\}`)

// expand replaces {name} with the fixture's variable of that name.
func (f *fixture) expand(t *testing.T, s string) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := f.vars[m[1:len(m)-1]]
		if !ok {
			t.Fatalf("no variable %s", m)
		}
		return v
	})
}

// call sends a request as who (a cast name, or "" for no token) and checks
// the response against the OpenAPI document.
func (f *fixture) call(t *testing.T, who, method, path string, body any) reply {
	t.Helper()
	path = f.expand(t, path)
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(f.expand(t, string(b)))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.s.URL+admin.Prefix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Request-Id", fmt.Sprintf("test-%d", f.n.Add(1)))
	if who != anonymous {
		tok, ok := f.tok[who]
		if !ok {
			t.Fatalf("no token for %q", who)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := f.s.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.JSON); err != nil {
			t.Fatalf("%s %s: %d, body is not a JSON object: %q", method, path, r.Status, b)
		}
	}
	checkAgainstDoc(t, method, strings.SplitN(path, "?", 2)[0], r)
	return r
}

// The OpenAPI document, loaded once with kin-openapi (which reads 3.1).
var loadDoc = sync.OnceValues(func() (*openapi3.T, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(admin.OpenAPIYAML)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(l.Context); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return doc, nil
})

func mustDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := loadDoc()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// findOperation matches a concrete path to a documented template.
func findOperation(doc *openapi3.T, method, path string) (string, *openapi3.Operation) {
	var best string
	var bestOp *openapi3.Operation
	for tmpl, item := range doc.Paths.Map() {
		if !regexp.MustCompile(templateRegexp(tmpl)).MatchString(path) {
			continue
		}
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		// Prefer the template with fewer parameters (literal segments win).
		if bestOp == nil || strings.Count(tmpl, "{") < strings.Count(best, "{") {
			best, bestOp = tmpl, op
		}
	}
	return best, bestOp
}

func templateRegexp(tmpl string) string {
	parts := strings.Split(tmpl, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, "{") {
			parts[i] = `[^/]+`
		} else {
			parts[i] = regexp.QuoteMeta(p)
		}
	}
	return "^" + strings.Join(parts, "/") + "$"
}

// checkAgainstDoc fails the test when a real response is not what the
// document promises: an undocumented route or status, or a body that does
// not validate against the documented schema.
func checkAgainstDoc(t *testing.T, method, path string, r reply) {
	t.Helper()
	doc := mustDoc(t)
	tmpl, op := findOperation(doc, method, path)
	if op == nil {
		t.Errorf("%s %s is not in the OpenAPI document", method, path)
		return
	}
	resp := op.Responses.Status(r.Status)
	if resp == nil || resp.Value == nil {
		t.Errorf("%s %s answered %d, which the document does not list for this operation", method, tmpl, r.Status)
		return
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil {
		if len(r.Body) != 0 {
			t.Errorf("%s %s %d: documented without a body, got %q", method, tmpl, r.Status, r.Body)
		}
		return
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Errorf("%s %s %d: body is not JSON: %v", method, tmpl, r.Status, err)
		return
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s %s %d: body does not match the documented schema: %v\nbody: %s", method, tmpl, r.Status, err, r.Body)
	}
	if resp.Value.Headers["Location"] != nil && r.Header.Get("Location") == "" {
		t.Errorf("%s %s %d: documented Location header is missing", method, tmpl, r.Status)
	}
}
