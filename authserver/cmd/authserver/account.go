package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/identity"
)

func newAccountCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Manage accounts", Args: cobra.NoArgs}
	cmd.AddCommand(newAccountCreateCmd(a))
	return cmd
}

func newAccountCreateCmd(a *app) *cobra.Command {
	var in identity.NewAccount
	cmd := &cobra.Command{
		Use:   "create --name NAME [--display-name TEXT]",
		Short: "Create an account (name: lowercase letters, digits, '-', '_')",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withIdentity(cmd.Context(), func(svc *identity.Service) error {
				acc, err := svc.CreateAccount(cmd.Context(), identity.CLI, in)
				if err != nil {
					return err
				}
				return a.print(map[string]any{"id": acc.ID, "name": acc.Name, "display_name": acc.DisplayName},
					fmt.Sprintf("created account %s (id %s)", acc.Name, acc.ID))
			})
		},
	}
	cmd.Flags().StringVar(&in.Name, "name", "", "account name (slug)")
	cmd.Flags().StringVar(&in.DisplayName, "display-name", "", "human-readable name")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}
