// Package stats reduces repeated benchmark runs to the figures the report
// shows: the median of the runs and their spread, so that one noisy run on a
// shared two-core machine neither hides nor invents a difference.
package stats
