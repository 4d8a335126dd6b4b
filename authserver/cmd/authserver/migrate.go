package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/config"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
)

func newMigrateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and print the schema version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Migrate explicitly, whatever migrate_on_start says (a second
			// pass is a no-op that reports the version).
			return a.withStore(cmd.Context(), func(ctx context.Context, _ *config.Config, st *sqlstore.Store, _ *slog.Logger) error {
				v, err := st.Migrate(ctx)
				if err != nil {
					return refused(err)
				}
				return a.print(struct {
					Version int64  `json:"version"`
					Dialect string `json:"dialect"`
				}{v, st.Dialect()}, fmt.Sprintf("database at version %d", v))
			})
		},
	}
}
