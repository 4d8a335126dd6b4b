package stats

import (
	"math"
	"slices"
	"time"
)

// Summary is the median of a set of runs and how far apart they were.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// SpreadPct is (max-min)/median in percent: 0 when every run agreed.
	SpreadPct float64 `json:"spread_pct"`
}

// Summarize returns the median, minimum, maximum and spread of xs. An empty
// input gives the zero Summary.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	out := Summary{Median: Median(s), Min: s[0], Max: s[len(s)-1]}
	if out.Median != 0 {
		out.SpreadPct = (out.Max - out.Min) / math.Abs(out.Median) * 100
	}
	return out
}

// Median of xs (the mean of the two middle values for an even count). The
// input is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Percentile returns the q-th percentile (0 < q <= 100) of sorted latencies
// by the nearest-rank method, the one wrk and HdrHistogram report.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon keeps float noise (99.9/100*1000 = 999.0000000000001)
	// from moving the rank up by one.
	rank := int(math.Ceil(q*float64(len(sorted))/100 - 1e-9))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
