package upstream

import (
	"net/http"
)

var body = []byte(`{"ok":true,"service":"portcullis-bench-upstream"}` + "\n")

// Handler answers every request with a small fixed JSON document, and
// /readyz and /healthz with 200.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		_, _ = w.Write(body)
	})
}
