package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func (h *Handler) listClients(c echo.Context, cl *caller) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := storage.ClientFilter{Account: c.QueryParam("account"), Application: c.QueryParam("application")}
	var rows []storage.Client
	var next string
	if cl.admin() {
		rows, next, err = storeList(h.Store.ListClients(ctx, f, p))
	} else {
		scopes := narrow(cl.reach(clientManagers...), f.Account, f.Application)
		if len(scopes) == 0 {
			return errDenied
		}
		rows, next, err = collect(p, scopes, func(s scope, sp storage.Page) ([]storage.Client, string, error) {
			return h.Store.ListClients(ctx, storage.ClientFilter{Account: s.Account, Application: s.Application}, sp)
		}, func(c *storage.Client) string { return c.ID })
	}
	if err != nil {
		return err
	}
	return respondList(c, rows, next, viewClient)
}

func (h *Handler) createClient(c echo.Context, cl *caller) error {
	var in struct {
		Name         string   `json:"name"`
		GrantTypes   []string `json:"grant_types"`
		RedirectURIs []string `json:"redirect_uris"`
		Scopes       []string `json:"scopes"`
		Public       bool     `json:"public"`
		Account      string   `json:"account"`
		Application  string   `json:"application"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if !cl.canManageClient(in.Account, in.Application) {
		return errDenied
	}
	out, err := h.Identity.CreateClient(c.Request().Context(), cl.actor(), identity.NewClient{
		Name: in.Name, GrantTypes: in.GrantTypes, RedirectURIs: in.RedirectURIs, Scopes: in.Scopes, Public: in.Public,
		Account: in.Account, Application: in.Application})
	if err != nil {
		return err
	}
	return created(c, "/clients/"+out.ID, createdClientView{clientView: viewClient(&out.Client), ClientSecret: out.Secret})
}

// managedClient loads a client the caller may manage; for a
// non-administrator a missing client is refused like a foreign one.
func (h *Handler) managedClient(c echo.Context, cl *caller) (*storage.Client, error) {
	cli, err := h.Store.GetClient(c.Request().Context(), c.Param("client"))
	switch {
	case isNotFound(err) && !cl.admin():
		return nil, errDenied
	case err != nil:
		return nil, err
	case !cl.canManageClient(cli.Account, cli.Application):
		return nil, errDenied
	}
	return cli, nil
}

func (h *Handler) getClient(c echo.Context, cl *caller) error {
	cli, err := h.managedClient(c, cl)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewClient(cli))
}

func (h *Handler) updateClient(c echo.Context, cl *caller) error {
	cli, err := h.managedClient(c, cl)
	if err != nil {
		return err
	}
	var in struct {
		Name         *string   `json:"name"`
		GrantTypes   *[]string `json:"grant_types"`
		RedirectURIs *[]string `json:"redirect_uris"`
		Scopes       *[]string `json:"scopes"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	out, err := h.Identity.UpdateClient(c.Request().Context(), cl.actor(), cli.ID, identity.ClientUpdate{
		Name: in.Name, GrantTypes: in.GrantTypes, RedirectURIs: in.RedirectURIs, Scopes: in.Scopes})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewClient(out))
}

func (h *Handler) deleteClient(c echo.Context, cl *caller) error {
	cli, err := h.managedClient(c, cl)
	if err != nil {
		return err
	}
	if err := h.Identity.DeleteClient(c.Request().Context(), cl.actor(), cli.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
