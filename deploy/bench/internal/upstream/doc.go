// Package upstream is the bench's fallback upstream, used only when
// bin/demo-upstream has not been built: a tiny JSON handler, so that every
// row measures the proxy in front of it rather than the upstream's work.
package upstream
