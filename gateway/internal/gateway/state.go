package gateway

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// reqState is the per-request scope: it wraps the ResponseWriter to record
// the status for the access log and metrics, and carries what each stage
// learned. It is pooled so the request path does not allocate it. It also
// catches the 404/405 that http.ServeMux writes when no route matches, and
// renders them in the gateway's JSON error shape instead.
type reqState struct {
	w           http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	routed      bool
	swallow     bool
	resource    string
	decision    decision
	reason      string
	subject     string
	realm       string
	explain     *Explanation // set only by Gateway.Explain
}

var statePool = sync.Pool{New: func() any { return new(reqState) }}

func getState(w http.ResponseWriter, realm string) *reqState {
	st, _ := statePool.Get().(*reqState)
	*st = reqState{w: w, resource: "-", realm: realm}
	return st
}

func putState(st *reqState) {
	*st = reqState{}
	statePool.Put(st)
}

func (st *reqState) Header() http.Header { return st.w.Header() }

func (st *reqState) WriteHeader(code int) {
	if st.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational (100 Continue, 103 Early Hints) forwarded by the
		// proxy: not the final status.
		st.w.WriteHeader(code)
		return
	}
	if !st.routed && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		// http.ServeMux found no route (or only other methods): replace its
		// text/plain body with the JSON error; Allow is already set.
		st.routed = true // the JSON write below must pass through
		st.swallow = true
		h := st.w.Header()
		h.Del("X-Content-Type-Options")
		if code == http.StatusNotFound {
			st.decision = decNotFound
			st.writeErrorBody(code, "not_found", "no resource matches the request")
		} else {
			st.decision = decMethodNotAllowed
			st.writeErrorBody(code, "method_not_allowed", "the resource does not accept this method")
		}
		return
	}
	if !st.routed && code >= 300 && code < 400 {
		st.decision = decRedirect
	}
	st.wroteHeader = true
	st.status = code
	st.w.WriteHeader(code)
}

func (st *reqState) writeErrorBody(code int, errCode, desc string) {
	swallow := st.swallow
	st.swallow = false
	writeError(st, code, errCode, desc, "")
	st.swallow = swallow
}

func (st *reqState) Write(b []byte) (int, error) {
	if st.swallow {
		return len(b), nil
	}
	if !st.wroteHeader {
		st.WriteHeader(http.StatusOK)
	}
	n, err := st.w.Write(b)
	st.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController (used by ReverseProxy) reach the
// connection for Flush and, for WebSocket upgrades, Hijack.
func (st *reqState) Unwrap() http.ResponseWriter { return st.w }

// Flush passes flushes through (ReverseProxy streams through it).
func (st *reqState) Flush() {
	if f, ok := st.w.(http.Flusher); ok {
		f.Flush()
	}
}

// expiringWriter is used only for upgrade requests: when the connection is
// hijacked for a WebSocket, it arranges for the connection to be closed
// when the token that opened it expires.
type expiringWriter struct {
	*reqState
	expires time.Time
	now     func() time.Time
}

func (e *expiringWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(e.w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	e.status, e.wroteHeader = http.StatusSwitchingProtocols, true
	d := e.expires.Sub(e.now())
	if d <= 0 {
		_ = conn.Close()
		return conn, rw, nil
	}
	t := time.AfterFunc(d, func() { _ = conn.Close() })
	return &closeStopsTimer{Conn: conn, t: t}, rw, nil
}

// Unwrap reaches the connection for everything but Hijack, which
// ResponseController finds on expiringWriter itself first.
func (e *expiringWriter) Unwrap() http.ResponseWriter { return e.w }

type closeStopsTimer struct {
	net.Conn
	t *time.Timer
}

func (c *closeStopsTimer) Close() error {
	c.t.Stop()
	return c.Conn.Close()
}
