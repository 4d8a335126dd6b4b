package procs

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseVMHWM(t *testing.T) {
	status := "Name:\tgateway\nVmPeak:\t  812345 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n"
	got, err := ParseVMHWM([]byte(status))
	if err != nil || got != 23456 {
		t.Fatalf("ParseVMHWM = %d, %v; want 23456", got, err)
	}
	if _, err := ParseVMHWM([]byte("Name:\tx\n")); err == nil {
		t.Fatal("want an error without VmHWM")
	}
}

func TestPeakRSSOfSelf(t *testing.T) {
	kib, err := PeakRSSKiB(os.Getpid())
	if err != nil || kib <= 0 {
		t.Fatalf("PeakRSSKiB(self) = %d, %v", kib, err)
	}
}

func TestChildThatExitsIsReportedWithItsOutput(t *testing.T) {
	g := &Group{Log: slog.New(slog.DiscardHandler), Dir: t.TempDir()}
	defer g.StopAll()
	p, err := g.Start(context.Background(), "failing", nil, "/bin/sh", "-c", "echo boom-from-child; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	port, err := FreePort(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), "http://127.0.0.1:"+itoa(port)+"/readyz", 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "boom-from-child") {
		t.Fatalf("WaitReady = %v, want the child's output", err)
	}
}

func TestStopAllEndsChildren(t *testing.T) {
	g := &Group{Log: slog.New(slog.DiscardHandler), Dir: t.TempDir()}
	p, err := g.Start(context.Background(), "sleeper", nil, "/bin/sleep", "60")
	if err != nil {
		t.Fatal(err)
	}
	g.StopAll()
	if !p.Exited() {
		t.Fatal("child still running after StopAll")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
