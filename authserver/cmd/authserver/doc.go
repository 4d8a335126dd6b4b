// Command authserver is the Portcullis authorisation server and its
// administration CLI: migrate, account, application, user, role and client
// commands (one file each), plus serve and keys. Every command reads
// --config FILE with PORTCULLIS_* environment variables over it, prints
// short text or, with --output json, one JSON object, and exits 1 for a
// refused request and 2 for bad usage.
package main
