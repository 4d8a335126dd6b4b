// Command demo-upstream is a tiny JSON upstream for `make run` and the
// benchmarks: it echoes the method, the path and the X-Portcullis-*
// headers it received.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

type echo struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
}

func handler(w http.ResponseWriter, r *http.Request) {
	e := echo{Method: r.Method, Path: r.URL.Path, Headers: map[string]string{}}
	for k, v := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-portcullis-") {
			e.Headers[k] = strings.Join(v, ",")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(e)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	srv := &http.Server{Addr: *listen, Handler: http.HandlerFunc(handler), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(os.Stderr, "demo-upstream listening on", *listen)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "demo-upstream:", err)
		os.Exit(1)
	}
}
