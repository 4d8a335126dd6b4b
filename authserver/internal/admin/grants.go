package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func (h *Handler) listGrants(c echo.Context, cl *caller) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := storage.GrantFilter{ClientID: c.QueryParam("client_id"), Role: c.QueryParam("role"),
		Account: c.QueryParam("account"), Application: c.QueryParam("application")}
	if name := c.QueryParam("username"); name != "" {
		u, err := h.Store.GetUserByUsername(ctx, name)
		if isNotFound(err) {
			if !cl.admin() && len(narrow(cl.reach(grantManagers...), f.Account, f.Application)) == 0 {
				return errDenied
			}
			return respondList(c, []storage.Grant(nil), "", viewGrant)
		}
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	var rows []storage.Grant
	var next string
	if cl.admin() {
		rows, next, err = storeList(h.Store.ListGrants(ctx, f, p))
	} else {
		scopes := narrow(cl.reach(grantManagers...), f.Account, f.Application)
		if len(scopes) == 0 {
			return errDenied
		}
		rows, next, err = collect(p, scopes, func(s scope, sp storage.Page) ([]storage.Grant, string, error) {
			sf := f
			sf.Account, sf.Application = s.Account, s.Application
			return h.Store.ListGrants(ctx, sf, sp)
		}, func(g *storage.Grant) string { return g.ID })
	}
	if err != nil {
		return err
	}
	return respondList(c, rows, next, viewGrant)
}

func (h *Handler) createGrant(c echo.Context, cl *caller) error {
	var in struct {
		Username    string `json:"username"`
		ClientID    string `json:"client_id"`
		Role        string `json:"role"`
		Account     string `json:"account"`
		Application string `json:"application"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if !cl.canGrant(in.Role, in.Account, in.Application) {
		return errDenied
	}
	g, err := h.Identity.Grant(c.Request().Context(), cl.actor(), identity.GrantRequest{
		Username: in.Username, ClientID: in.ClientID, Role: in.Role, Account: in.Account, Application: in.Application})
	if err != nil {
		return err
	}
	return created(c, "/grants/"+g.ID, viewGrant(g))
}

// visibleGrant loads a grant the caller may see; for a non-administrator a
// missing grant is refused like a hidden one.
func (h *Handler) visibleGrant(c echo.Context, cl *caller) (*storage.Grant, error) {
	g, err := h.Store.GetGrant(c.Request().Context(), c.Param("id"))
	switch {
	case isNotFound(err) && !cl.admin():
		return nil, errDenied
	case err != nil:
		return nil, err
	case g.Account == "" && !cl.admin(), !cl.canSeeGrantsIn(g.Account, g.Application):
		return nil, errDenied
	}
	return g, nil
}

func (h *Handler) getGrant(c echo.Context, cl *caller) error {
	g, err := h.visibleGrant(c, cl)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewGrant(g))
}

func (h *Handler) deleteGrant(c echo.Context, cl *caller) error {
	g, err := h.visibleGrant(c, cl)
	if err != nil {
		return err
	}
	if !cl.canGrant(g.Role, g.Account, g.Application) {
		return errDenied
	}
	if _, err := h.Identity.RevokeGrant(c.Request().Context(), cl.actor(), g.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) listRoles(c echo.Context, _ *caller) error {
	rs, err := h.Store.ListRoles(c.Request().Context())
	if err != nil {
		return err
	}
	return respondList(c, rs, "", viewRole)
}

func (h *Handler) getRole(c echo.Context, _ *caller) error {
	r, err := h.Store.GetRole(c.Request().Context(), c.Param("role"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewRole(r))
}

// createRole adds a custom role (administrators): its scope kind decides
// what grants of it must name.
func (h *Handler) createRole(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	var in struct {
		Name        string `json:"name"`
		Scope       string `json:"scope"`
		Description string `json:"description"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := h.Identity.CreateRole(c.Request().Context(), cl.actor(), identity.NewRole{Name: in.Name, Scope: in.Scope, Description: in.Description})
	if err != nil {
		return err
	}
	return created(c, "/roles/"+r.Name, viewRole(r))
}

// deleteRole removes a custom role and its grants (administrators).
func (h *Handler) deleteRole(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	if err := h.Identity.DeleteRole(c.Request().Context(), cl.actor(), c.Param("role")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
