package orchestrator

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/portcullis/portcullis/deploy/bench/internal/microbench"
	"github.com/portcullis/portcullis/deploy/bench/internal/report"
)

// microBenchmarks runs the Go benchmarks of the gateway, the auth server and
// shared, and returns allocs/op of the gateway's request paths (-1 where
// there is no such benchmark).
func (o *orch) microBenchmarks(ctx context.Context) report.Allocs {
	a := report.Allocs{Cached: -1, Public: -1, Bare: -1}
	modules := []string{"gateway", "authserver", "shared"}
	found, err := microbench.Find(o.cfg.Root, modules)
	if err != nil {
		o.skip("micro-benchmarks: %v", err)
		return a
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
		// gateway/internal/gateway: BenchmarkBareProxy, BenchmarkGatewayPublic,
		// BenchmarkGatewayRolesCached, BenchmarkGatewayRolesUncached.
		switch name := strings.ToLower(m.Name); {
		case strings.Contains(name, "bareproxy"):
			a.Bare = m.AllocsPerOp
		case strings.Contains(name, "public"):
			a.Public = m.AllocsPerOp
		case strings.Contains(name, "rolescached"):
			a.Cached = m.AllocsPerOp
		}
	}
	return a
}
