package microbench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/portcullis/portcullis/deploy/bench/internal/report"
)

const out = `goos: linux
goarch: amd64
pkg: github.com/portcullis/portcullis/gateway/internal/gateway
cpu: AMD EPYC 7B13
BenchmarkChainCached-2     	  261344	      4521 ns/op	    5230 B/op	      61 allocs/op
BenchmarkChainUncached-2   	   20000	     61234.5 ns/op	   9000 B/op	     120 allocs/op
PASS
ok  	github.com/portcullis/portcullis/gateway/internal/gateway	3.1s
pkg: github.com/portcullis/portcullis/gateway
BenchmarkNoMem	 1000	 12 ns/op
`

func TestParse(t *testing.T) {
	got := Parse("gateway", out)
	want := []report.MicroBench{
		{Package: "gateway/internal/gateway", Name: "BenchmarkChainCached", NsPerOp: 4521, BytesPerOp: 5230, AllocsPerOp: 61},
		{Package: "gateway/internal/gateway", Name: "BenchmarkChainUncached", NsPerOp: 61234.5, BytesPerOp: 9000, AllocsPerOp: 120},
		{Package: "gateway", Name: "BenchmarkNoMem", NsPerOp: 12, BytesPerOp: -1, AllocsPerOp: -1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("gateway/internal/a/a_test.go", "package a\n\nfunc BenchmarkX(b *testing.B) {}\n")
	write("gateway/internal/b/b_test.go", "package b\n\nfunc TestX(t *testing.T) {}\n")
	write("gateway/c_test.go", "package gateway\n\nfunc BenchmarkY(b *testing.B) {}\n")
	got, err := Find(root, []string{"gateway", "authserver"})
	if err != nil {
		t.Fatal(err)
	}
	if g := got["gateway"]; len(g) != 2 || g[0] != "./." || g[1] != "./internal/a" {
		t.Fatalf("Find = %v", got)
	}
	if len(got["authserver"]) != 0 {
		t.Fatalf("authserver has no benchmarks, got %v", got["authserver"])
	}
}
