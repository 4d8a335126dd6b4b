package microbench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/report"
)

// Find returns, for each module directory under root in modules, the package
// directories (relative to the module) whose test files declare a benchmark.
func Find(root string, modules []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, mod := range modules {
		// WalkDir does not follow a symlinked root.
		base, err := filepath.EvalSymlinks(filepath.Join(root, mod))
		if err != nil {
			continue // a module not in this tree has no benchmarks to run
		}
		seen := map[string]bool{}
		err = filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path) // #nosec G304 G122 -- reading our own source tree, no privilege boundary
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			if !bytes.Contains(b, []byte("\nfunc Benchmark")) {
				return nil
			}
			rel, err := filepath.Rel(base, filepath.Dir(path))
			if err != nil {
				return fmt.Errorf("relative path of %s: %w", path, err)
			}
			if !seen[rel] {
				seen[rel] = true
				out[mod] = append(out[mod], "./"+filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find benchmarks in %s: %w", mod, err)
		}
		slices.Sort(out[mod])
	}
	return out, nil
}

// Run runs every benchmark of pkgs in module dir modDir for benchtime each
// and returns the results, each named with the module-relative package.
func Run(ctx context.Context, modDir, module string, pkgs []string, benchtime string) ([]report.MicroBench, error) {
	if len(pkgs) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "-count", "1"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...) // #nosec G204 -- fixed arguments and our own package list
	cmd.Dir = modDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench in %s: %w\n%s%s", module, err, stdout.String(), stderr.String())
	}
	return Parse(module, stdout.String()), nil
}

var (
	pkgLine   = regexp.MustCompile(`^pkg:\s+(\S+)`)
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
)

// Parse reads `go test -bench -benchmem` output. Package names are reported
// relative to module ("github.com/.../gateway/internal/x" -> "gateway/internal/x").
func Parse(module, out string) []report.MicroBench {
	var (
		res []report.MicroBench
		pkg string
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := pkgLine.FindStringSubmatch(line); m != nil {
			pkg = m[1]
			if i := strings.Index(pkg, "/"+module+"/"); i >= 0 {
				pkg = pkg[i+1:]
			} else if strings.HasSuffix(pkg, "/"+module) {
				pkg = module
			}
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := report.MicroBench{Package: pkg, Name: m[1], BytesPerOp: -1, AllocsPerOp: -1}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.NsPerOp = v
			case "B/op":
				b.BytesPerOp = v
			case "allocs/op":
				b.AllocsPerOp = v
			}
		}
		res = append(res, b)
	}
	return res
}
