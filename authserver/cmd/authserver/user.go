package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func newUserCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users", Args: cobra.NoArgs}
	cmd.AddCommand(newUserCreateCmd(a), newUserActiveCmd(a, "disable"), newUserActiveCmd(a, "enable"))
	return cmd
}

func userJSON(u *storage.User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Username, "email": u.Email, "active": u.Active}
}

func newUserCreateCmd(a *app) *cobra.Command {
	var (
		in            identity.NewUser
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "create --username NAME [--email ADDRESS] --password-stdin",
		Short: "Create a user; the password is read from the first line of stdin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Passwords never come from a flag: flags end up in shell history
			// and in the process list.
			if !passwordStdin {
				return usageErr("--password-stdin is required: pass the password on stdin")
			}
			pw, err := readPassword(a.stdin)
			if err != nil {
				return refused(err)
			}
			in.Password = pw
			return a.withIdentity(cmd.Context(), func(svc *identity.Service) error {
				u, err := svc.CreateUser(cmd.Context(), identity.CLI, in)
				if err != nil {
					return err
				}
				return a.print(userJSON(u), fmt.Sprintf("created user %s (id %s)", u.Username, u.ID))
			})
		},
	}
	cmd.Flags().StringVar(&in.Username, "username", "", "username (unique, case-insensitive)")
	cmd.Flags().StringVar(&in.Email, "email", "", "e-mail address")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin (required)")
	_ = cmd.MarkFlagRequired("username")
	return cmd
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("read password from stdin: empty password")
	}
	return line, nil
}

func newUserActiveCmd(a *app, verb string) *cobra.Command {
	var username string
	short := "Enable a disabled user"
	if verb == "disable" {
		short = "Disable a user: no new tokens, refresh tokens revoked"
	}
	cmd := &cobra.Command{
		Use:   verb + " --username NAME",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withIdentity(cmd.Context(), func(svc *identity.Service) error {
				set := svc.EnableUser
				if verb == "disable" {
					set = svc.DisableUser
				}
				u, err := set(cmd.Context(), identity.CLI, username)
				if err != nil {
					return err
				}
				return a.print(userJSON(u), fmt.Sprintf("%sd user %s (id %s)", verb, u.Username, u.ID))
			})
		},
	}
	cmd.Flags().StringVar(&username, "username", "", "username")
	_ = cmd.MarkFlagRequired("username")
	return cmd
}
