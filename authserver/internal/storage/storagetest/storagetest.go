// Package storagetest is the conformance suite every storage.Store backend
// runs: write it once, call RunTests from each backend's tests.
package storagetest

import (
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// RunTests runs every conformance case against stores made by newStore,
// which must return a fresh, migrated, empty store for each call.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Run("Smoke", func(t *testing.T) {
		s := newStore(t)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}
