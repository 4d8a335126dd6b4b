package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/load"
)

func run(rps float64, p99 time.Duration, errs int64) Run {
	open := load.Result{RPS: rps / 2, P50: p99 / 4, P99: p99, P999: 2 * p99}
	return Run{Closed: load.Result{RPS: rps, Errors: errs}, Open: &open}
}

func sampleReport() *Report {
	rep := &Report{Mode: "quick", Settings: Settings{LoadTool: "wrk", Connections: 64, Runs: 3}}
	rows := []struct {
		name string
		rps  [3]float64
		p99  time.Duration
	}{
		{RowBareProxy, [3]float64{10000, 9000, 11000}, 2 * time.Millisecond},
		{RowRolesCached, [3]float64{9500, 9400, 9600}, 2500 * time.Microsecond},
		{RowRolesNoCache, [3]float64{6000, 6000, 6000}, 3 * time.Millisecond},
		{RowStatefulPG, [3]float64{1000, 1100, 900}, 9 * time.Millisecond},
	}
	for _, r := range rows {
		row := Row{Name: r.name, FixedRate: 4000}
		for _, v := range r.rps {
			row.Runs = append(row.Runs, run(v, r.p99, 0))
		}
		row.Summarize()
		rep.Proxy = append(rep.Proxy, row)
	}
	for _, tr := range []struct {
		grant, alg string
		rps        float64
	}{
		{GrantClientCreds, "EdDSA", 5000}, {GrantClientCreds, "RS256-4096", 400},
		{GrantRefresh, "EdDSA", 900}, {GrantRefresh, "RS256-4096", 300},
	} {
		row := Row{Name: tr.grant, Algorithm: tr.alg}
		for range 3 {
			row.Runs = append(row.Runs, Run{Closed: load.Result{RPS: tr.rps, P50: time.Millisecond, P99: 3 * time.Millisecond}})
		}
		row.Summarize()
		rep.Tokens = append(rep.Tokens, row)
	}
	rep.ComputeRatios()
	rep.CheckTargets("EdDSA", Allocs{Cached: 40, Public: 40, Bare: 30})
	return rep
}

func TestSummarizeUsesOpenLoopLatency(t *testing.T) {
	rep := sampleReport()
	bare := rep.Find(RowBareProxy, "")
	if bare.RPS.Median != 10000 || bare.RPS.SpreadPct != 20 {
		t.Fatalf("rps summary %+v, want median 10000 spread 20%%", bare.RPS)
	}
	if bare.P99.Median != 2 || bare.P999.Median != 4 {
		t.Fatalf("latency must come from the open-loop runs: p99 %+v p999 %+v", bare.P99, bare.P999)
	}
}

func TestRatiosAndTargets(t *testing.T) {
	rep := sampleReport()
	if got := rep.Find(RowRolesCached, "").Ratio; got != 0.95 {
		t.Errorf("gateway-roles ratio = %v, want 0.95", got)
	}
	if got := rep.Find(GrantClientCreds, "RS256-4096"); got.Ratio != 0.08 || got.RatioTo != "EdDSA" {
		t.Errorf("RS256-4096 ratio = %v to %q, want 0.08 to EdDSA", got.Ratio, got.RatioTo)
	}
	want := map[string]string{
		"gateway-roles (cached) / bare-proxy req/s":             "PASS",
		"gateway-roles (cached) p99 - bare-proxy p99":           "PASS",
		"gateway-roles (cache off) / bare-proxy req/s":          "MISS",
		"gateway-roles / stateful-db on PostgreSQL req/s":       "PASS",
		"allocations added by authorisation on the cached path": "PASS",
		"client_credentials tokens/s (EdDSA)":                   "PASS",
		"refresh_token tokens/s (EdDSA)":                        "MISS",
		"client_credentials EdDSA / RS256-4096 tokens/s":        "PASS",
		"refresh_token EdDSA / RS256-4096 tokens/s":             "MISS",
	}
	if len(rep.Targets) != len(want) {
		t.Fatalf("%d targets, want %d: %+v", len(rep.Targets), len(want), rep.Targets)
	}
	for _, tr := range rep.Targets {
		if want[tr.Name] != tr.Status {
			t.Errorf("%s: %s (%s), want %s", tr.Name, tr.Status, tr.Got, want[tr.Name])
		}
	}
}

func TestTargetsNotMeasured(t *testing.T) {
	rep := &Report{}
	rep.CheckTargets("EdDSA", Allocs{Cached: -1, Public: -1, Bare: -1})
	for _, tr := range rep.Targets {
		if tr.Status != "N/A" {
			t.Errorf("%s: %s, want N/A on an empty report", tr.Name, tr.Status)
		}
	}
}

func TestFailedNamesRowsWithErrors(t *testing.T) {
	rep := sampleReport()
	if f := rep.Failed(); len(f) != 0 {
		t.Fatalf("clean report failed: %v", f)
	}
	rep.Proxy[1].Runs[0].Open.Errors = 3
	rep.Proxy[1].Runs[0].Open.ErrorSample = "status 502"
	rep.Proxy[1].Summarize()
	f := rep.Failed()
	if len(f) != 1 || !strings.Contains(f[0], RowRolesCached) || !strings.Contains(f[0], "status 502") {
		t.Fatalf("Failed() = %v", f)
	}
}

func TestWriteJSONTableAndChart(t *testing.T) {
	rep := sampleReport()
	rep.TokenSizes = []TokenSize{{Grants: 1, Format: "scoped", Bytes: 420}}
	rep.Micro = []MicroBench{{Package: "gateway/internal/proxy", Name: "BenchmarkCached", NsPerOp: 5000, AllocsPerOp: 40}}
	dir := t.TempDir()

	jsonPath := filepath.Join(dir, "bench", "results.json")
	if err := rep.WriteJSON(jsonPath); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Proxy) != 4 || back.Proxy[1].RPS.Median != 9500 || back.Targets[0].Status != "PASS" {
		t.Fatalf("round trip lost data: %+v", back)
	}

	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"gateway-roles", "9500", "0.95x", "RS256-4096", "PASS", "MISS", "BenchmarkCached", "420"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}

	svg := filepath.Join(dir, "bench", "gateway.svg")
	if err := rep.WriteChart(svg); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("stateful-db-postgres")) {
		t.Fatalf("chart is not an SVG naming the rows (%d bytes)", len(b))
	}
}

func TestUpdateMarkdownFile(t *testing.T) {
	rep := sampleReport()
	rep.Settings.FixedRate = 4000
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	doc := "# Benchmarks\n\nintro\n\n" + MarkdownStart + "\nold figures\n" + MarkdownEnd + "\n\nclosing note\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rep.UpdateMarkdownFile(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, s := range []string{"# Benchmarks\n\nintro", "closing note", "| gateway-roles | 9500 |", "| PASS | gateway-roles (cached) / bare-proxy req/s"} {
		if !strings.Contains(got, s) {
			t.Errorf("updated document lacks %q:\n%s", s, got)
		}
	}
	if strings.Contains(got, "old figures") {
		t.Errorf("old figures kept:\n%s", got)
	}
	// A second update replaces the first rather than appending.
	if err := rep.UpdateMarkdownFile(path); err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(path)
	if string(b2) != got {
		t.Error("a second update changed the document")
	}
	if err := os.WriteFile(path, []byte("no markers\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rep.UpdateMarkdownFile(path); err == nil {
		t.Error("want an error for a document without markers")
	}
}
