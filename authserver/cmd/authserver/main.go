package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/portcullis/portcullis/authserver/internal/config"
	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/password"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
)

// Exit codes, a contract with scripts.
const (
	exitOK      = 0
	exitRefused = 1 // the request was understood and refused, or failed
	exitUsage   = 2 // unknown command or flag, missing required flag, bad value
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// app is what every command shares: the streams, the environment and the
// persistent flags. Commands are built by newXCmd(*app) functions, one file
// each, and added in newRootCmd.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string

	configPath string
	output     string // "text" or "json"
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	// One line on stderr, whatever the error.
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	_, _ = fmt.Fprintln(stderr, "authserver: "+msg)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Everything cobra itself rejects (unknown command or flag, missing
	// required flag, wrong number of arguments) is bad usage.
	return exitUsage
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "authserver",
		Short:         "Portcullis authorisation server and its administration commands",
		SilenceErrors: true,
		SilenceUsage:  true,
		// Validate the persistent flags before any command runs.
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if a.output != "text" && a.output != "json" {
				return usageErr("--output must be text or json, got %q", a.output)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			_ = cmd.Help()
			return usageErr("a command is required")
		},
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "YAML configuration `FILE` (PORTCULLIS_* environment variables override it)")
	root.PersistentFlags().StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(
		newMigrateCmd(a),
		newAccountCmd(a),
		newApplicationCmd(a),
		newUserCmd(a),
		newRoleCmd(a),
		newClientCmd(a),
	)
	addLaterCommands(a, root)
	return root
}

// laterCommands lets other files (serve.go, keys.go) register their
// commands from an init function without editing this file.
var laterCommands []func(*app) *cobra.Command

func addLaterCommands(a *app, root *cobra.Command) {
	for _, f := range laterCommands {
		root.AddCommand(f(a))
	}
}

// exitError carries the exit code for errors of our own commands.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// refused wraps an error from carrying out a command: exit code 1.
func refused(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitRefused, err: err}
}

// usageErr is bad usage found by a command itself: exit code 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// loadConfig reads --config and the environment.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(a.configPath, a.environ)
	if err != nil {
		return nil, refused(err)
	}
	return cfg, nil
}

// newLogger builds the one logger of the process from log.level and
// log.format, on stderr so that stdout stays machine-readable. Records below
// floor are dropped whatever the configuration says.
func (a *app) newLogger(cfg *config.Config, floor slog.Level) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // Validate checked the value
	opts := &slog.HandlerOptions{Level: max(level, floor)}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

// cliLogger is the logger of the administration commands: warnings and
// errors only, so a successful command prints nothing but its result.
func (a *app) cliLogger(cfg *config.Config) *slog.Logger { return a.newLogger(cfg, slog.LevelWarn) }

// openStore opens the configured database and, when migrate_on_start is on,
// applies pending migrations. The caller closes the store.
func (a *app) openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*sqlstore.Store, error) {
	st, err := sqlstore.Open(ctx, cfg.Database, logger)
	if err != nil {
		return nil, refused(err)
	}
	if cfg.MigrateOnStart {
		if _, err := st.Migrate(ctx); err != nil {
			_ = st.Close()
			return nil, refused(err)
		}
	}
	return st, nil
}

// withStore loads the configuration, opens the store and runs fn, closing
// the store afterwards: how every administration command starts.
func (a *app) withStore(ctx context.Context, fn func(ctx context.Context, cfg *config.Config, st *sqlstore.Store, logger *slog.Logger) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	logger := a.cliLogger(cfg)
	st, err := a.openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	return fn(ctx, cfg, st, logger)
}

// withIdentity runs fn with an identity service on the configured store.
func (a *app) withIdentity(ctx context.Context, fn func(svc *identity.Service) error) error {
	return a.withStore(ctx, func(ctx context.Context, cfg *config.Config, st *sqlstore.Store, logger *slog.Logger) error {
		return a.runIdentity(ctx, cfg, st, logger, fn)
	})
}

func (a *app) runIdentity(ctx context.Context, cfg *config.Config, st *sqlstore.Store, logger *slog.Logger, fn func(svc *identity.Service) error) error {
	hasher, err := password.New(cfg.Password.Params(), cfg.Password.MaxConcurrent)
	if err != nil {
		return refused(err)
	}
	svc := identity.New(st, hasher, logger)
	events, closeEvents, err := identityEvents(cfg, st, logger)
	if err != nil {
		return refused(err)
	}
	defer closeEvents()
	svc.Events = events
	return refused(fn(svc))
}

// print writes v as one JSON object with --output json, or text otherwise.
func (a *app) print(v any, text string) error {
	if a.output == "json" {
		enc := json.NewEncoder(a.stdout)
		if err := enc.Encode(v); err != nil {
			return refused(fmt.Errorf("write output: %w", err))
		}
		return nil
	}
	if _, err := fmt.Fprintln(a.stdout, text); err != nil {
		return refused(fmt.Errorf("write output: %w", err))
	}
	return nil
}
