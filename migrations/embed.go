// Package migrations embeds the auth server's versioned SQL migrations, one
// directory per dialect, so that the binary carries them. They are applied by
// `authserver migrate` and, unless disabled, at start.
package migrations

import "embed"

// SQLite holds migrations/sqlite/*.sql.
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds migrations/postgres/*.sql.
//
//go:embed postgres/*.sql
var Postgres embed.FS
