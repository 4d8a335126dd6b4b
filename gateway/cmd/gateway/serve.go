package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
	"github.com/portcullis/portcullis/gateway/internal/revocation"
)

func serveCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// 1. load, 2. validate, 3. build, 4. run.
			cfg, err := config.Load(path, nil)
			if err != nil {
				return &exitError{1, err}
			}
			if err := cfg.Validate(); err != nil {
				return &exitError{1, fmt.Errorf("invalid config %s: %s", path, oneLine(err))}
			}
			log := newLogger(cfg.Log)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := gateway.Options{Logger: log}
			if cfg.Revocation.Enabled() {
				// Revocation events (issue 6): the set is loaded and
				// followed in the background; until the first full load
				// tokens are refused and /readyz says not ready. The
				// section is read at start only (a reload keeps it).
				rv, err := revocation.New(cfg.Revocation, revocation.Deps{Logger: log})
				if err != nil {
					return &exitError{1, err}
				}
				go rv.Run(ctx)
				opts.Revocations = rv
			}
			g, err := gateway.New(ctx, cfg, opts)
			if err != nil {
				return &exitError{1, err}
			}
			defer g.Close()
			ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
			if err != nil {
				return &exitError{1, fmt.Errorf("listen %s: %w", cfg.Listen, err)}
			}
			go g.WatchConfig(ctx, path, nil)
			if err := g.Serve(ctx, ln); err != nil {
				return &exitError{1, err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "gateway.yaml", "path to the configuration file")
	return cmd
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.ReplaceAll(err.Error(), "\n  - ", "; "), "\n", "; ")
}
