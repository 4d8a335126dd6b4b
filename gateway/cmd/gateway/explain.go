package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
)

func explainCmd() *cobra.Command {
	var path, token string
	cmd := &cobra.Command{
		Use:   "explain --config FILE [--token TOKEN] METHOD PATH",
		Short: "Say which resource a request matches and why it would be allowed or refused",
		Long: "Loads the config and the issuers' keys, then runs the gateway's decision for METHOD PATH\n" +
			"without proxying. Exit status: 0 allowed, 1 refused, 2 error.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			method, target := strings.ToUpper(args[0]), args[1]
			if !strings.HasPrefix(target, "/") {
				return &exitError{2, errors.New("PATH must start with /")}
			}
			cfg, err := config.Load(path, nil)
			if err != nil {
				return &exitError{2, err}
			}
			if err := cfg.Validate(); err != nil {
				return &exitError{2, fmt.Errorf("invalid config %s: %s", path, oneLine(err))}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			g, err := gateway.New(ctx, cfg, gateway.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return &exitError{2, err}
			}
			defer g.Close()
			out := cmd.OutOrStdout()
			for iss, err := range g.LoadKeys(ctx) {
				fmt.Fprintf(out, "keys: issuer %s has no usable keys: %v\n", iss, err)
			}
			ex, err := g.Explain(ctx, method, "http://"+cfg.Listen+target, token)
			if err != nil {
				return &exitError{2, err}
			}
			fmt.Fprintf(out, "request: %s %s\n", method, target)
			for _, l := range ex.Lines {
				fmt.Fprintln(out, l)
			}
			if !ex.Allowed {
				return &exitError{1, errors.New("")}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "gateway.yaml", "path to the configuration file")
	cmd.Flags().StringVar(&token, "token", "", "the bearer access token (without \"Bearer \")")
	return cmd
}
