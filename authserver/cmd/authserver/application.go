package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/identity"
)

func newApplicationCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "application", Short: "Manage applications", Args: cobra.NoArgs}
	cmd.AddCommand(newApplicationCreateCmd(a))
	return cmd
}

func newApplicationCreateCmd(a *app) *cobra.Command {
	var in identity.NewApplication
	cmd := &cobra.Command{
		Use:   "create --account ACCOUNT --name NAME [--display-name TEXT]",
		Short: "Create an application in an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withIdentity(cmd.Context(), func(svc *identity.Service) error {
				p, err := svc.CreateApplication(cmd.Context(), identity.CLI, in)
				if err != nil {
					return err
				}
				return a.print(map[string]any{"id": p.ID, "account": p.Account, "name": p.Name, "display_name": p.DisplayName},
					fmt.Sprintf("created application %s/%s (id %s)", p.Account, p.Name, p.ID))
			})
		},
	}
	cmd.Flags().StringVar(&in.Account, "account", "", "owning account name")
	cmd.Flags().StringVar(&in.Name, "name", "", "application name (slug, unique in the account)")
	cmd.Flags().StringVar(&in.DisplayName, "display-name", "", "human-readable name")
	_ = cmd.MarkFlagRequired("account")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}
