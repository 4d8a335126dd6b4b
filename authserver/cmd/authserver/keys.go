package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/config"
	"github.com/portcullis/portcullis/authserver/internal/signer"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
)

func newKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Inspect and rotate the token signing keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_ = cmd.Help()
			return usageErr("a subcommand is required (list or rotate)")
		},
	}
	cmd.AddCommand(newKeysListCmd(a), newKeysRotateCmd(a))
	return cmd
}

type keyJSON struct {
	ID          string     `json:"id"`
	Algorithm   string     `json:"algorithm"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatesAt time.Time  `json:"activates_at"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	ExpiresAt   *time.Time `json:"published_until,omitempty"`
}

func newKeysListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List signing keys with their state (next, active, retired)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(ctx context.Context, _ *config.Config, st *sqlstore.Store, _ *slog.Logger) error {
				return a.listKeys(ctx, st)
			})
		},
	}
}

func (a *app) listKeys(ctx context.Context, st *sqlstore.Store) error {
	keys, err := st.ListSigningKeys(ctx)
	if err != nil {
		return refused(err)
	}
	out := []keyJSON{}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "KID\tALG\tSTATE\tACTIVATES\tRETIRED\tPUBLISHED UNTIL")
	for _, k := range signer.Describe(keys, time.Now()) {
		out = append(out, keyJSON{ID: k.ID, Algorithm: k.Algorithm, State: string(k.State), CreatedAt: k.CreatedAt,
			ActivatesAt: k.ActivatesAt, RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt})
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State,
			k.ActivatesAt.UTC().Format(time.RFC3339), fmtTime(k.RetiredAt), fmtTime(k.ExpiresAt))
	}
	_ = tw.Flush()
	text := strings.TrimRight(b.String(), "\n")
	if len(out) == 0 {
		text = "no signing keys yet (the first is generated when the server starts or by `authserver keys rotate`)"
	}
	return a.print(struct {
		Keys []keyJSON `json:"keys"`
	}{out}, text)
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newKeysRotateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Start a key rotation: publish a new key now; it signs after keys.prepublish",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), a.rotateKeys)
		},
	}
}

func (a *app) rotateKeys(ctx context.Context, cfg *config.Config, st *sqlstore.Store, logger *slog.Logger) error {
	sg, err := newSigner(cfg, st, logger)
	if err != nil {
		return refused(err)
	}
	k, created, err := sg.Rotate(ctx)
	if err != nil {
		return refused(err)
	}
	text := fmt.Sprintf("rotation started: key %s (%s) is published now and signs from %s",
		k.ID, k.Algorithm, k.ActivatesAt.UTC().Format(time.RFC3339))
	if !created {
		text = fmt.Sprintf("a rotation is already pending: key %s (%s) signs from %s",
			k.ID, k.Algorithm, k.ActivatesAt.UTC().Format(time.RFC3339))
	}
	return a.print(struct {
		ID          string    `json:"id"`
		Algorithm   string    `json:"algorithm"`
		ActivatesAt time.Time `json:"activates_at"`
		Created     bool      `json:"created"`
	}{k.ID, k.Algorithm, k.ActivatesAt, created}, text)
}
