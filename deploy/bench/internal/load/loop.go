package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/stats"
)

// Worker sends one request and returns an error for anything but success. A
// worker is used by one goroutine only, so it may keep state between calls
// (a refresh token chain).
type Worker func(ctx context.Context) error

// RunLoop runs n workers back to back for d (a closed loop) and measures each
// call. newWorker builds worker i before the clock starts.
func RunLoop(ctx context.Context, name string, n int, d time.Duration, newWorker func(i int) (Worker, error)) (Result, error) {
	workers := make([]Worker, n)
	for i := range workers {
		w, err := newWorker(i)
		if err != nil {
			return Result{}, fmt.Errorf("%s: worker %d: %w", name, i, err)
		}
		workers[i] = w
	}
	runCtx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	type out struct {
		lat    []time.Duration
		errs   int64
		sample string
	}
	outs := make([]out, n)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			o := &outs[i]
			for time.Now().Before(deadline) && runCtx.Err() == nil {
				t0 := time.Now()
				err := w(runCtx)
				o.lat = append(o.lat, time.Since(t0))
				if err != nil {
					o.errs++
					if o.sample == "" {
						o.sample = err.Error()
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	r := Result{Tool: "go-loop", Duration: elapsed}
	var all []time.Duration
	for _, o := range outs {
		all = append(all, o.lat...)
		r.Errors += o.errs
		if r.ErrorSample == "" {
			r.ErrorSample = o.sample
		}
	}
	slices.Sort(all)
	r.Requests = int64(len(all))
	r.RPS = float64(r.Requests-r.Errors) / elapsed.Seconds()
	r.P50 = stats.Percentile(all, 50)
	r.P99 = stats.Percentile(all, 99)
	r.P999 = stats.Percentile(all, 99.9)
	return r, nil
}

// TokenResponse is the part of an RFC 6749 token response the bench reads.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// RequestToken posts form to tokenURL (HTTP Basic when clientID is set and
// secret is not empty) and decodes the response, failing on any non-200.
func RequestToken(ctx context.Context, c *http.Client, tokenURL, clientID, secret string, form url.Values) (TokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return TokenResponse{}, fmt.Errorf("build token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := c.Do(req)
	if err != nil {
		return TokenResponse{}, fmt.Errorf("token request: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return TokenResponse{}, fmt.Errorf("read token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return TokenResponse{}, fmt.Errorf("token endpoint: status %d: %.300s", resp.StatusCode, body)
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return TokenResponse{}, fmt.Errorf("decode token response: %w", err)
	}
	if tr.AccessToken == "" {
		return TokenResponse{}, errors.New("token response without access_token")
	}
	return tr, nil
}

// GrantWorker returns a worker that asks for a token with the same form every
// time (client_credentials, password).
func GrantWorker(c *http.Client, tokenURL, clientID, secret string, form url.Values) Worker {
	return func(ctx context.Context) error {
		_, err := RequestToken(ctx, c, tokenURL, clientID, secret, form)
		return err
	}
}

// RefreshWorker returns a worker that chains its own refresh tokens: each
// call spends the current token and keeps the rotated one, as a client does.
func RefreshWorker(c *http.Client, tokenURL, clientID, secret, first string) Worker {
	current := first
	return func(ctx context.Context) error {
		tr, err := RequestToken(ctx, c, tokenURL, clientID, secret, url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {current},
		})
		if err != nil {
			return err
		}
		if tr.RefreshToken == "" {
			return errors.New("refresh response without a rotated refresh_token")
		}
		current = tr.RefreshToken
		return nil
	}
}
