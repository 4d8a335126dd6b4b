package orchestrator

import (
	"log/slog"
	"testing"
)

func TestFixedRate(t *testing.T) {
	o := &orch{log: slog.New(slog.DiscardHandler)}
	if got := o.fixedRate("bare-proxy", 12000); got != 3000 || o.rate != 3000 {
		t.Fatalf("first row: rate %d (common %d), want 3000 for both", got, o.rate)
	}
	tests := []struct {
		name    string
		maximum float64
		want    int
	}{
		{"faster row keeps the common rate", 30000, 3000},
		{"row at twice the rate keeps it", 6000, 3000},
		{"slower row runs at a quarter of its own", 5000, 1200},
		{"very slow row gets a floor", 90, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := o.fixedRate(tc.name, tc.maximum); got != tc.want {
				t.Fatalf("fixedRate(%v) = %d, want %d", tc.maximum, got, tc.want)
			}
		})
	}
}

func TestPlans(t *testing.T) {
	for _, mode := range []string{"full", "quick"} {
		p, err := planFor(mode)
		if err != nil {
			t.Fatal(err)
		}
		if p.runs != 3 || p.conns != 64 || p.rssConns != 1000 || len(p.algorithms) < 2 {
			t.Errorf("%s plan %+v: want 3 runs, 64 connections, RSS at 1000, at least two algorithms", mode, p)
		}
		if p.algorithms[0].name != DefaultAlgorithm || p.algorithms[len(p.algorithms)-1].name != "RS256-4096" {
			t.Errorf("%s plan must measure the default algorithm and RS256-4096 (the targets compare them)", mode)
		}
	}
	if _, err := planFor("slow"); err == nil {
		t.Error("want an error for an unknown mode")
	}
}
