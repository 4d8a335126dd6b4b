package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkScript pre-formats one request per token at start (so the per-request
// Lua cost is a table lookup, not string building: wrk shares the two cores
// with the server under test) and prints a machine-readable summary line,
// including p99.9, which wrk's --latency table lacks. Latencies are in µs.
const wrkScript = `
local reqs = {}
local idx = 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end
function init(args)
  local path = args[1]
  if path == nil or path == "" then return end
  for line in io.lines(path) do
    if line ~= "" then
      local h = {}
      for k, v in pairs(wrk.headers) do h[k] = v end
      h["Authorization"] = "Bearer " .. line
      reqs[#reqs + 1] = wrk.format(nil, nil, h)
    end
  end
  idx = (offset or 0) % math.max(#reqs, 1)
end
function request()
  if #reqs == 0 then return wrk.request() end
  idx = idx % #reqs + 1
  return reqs[idx]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("PORTCULLIS-BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d p999_us=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.status, e.connect, e.read, e.write, e.timeout))
end
`

// WrkPath returns the path of wrk, or "" when it is not installed.
func WrkPath() string {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return ""
	}
	return p
}

// RunWrk runs wrk closed-loop against t. dir is a scratch directory for the
// Lua script and the token list.
func RunWrk(ctx context.Context, wrk, dir string, t Target, c Closed) (Result, error) {
	if t.Method != "" && t.Method != http.MethodGet || len(t.Body) > 0 {
		return Result{}, errors.New("wrk runner: only GET without a body is supported")
	}
	script := filepath.Join(dir, "portcullis-bench.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return Result{}, fmt.Errorf("write wrk script: %w", err)
	}
	tokens := ""
	if len(t.Tokens) > 0 {
		tokens = filepath.Join(dir, "tokens.txt")
		if err := os.WriteFile(tokens, []byte(strings.Join(t.Tokens, "\n")+"\n"), 0o600); err != nil {
			return Result{}, fmt.Errorf("write token list: %w", err)
		}
	}
	secs := max(int(c.Duration.Round(time.Second)/time.Second), 1)
	args := []string{
		"-t", strconv.Itoa(max(c.Threads, 1)),
		"-c", strconv.Itoa(c.Connections),
		"-d", strconv.Itoa(secs) + "s",
		"--timeout", "10s",
		"--latency",
		"-s", script,
	}
	for k, vs := range t.Header {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	args = append(args, t.URL)
	if tokens != "" {
		args = append(args, "--", tokens)
	}
	// Bounded: wrk stops itself after -d; the context is the backstop.
	runCtx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(runCtx, wrk, args...) // #nosec G204 -- wrk from PATH, arguments built here
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("wrk %s: %w: %s", t.URL, err, strings.TrimSpace(stderr.String()))
	}
	r, err := ParseWrk(stdout.String())
	if err != nil {
		return Result{}, fmt.Errorf("wrk %s: %w\n%s", t.URL, err, stdout.String())
	}
	return r, nil
}

var (
	wrkRPS     = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkTotal   = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+\w+),`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket  = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkSummary = regexp.MustCompile(`(?m)^PORTCULLIS-BENCH (.*)$`)
)

// ParseWrk reads the output of `wrk --latency`: Requests/sec, the total, the
// latency distribution, non-2xx responses and socket errors. When the bench
// script's summary line is present it supplies exact counts and p99.9.
func ParseWrk(out string) (Result, error) {
	r := Result{Tool: "wrk"}
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no Requests/sec line in wrk output")
	}
	rps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return r, fmt.Errorf("requests/sec %q: %w", m[1], err)
	}
	r.RPS = rps
	if m := wrkTotal.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
		if d, err := parseWrkDuration(m[2]); err == nil {
			r.Duration = d
		}
	}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		d, err := parseWrkDuration(m[2] + m[3])
		if err != nil {
			return r, err
		}
		switch m[1] {
		case "50":
			r.P50 = d
		case "99":
			r.P99 = d
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		r.Errors += n
		r.ErrorSample = fmt.Sprintf("%d non-2xx responses", n)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		var sum int64
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			sum += n
		}
		if sum > 0 {
			r.Errors += sum
			r.ErrorSample = strings.TrimSpace(m[0])
		}
	}
	if m := wrkSummary.FindStringSubmatch(out); m != nil {
		kv := map[string]int64{}
		sc := bufio.NewScanner(strings.NewReader(m[1]))
		sc.Split(bufio.ScanWords)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return r, fmt.Errorf("summary field %s: %w", k, err)
			}
			kv[k] = n
		}
		r.Requests = kv["requests"]
		r.Duration = time.Duration(kv["duration_us"]) * time.Microsecond
		r.P50 = time.Duration(kv["p50_us"]) * time.Microsecond
		r.P99 = time.Duration(kv["p99_us"]) * time.Microsecond
		r.P999 = time.Duration(kv["p999_us"]) * time.Microsecond
		r.Errors = kv["status"] + kv["connect"] + kv["read"] + kv["write"] + kv["timeout"]
	}
	return r, nil
}

// parseWrkDuration reads wrk's units: us, ms, s, m (and h).
func parseWrkDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("wrk duration %q: %w", s, err)
			}
			return time.Duration(f * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("wrk duration %q: unknown unit", s)
}
