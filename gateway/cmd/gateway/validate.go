package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/gateway/internal/config"
)

func validateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration file and list every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, nil)
			if err != nil {
				return &exitError{1, err}
			}
			if err := cfg.Validate(); err != nil {
				var p config.Problems
				if errors.As(err, &p) {
					for _, line := range p {
						fmt.Fprintln(cmd.ErrOrStderr(), path+": "+line)
					}
					return &exitError{1, fmt.Errorf("%s: %d problem(s)", path, len(p))}
				}
				return &exitError{1, err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%d issuer(s), %d resource(s))\n", path, len(cfg.Issuers), len(cfg.Resources))
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "gateway.yaml", "path to the configuration file")
	return cmd
}
