package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func newRoleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "role", Short: "Grant and revoke roles", Args: cobra.NoArgs}
	cmd.AddCommand(newRoleChangeCmd(a, "grant"), newRoleChangeCmd(a, "revoke"))
	return cmd
}

func newRoleChangeCmd(a *app, verb string) *cobra.Command {
	var r identity.GrantRequest
	short := "Grant a role to a user or a client"
	if verb == "revoke" {
		short = "Revoke a role from a user or a client"
	}
	cmd := &cobra.Command{
		Use:   verb + " (--username NAME | --client CLIENT_ID) --role ROLE [--account ACCOUNT] [--application APPLICATION]",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (r.Username == "") == (r.ClientID == "") {
				return usageErr("give exactly one of --username and --client")
			}
			return a.withIdentity(cmd.Context(), func(svc *identity.Service) error {
				change, past, prep := svc.Grant, "granted", "to"
				if verb == "revoke" {
					change, past, prep = svc.Revoke, "revoked", "from"
				}
				g, err := change(cmd.Context(), identity.CLI, r)
				if err != nil {
					return err
				}
				return a.print(grantJSON(g, r), fmt.Sprintf("%s %s %s %s (id %s)", past, g.String(), prep, holder(r), g.ID))
			})
		},
	}
	cmd.Flags().StringVar(&r.Username, "username", "", "user to change")
	cmd.Flags().StringVar(&r.ClientID, "client", "", "client_id to change (instead of --username)")
	cmd.Flags().StringVar(&r.Role, "role", "", "role name, e.g. developer")
	cmd.Flags().StringVar(&r.Account, "account", "", "account scope (account and application roles)")
	cmd.Flags().StringVar(&r.Application, "application", "", "application scope (application roles)")
	cmd.MarkFlagsMutuallyExclusive("username", "client")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func holder(r identity.GrantRequest) string {
	if r.Username != "" {
		return "user " + r.Username
	}
	return "client " + r.ClientID
}

func grantJSON(g *storage.Grant, r identity.GrantRequest) map[string]any {
	out := map[string]any{"id": g.ID, "role": g.Role, "account": g.Account, "application": g.Application}
	if g.UserID != "" {
		out["user_id"] = g.UserID
		out["username"] = r.Username
	} else {
		out["client_id"] = g.ClientID
	}
	return out
}
