package load

import (
	"fmt"
	"net/http"
	"time"
)

// Result is one bounded run of load against one target.
type Result struct {
	Tool     string        `json:"tool"`
	Requests int64         `json:"requests"`
	Errors   int64         `json:"errors"` // transport errors and non-2xx responses
	Duration time.Duration `json:"duration_ns"`
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	P999     time.Duration `json:"p999_ns"`
	// ErrorSample is the first error seen, so that a failed run says why.
	ErrorSample string `json:"error_sample,omitempty"`
}

// Target is what every request of a run looks like, except that Header
// values listed in Rotate change per request.
type Target struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Tokens, when set, are sent as "Authorization: Bearer <token>" in
	// round-robin order, so that a pool of distinct users hits the server.
	Tokens []string
}

// Closed describes a closed-loop run.
type Closed struct {
	Connections int
	Threads     int
	Duration    time.Duration
}

// Open describes an open-loop (fixed-rate) run.
type Open struct {
	Rate     int // requests per second
	Duration time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%s: %.0f req/s, p50 %v p99 %v p99.9 %v, %d requests, %d errors",
		r.Tool, r.RPS, r.P50, r.P99, r.P999, r.Requests, r.Errors)
}
