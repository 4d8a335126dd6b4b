package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

type accountBody struct {
	Name        string  `json:"name"`
	DisplayName *string `json:"display_name"`
}

func (h *Handler) listAccounts(c echo.Context, cl *caller) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var rows []storage.Account
	var next string
	if cl.admin() {
		rows, next, err = storeList(h.Store.ListAccounts(ctx, p))
	} else {
		// Only the accounts the caller may read; a caller with none gets
		// an empty list (every user may ask).
		var scopes []scope
		for _, s := range cl.reach(appReaders...) {
			if !containsAccount(scopes, s.Account) {
				scopes = append(scopes, scope{Account: s.Account})
			}
		}
		rows, next, err = collect(p, scopes, func(s scope, _ storage.Page) ([]storage.Account, string, error) {
			a, err := h.Store.GetAccount(ctx, s.Account)
			if err != nil {
				if isNotFound(err) {
					return nil, "", nil
				}
				return nil, "", err
			}
			return []storage.Account{*a}, "", nil
		}, func(a *storage.Account) string { return a.Name })
	}
	if err != nil {
		return err
	}
	return respondList(c, rows, next, viewAccount)
}

func containsAccount(ss []scope, account string) bool {
	for _, s := range ss {
		if s.Account == account {
			return true
		}
	}
	return false
}

func (h *Handler) createAccount(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	var in accountBody
	if err := decode(c, &in); err != nil {
		return err
	}
	a, err := h.Identity.CreateAccount(c.Request().Context(), cl.actor(), identity.NewAccount{Name: in.Name, DisplayName: deref(in.DisplayName)})
	if err != nil {
		return err
	}
	return created(c, "/accounts/"+a.Name, viewAccount(a))
}

func (h *Handler) getAccount(c echo.Context, cl *caller) error {
	name := c.Param("account")
	if !cl.canReadAccount(name) {
		return errDenied
	}
	a, err := h.Store.GetAccount(c.Request().Context(), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewAccount(a))
}

func (h *Handler) updateAccount(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	var in struct {
		DisplayName *string `json:"display_name"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	a, err := h.Identity.UpdateAccount(c.Request().Context(), cl.actor(), c.Param("account"), identity.AccountUpdate{DisplayName: in.DisplayName})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewAccount(a))
}

func (h *Handler) deleteAccount(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	if err := h.Identity.DeleteAccount(c.Request().Context(), cl.actor(), c.Param("account")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) listApplications(c echo.Context, cl *caller) error {
	account := c.Param("account")
	if !cl.canReadAccount(account) {
		return errDenied
	}
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var rows []storage.Application
	var next string
	if cl.canManageApplications(account) {
		if _, err := h.Store.GetAccount(ctx, account); err != nil {
			return err
		}
		rows, next, err = storeList(h.Store.ListApplications(ctx, account, p))
	} else {
		scopes := narrow(cl.reach(appReaders...), account, "")
		rows, next, err = collect(p, scopes, func(s scope, _ storage.Page) ([]storage.Application, string, error) {
			a, err := h.Store.GetApplication(ctx, s.Account, s.Application)
			if isNotFound(err) {
				return nil, "", nil
			}
			if err != nil {
				return nil, "", err
			}
			return []storage.Application{*a}, "", nil
		}, func(a *storage.Application) string { return a.Name })
	}
	if err != nil {
		return err
	}
	return respondList(c, rows, next, viewApplication)
}

func (h *Handler) createApplication(c echo.Context, cl *caller) error {
	account := c.Param("account")
	if !cl.canManageApplications(account) {
		return errDenied
	}
	var in accountBody
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := h.Identity.CreateApplication(c.Request().Context(), cl.actor(), identity.NewApplication{
		Account: account, Name: in.Name, DisplayName: deref(in.DisplayName)})
	if err != nil {
		return err
	}
	return created(c, "/accounts/"+p.Account+"/applications/"+p.Name, viewApplication(p))
}

func (h *Handler) getApplication(c echo.Context, cl *caller) error {
	account, name := c.Param("account"), c.Param("application")
	if !cl.canReadApplication(account, name) {
		return errDenied
	}
	p, err := h.Store.GetApplication(c.Request().Context(), account, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewApplication(p))
}

func (h *Handler) updateApplication(c echo.Context, cl *caller) error {
	account := c.Param("account")
	if !cl.canManageApplications(account) {
		return errDenied
	}
	var in struct {
		DisplayName *string `json:"display_name"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := h.Identity.UpdateApplication(c.Request().Context(), cl.actor(), account, c.Param("application"),
		identity.ApplicationUpdate{DisplayName: in.DisplayName})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewApplication(p))
}

func (h *Handler) deleteApplication(c echo.Context, cl *caller) error {
	account := c.Param("account")
	if !cl.canManageApplications(account) {
		return errDenied
	}
	if err := h.Identity.DeleteApplication(c.Request().Context(), cl.actor(), account, c.Param("application")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
