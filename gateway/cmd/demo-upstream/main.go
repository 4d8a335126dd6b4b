// Command demo-upstream is a tiny JSON upstream for `make run` and the
// benchmarks: it echoes the method, the path and the X-Portcullis-*
// headers it received. It writes its JSON by hand from a pooled buffer so
// that the upstream's own cost stays small and does not blur the gateway's
// figures in a benchmark.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// handler answers {"method":..,"path":..,"headers":{"X-Portcullis-..":".."}}
// (several values of one header are joined with ",").
func handler(w http.ResponseWriter, r *http.Request) {
	bp, _ := bufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"method":`...)
	b = appendString(b, r.Method)
	b = append(b, `,"path":`...)
	b = appendString(b, r.URL.Path)
	b = append(b, `,"headers":{`...)
	first := true
	for k, vs := range r.Header {
		if !hasPrefixFold(k, "x-portcullis-") {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':', '"')
		for i, v := range vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendEscaped(b, v)
		}
		b = append(b, '"')
	}
	b = append(b, "}}\n"...)
	h := w.Header()
	h["Content-Type"] = contentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	// #nosec G705 -- JSON with every string escaped, served as application/json.
	_, _ = w.Write(b)
	*bp = b
	bufs.Put(bp)
}

var contentType = []string{"application/json"}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped writes s as the inside of a JSON string: quotes,
// backslashes and control characters escaped, invalid UTF-8 replaced.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
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
