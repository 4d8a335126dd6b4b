package orchestrator

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/portcullis/portcullis/deploy/bench/internal/microbench"
)

// microBenchmarks runs the Go benchmarks of the gateway, the auth server and
// shared, and returns allocs/op of the gateway's cached authorisation path
// and of its bare proxy path (-1 when there is no such benchmark).
func (o *orch) microBenchmarks(ctx context.Context) (cachedAllocs, proxyAllocs float64) {
	cachedAllocs, proxyAllocs = -1, -1
	modules := []string{"gateway", "authserver", "shared"}
	found, err := microbench.Find(o.cfg.Root, modules)
	if err != nil {
		o.skip("micro-benchmarks: %v", err)
		return
	}
	for _, mod := range modules {
		if len(found[mod]) == 0 {
			continue
		}
		o.log.Info("micro-benchmarks", "module", mod, "packages", strings.Join(found[mod], " "))
		res, err := microbench.Run(ctx, filepath.Join(o.cfg.Root, mod), mod, found[mod], o.plan.benchtime)
		if err != nil {
			o.skip("micro-benchmarks of %s: %v", mod, err)
			continue
		}
		o.rep.Micro = append(o.rep.Micro, res...)
	}
	for _, m := range o.rep.Micro {
		if !strings.HasPrefix(m.Package, "gateway") || m.AllocsPerOp < 0 {
			continue
		}
		name := strings.ToLower(m.Name)
		switch {
		case strings.Contains(name, "bareproxy") || strings.Contains(name, "baseline"):
			proxyAllocs = m.AllocsPerOp
		case strings.Contains(name, "cached") && !strings.Contains(name, "uncached") && !strings.Contains(name, "nocache"):
			if cachedAllocs < 0 {
				cachedAllocs = m.AllocsPerOp
			}
		}
	}
	return cachedAllocs, proxyAllocs
}
