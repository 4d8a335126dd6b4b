package revocation

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis/portcullis/shared/revocation"
)

// Metrics are the emitter's Prometheus collectors. A nil *Metrics records
// nothing.
type Metrics struct {
	events        *prometheus.CounterVec
	publishErrors prometheus.Counter
	republished   prometheus.Counter
}

// NewMetrics creates the collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portcullis_revocation_events_emitted_total",
			Help: "Revocation events recorded in the feed, by kind (jti, sub).",
		}, []string{"kind"}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_revocation_publish_errors_total",
			Help: "Failed attempts to publish revocation events to Redis (the repair loop retries).",
		}),
		republished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portcullis_revocation_events_republished_total",
			Help: "Revocation events the repair loop wrote to Redis because they were missing there.",
		}),
	}
	reg.MustRegister(m.events, m.publishErrors, m.republished)
	return m
}

func (m *Metrics) emitted(k revocation.Kind) {
	if m != nil {
		m.events.WithLabelValues(string(k)).Inc()
	}
}

func (m *Metrics) publishFailed() {
	if m != nil {
		m.publishErrors.Inc()
	}
}

func (m *Metrics) repaired(n int) {
	if m != nil {
		m.republished.Add(float64(n))
	}
}
