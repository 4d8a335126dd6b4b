package revocation

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis/portcullis/shared/revocation"
)

// metrics are the Prometheus collectors; a nil *metrics records nothing.
type metrics struct {
	appliedTotal *prometheus.CounterVec
	lagSeconds   prometheus.Histogram
	errors       prometheus.Counter
	inSync       prometheus.Gauge
	lastSync     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, source string, set *revocation.Set) (*metrics, error) {
	constLabels := prometheus.Labels{"source": source}
	m := &metrics{
		appliedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_gateway_revocation_events_applied_total",
			Help: "Revocation events applied to the in-memory set, by kind (jti, sub).", ConstLabels: constLabels,
		}, []string{"kind"}),
		lagSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "portcullis_gateway_revocation_lag_seconds",
			Help:        "Time from the auth server emitting a revocation event to this gateway applying it (live events only).",
			ConstLabels: constLabels,
			Buckets:     []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_gateway_revocation_source_errors_total",
			Help: "Failures of the revocation source (connection lost, poll failed).", ConstLabels: constLabels,
		}),
		inSync: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_gateway_revocation_synced",
			Help: "1 while the revocation set follows its source, 0 while out of sync.", ConstLabels: constLabels,
		}),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portcullis_gateway_revocation_last_sync_timestamp_seconds",
			Help: "When the revocation set was last known complete.", ConstLabels: constLabels,
		}),
	}
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portcullis_gateway_revocation_set_size",
		Help: "Entries in the in-memory revocation set.", ConstLabels: constLabels,
	}, func() float64 { return float64(set.Len()) })
	for _, c := range []prometheus.Collector{m.appliedTotal, m.lagSeconds, m.errors, m.inSync, m.lastSync, size} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register revocation metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) applied(k revocation.Kind) {
	if m != nil {
		m.appliedTotal.WithLabelValues(string(k)).Inc()
	}
}

func (m *metrics) lag(d time.Duration) {
	if m != nil {
		m.lagSeconds.Observe(max(d, 0).Seconds())
	}
}

func (m *metrics) sourceError() {
	if m != nil {
		m.errors.Inc()
	}
}

func (m *metrics) synced(ok bool, at time.Time) {
	if m == nil {
		return
	}
	if ok {
		m.inSync.Set(1)
		m.lastSync.Set(float64(at.UnixMilli()) / 1000)
		return
	}
	m.inSync.Set(0)
}

func jitter(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n) //nolint:gosec // reconnect jitter, not a secret
}
