package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/identity"
)

func newClientCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Manage OAuth2 clients", Args: cobra.NoArgs}
	cmd.AddCommand(newClientCreateCmd(a))
	return cmd
}

func newClientCreateCmd(a *app) *cobra.Command {
	var in identity.NewClient
	cmd := &cobra.Command{
		Use: "create --name NAME --grant-types password,refresh_token[,client_credentials,authorization_code] " +
			"[--redirect-uri URL]... [--scopes openid,profile,email,offline_access] [--public]",
		Short: "Create an OAuth2 client; a confidential client's secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withIdentity(cmd.Context(), func(svc *identity.Service) error {
				c, err := svc.CreateClient(cmd.Context(), identity.CLI, in)
				if err != nil {
					return err
				}
				out := map[string]any{
					"id": c.ID, "client_id": c.ID, "name": c.Name, "public": c.Public,
					"grant_types": c.GrantTypes, "redirect_uris": c.RedirectURIs, "scopes": c.Scopes,
				}
				var text strings.Builder
				fmt.Fprintf(&text, "created client %s (id %s)\nclient_id: %s", c.Name, c.ID, c.ID)
				if c.Secret != "" {
					out["client_secret"] = c.Secret
					fmt.Fprintf(&text, "\nclient_secret: %s\n(the secret is shown only now: store it safely)", c.Secret)
				}
				return a.print(out, text.String())
			})
		},
	}
	cmd.Flags().StringVar(&in.Name, "name", "", "client name")
	cmd.Flags().StringSliceVar(&in.GrantTypes, "grant-types", nil, "comma-separated grant types: "+strings.Join(identity.GrantTypes, ", "))
	cmd.Flags().StringArrayVar(&in.RedirectURIs, "redirect-uri", nil, "allowed redirect URI (absolute URL); repeat for several")
	cmd.Flags().StringSliceVar(&in.Scopes, "scopes", nil, "comma-separated scopes the client may request (default "+
		strings.Join(identity.DefaultScopes, ",")+")")
	cmd.Flags().BoolVar(&in.Public, "public", false, "public client: no secret, no client_credentials")
	cmd.Flags().StringVar(&in.Account, "account", "", "owning account (optional)")
	cmd.Flags().StringVar(&in.Application, "application", "", "owning application within --account (optional)")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("grant-types")
	return cmd
}
