// Command gateway is the Portcullis gateway: a stateless reverse proxy that
// verifies JWT access tokens against each trusted issuer's JWKS and
// enforces per-resource roles. Subcommands: serve, validate, explain.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	root := &cobra.Command{
		Use:           "gateway",
		Short:         "Portcullis gateway: JWT-verifying, role-enforcing reverse proxy",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), validateCmd(), explainCmd())
	if err := root.ExecuteContext(context.Background()); err != nil {
		code := 2
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "gateway: "+err.Error())
		}
		os.Exit(code)
	}
}
