package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and print the schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			logger := a.cliLogger(cfg)
			// Migrate explicitly, whatever migrate_on_start says.
			cfg.MigrateOnStart = false
			st, err := a.openStore(ctx, cfg, logger)
			if err != nil {
				return err
			}
			defer func() { _ = st.Close() }()
			v, err := st.Migrate(ctx)
			if err != nil {
				return refused(err)
			}
			return a.print(struct {
				Version int64  `json:"version"`
				Dialect string `json:"dialect"`
			}{v, st.Dialect()}, fmt.Sprintf("database at version %d", v))
		},
	}
}
