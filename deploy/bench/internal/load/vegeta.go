package load

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// targeter hands out t's request, rotating the bearer token per request.
func targeter(t Target) vegeta.Targeter {
	method := t.Method
	if method == "" {
		method = http.MethodGet
	}
	var n atomic.Uint64
	return func(tgt *vegeta.Target) error {
		tgt.Method = method
		tgt.URL = t.URL
		tgt.Body = t.Body
		h := t.Header.Clone()
		if len(t.Tokens) > 0 {
			if h == nil {
				h = http.Header{}
			}
			i := n.Add(1) % uint64(len(t.Tokens))
			h.Set("Authorization", "Bearer "+t.Tokens[i])
		}
		tgt.Header = h
		return nil
	}
}

// RunVegetaClosed runs a closed loop with vegeta: an unbounded rate served by
// exactly c.Connections workers, each waiting for its response before it
// sends again (the fallback when wrk is not installed).
func RunVegetaClosed(ctx context.Context, t Target, c Closed) (Result, error) {
	atk := vegeta.NewAttacker(
		vegeta.Workers(uint64(c.Connections)),    // #nosec G115 -- small positive count
		vegeta.MaxWorkers(uint64(c.Connections)), // #nosec G115 -- small positive count
		vegeta.Connections(c.Connections),
		vegeta.MaxConnections(c.Connections),
		vegeta.KeepAlive(true),
		vegeta.Timeout(10*time.Second),
	)
	return attack(ctx, atk, t, vegeta.Rate{Freq: 0}, c.Duration, "vegeta-closed")
}

// RunVegetaOpen sends o.Rate requests per second whatever the server does:
// when responses slow down vegeta adds workers rather than delaying the
// schedule, so a stall shows in the percentiles. The report's latency figures
// come from here.
func RunVegetaOpen(ctx context.Context, t Target, o Open) (Result, error) {
	atk := vegeta.NewAttacker(
		vegeta.Workers(16),
		vegeta.MaxWorkers(4096),
		vegeta.KeepAlive(true),
		vegeta.Timeout(10*time.Second),
	)
	return attack(ctx, atk, t, vegeta.Rate{Freq: o.Rate, Per: time.Second}, o.Duration, "vegeta-open")
}

func attack(ctx context.Context, atk *vegeta.Attacker, t Target, rate vegeta.Rate, d time.Duration, name string) (Result, error) {
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	var m vegeta.Metrics
	var sample string
	var errs int64
	for res := range atk.Attack(targeter(t), rate, d, name) {
		m.Add(res)
		if res.Error != "" || res.Code < 200 || res.Code > 299 {
			errs++
			if sample == "" {
				sample = fmt.Sprintf("status %d %s %.200s", res.Code, res.Error, res.Body)
			}
		}
	}
	m.Close()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("%s %s: %w", name, t.URL, err)
	}
	return Result{
		Tool:        name,
		Requests:    int64(m.Requests), // #nosec G115 -- counts fit
		Errors:      errs,
		Duration:    m.Duration + m.Wait,
		RPS:         m.Throughput,
		P50:         m.Latencies.P50,
		P99:         m.Latencies.P99,
		P999:        m.Latencies.Quantile(0.999),
		ErrorSample: sample,
	}, nil
}
