package admin

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func (h *Handler) listKeys(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	keys, err := h.Store.ListSigningKeys(c.Request().Context())
	if err != nil {
		return err
	}
	return respondList(c, signer.Describe(keys, h.Now()), "", viewKey)
}

// rotateKey starts a rotation: a new key published now that signs after
// keys.prepublish. When a rotation is already pending its key is returned
// (200) instead of a second one (201).
func (h *Handler) rotateKey(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	ctx := c.Request().Context()
	k, created, err := h.Signer.Rotate(ctx)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		// The signer writes the key itself, so the audit record follows
		// it rather than sharing its transaction.
		after, _ := json.Marshal(map[string]any{"kid": k.ID, "algorithm": k.Algorithm, "activates_at": k.ActivatesAt.UTC()})
		rec := &storage.AuditRecord{Actor: cl.Subject, Action: "key.rotate", Target: k.ID, After: after, RequestID: cl.RequestID}
		if err := h.Store.AppendAudit(ctx, rec); err != nil {
			return fmt.Errorf("audit key rotation: %w", err)
		}
	}
	st := signer.Describe([]storage.SigningKey{*k}, h.Now())[0]
	return c.JSON(status, viewKey(&st))
}

func (h *Handler) listAudit(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	rows, next, err := storeList(h.Store.ListAudit(c.Request().Context(), p))
	if err != nil {
		return err
	}
	return respondList(c, rows, next, viewAudit)
}
