package admin

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// lookupUser finds a user by id or, failing that, by username.
func (h *Handler) lookupUser(ctx context.Context, ref string) (*storage.User, error) {
	u, err := h.Store.GetUser(ctx, ref)
	if isNotFound(err) {
		u, err = h.Store.GetUserByUsername(ctx, ref)
	}
	return u, err
}

// canSeeUser: administrators, the user themself, and whoever may manage
// grants in a scope where the user holds one (current data, read here).
func (h *Handler) canSeeUser(ctx context.Context, cl *caller, u *storage.User) (bool, error) {
	if cl.admin() || (!cl.isClient() && u.ID == cl.Subject) {
		return true, nil
	}
	gs, err := h.Store.RoleGrantsOfUser(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, g := range gs {
		if g.Account != "" && cl.canSeeGrantsIn(g.Account, g.Application) {
			return true, nil
		}
	}
	return false, nil
}

func (h *Handler) listUsers(c echo.Context, cl *caller) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := storage.UserFilter{Username: c.QueryParam("username"), Account: c.QueryParam("account"), Application: c.QueryParam("application")}
	var rows []storage.User
	var next string
	if cl.admin() {
		rows, next, err = storeList(h.Store.ListUsers(ctx, f, p))
	} else {
		scopes := narrow(cl.reach(grantManagers...), f.Account, f.Application)
		if len(scopes) == 0 {
			return errDenied
		}
		rows, next, err = collect(p, scopes, func(s scope, sp storage.Page) ([]storage.User, string, error) {
			return h.Store.ListUsers(ctx, storage.UserFilter{Username: f.Username, Account: s.Account, Application: s.Application}, sp)
		}, func(u *storage.User) string { return u.ID })
	}
	if err != nil {
		return err
	}
	return respondList(c, rows, next, viewUser)
}

func (h *Handler) createUser(c echo.Context, cl *caller) error {
	if !cl.canCreateUsers() {
		return errDenied
	}
	var in struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
		Active   *bool  `json:"active"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := h.Identity.CreateUser(c.Request().Context(), cl.actor(), identity.NewUser{
		Username: in.Username, Email: in.Email, Password: in.Password, Inactive: in.Active != nil && !*in.Active})
	if err != nil {
		return err
	}
	return created(c, "/users/"+u.ID, viewUser(u))
}

func (h *Handler) getUser(c echo.Context, cl *caller) error {
	ctx := c.Request().Context()
	u, err := h.lookupUser(ctx, c.Param("user"))
	if isNotFound(err) && !cl.admin() {
		return errDenied // the same answer as for a user the caller may not see
	}
	if err != nil {
		return err
	}
	ok, err := h.canSeeUser(ctx, cl, u)
	if err != nil {
		return err
	}
	if !ok {
		return errDenied
	}
	return c.JSON(http.StatusOK, viewUser(u))
}

func (h *Handler) updateUser(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	var in struct {
		Email    *string `json:"email"`
		Active   *bool   `json:"active"`
		Password *string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.lookupUser(ctx, c.Param("user"))
	if err != nil {
		return err
	}
	u, err = h.Identity.UpdateUser(ctx, cl.actor(), u.ID, identity.UserUpdate{Email: in.Email, Active: in.Active, Password: in.Password})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewUser(u))
}

func (h *Handler) deleteUser(c echo.Context, cl *caller) error {
	if !cl.admin() {
		return errDenied
	}
	ctx := c.Request().Context()
	u, err := h.lookupUser(ctx, c.Param("user"))
	if err != nil {
		return err
	}
	if err := h.Identity.DeleteUser(ctx, cl.actor(), u.Username); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// meView is the caller's own user and current grants.
type meView struct {
	User   userView    `json:"user"`
	Grants []grantView `json:"grants"`
}

func (h *Handler) getMe(c echo.Context, cl *caller) error {
	if cl.isClient() {
		return forbidden("/me describes a user; this token was issued to a client")
	}
	ctx := c.Request().Context()
	u, err := h.Store.GetUser(ctx, cl.Subject)
	if err != nil {
		return err
	}
	out := meView{User: viewUser(u), Grants: []grantView{}}
	cursor := ""
	for {
		gs, next, err := h.Store.ListGrants(ctx, storage.GrantFilter{UserID: u.ID}, storage.Page{Limit: 1000, Cursor: cursor})
		if err != nil {
			return err
		}
		for i := range gs {
			out.Grants = append(out.Grants, viewGrant(&gs[i]))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) changeMyPassword(c echo.Context, cl *caller) error {
	if cl.isClient() {
		return forbidden("only a user can change their password")
	}
	var in struct {
		OldPassword string `json:"old_password"`
		Password    string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := h.Identity.ChangePassword(c.Request().Context(), cl.actor(), cl.Subject, in.OldPassword, in.Password); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
