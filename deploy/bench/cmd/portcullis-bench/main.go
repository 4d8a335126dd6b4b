// Command portcullis-bench runs the Portcullis benchmark (see
// docs/benchmarks.md). Without a subcommand it orchestrates a whole run;
// the subcommands are the configurations it starts as child processes.
//
//	portcullis-bench [-mode full|quick] [-root DIR] [-postgres DSN]
//	portcullis-bench upstream -listen ADDR
//	portcullis-bench bare-proxy -listen ADDR -upstream URL
//	portcullis-bench stateful-proxy -listen ADDR -upstream URL -database DSN
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/portcullis/portcullis/deploy/bench/internal/orchestrator"
	"github.com/portcullis/portcullis/deploy/bench/internal/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "portcullis-bench: "+err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(args) > 0 {
		switch args[0] {
		case "upstream", "bare-proxy", "stateful-proxy":
			return runServer(ctx, args[0], args[1:], logger)
		}
	}
	fs := flag.NewFlagSet("portcullis-bench", flag.ContinueOnError)
	cfg := orchestrator.Config{Stdout: os.Stdout, Log: logger}
	fs.StringVar(&cfg.Mode, "mode", "full", "full (under 10 minutes) or quick (under 2 minutes)")
	fs.StringVar(&cfg.Root, "root", ".", "repository root: bin/ holds the binaries, docs/ receives the results")
	fs.StringVar(&cfg.PostgresDSN, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL for the stateful-db row (a schema of its own, dropped after); empty skips the row")
	fs.IntVar(&cfg.FixedRate, "rate", 0, "fixed rate (req/s) for the latency runs; 0 derives it from bare-proxy's maximum")
	fs.BoolVar(&cfg.NoWrk, "no-wrk", false, "use vegeta for the closed loop even when wrk is installed")
	fs.StringVar(&cfg.Out, "out", "", "directory for results.json and gateway.svg (default: docs/bench in full mode; quick mode writes nothing unless set)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown subcommand %q (want upstream, bare-proxy or stateful-proxy)", fs.Arg(0))
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	cfg.Self = self
	return orchestrator.Run(ctx, cfg)
}

func runServer(ctx context.Context, name string, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var o serve.Options
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:0", "listen address")
	fs.StringVar(&o.Upstream, "upstream", "", "upstream URL (bare-proxy, stateful-proxy)")
	fs.StringVar(&o.Database, "database", "", "sqlite:PATH or postgres://... (stateful-proxy; seeded by the orchestrator)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch name {
	case "upstream":
		return serve.Upstream(ctx, o, logger)
	case "bare-proxy":
		return serve.BareProxy(ctx, o, logger)
	default:
		return serve.StatefulProxy(ctx, o, logger)
	}
}
