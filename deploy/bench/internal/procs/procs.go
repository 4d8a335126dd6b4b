package procs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Group owns the child processes of one benchmark run.
type Group struct {
	Log *slog.Logger
	// Dir receives one log file per child.
	Dir string
	mu  sync.Mutex
	all []*Proc
}

// Proc is one running child.
type Proc struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// Start runs bin with args (and extra environment) as a child. Its output
// goes to a file in g.Dir rather than a pipe, so that a child's logging costs
// the bench process nothing while it is being measured.
// Cancelling ctx stops the child as Stop does.
func (g *Group) Start(ctx context.Context, name string, env []string, bin string, args ...string) (*Proc, error) {
	cmd := exec.CommandContext(ctx, bin, args...) // #nosec G204 -- the bench starts its own binaries
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), env...)
	logPath := filepath.Join(g.Dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	out, err := os.Create(logPath) // #nosec G304 -- a file in the bench's own temp dir
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer func() { _ = out.Close() }() // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group, so that Ctrl-C in the terminal reaches the bench
	// first and the bench stops its children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	g.mu.Lock()
	g.all = append(g.all, p)
	g.mu.Unlock()
	g.Log.Debug("started", "name", name, "pid", cmd.Process.Pid, "args", strings.Join(args, " "))
	return p, nil
}

// Pid of the child.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Output returns the last few KiB of the child's output.
func (p *Proc) Output() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
}

// WaitReady polls url until it answers 200, the child exits, or timeout.
func (p *Proc) WaitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("readiness of %s: %w", p.Name, err)
		}
		if resp, err := c.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%w):\n%s", p.Name, p.err, p.Output())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s after %v:\n%s", p.Name, url, timeout, p.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends the child: SIGTERM, then SIGKILL after a grace period.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Exited reports whether the child has stopped on its own.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// StopAll stops every child still running, newest first.
func (g *Group) StopAll() {
	g.mu.Lock()
	all := g.all
	g.all = nil
	g.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		all[i].Stop()
	}
}

// PeakRSSKiB reads VmHWM (the peak resident set) of pid from /proc.
func PeakRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	return ParseVMHWM(b)
}

// ParseVMHWM extracts VmHWM in KiB from the text of /proc/PID/status.
func ParseVMHWM(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmHWM line %q", line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM %q: %w", f[0], err)
		}
		return n, nil
	}
	return 0, errors.New("no VmHWM in status")
}
