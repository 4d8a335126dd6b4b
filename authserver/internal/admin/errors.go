package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/shared/verify"
)

// apiError is an admin API error response: {"error", "error_description",
// "fields"}. cause is logged, never sent.
type apiError struct {
	Status      int               `json:"-"`
	Code        string            `json:"error"`
	Description string            `json:"error_description"`
	Fields      map[string]string `json:"fields,omitempty"`
	header      string
	cause       error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.cause)
	}
	return e.Code + ": " + e.Description
}

func (e *apiError) Unwrap() error { return e.cause }

func badRequest(desc string, fields map[string]string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc, Fields: fields}
}

func forbidden(desc string) *apiError {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Description: desc}
}

// unauthorized answers a missing or bad bearer token as RFC 6750 3.1 says.
func unauthorized(err error) *apiError {
	desc := "The access token is missing"
	var ve *verify.Error
	if errors.As(err, &ve) {
		desc = ve.Description()
	}
	hdr := `Bearer realm="portcullis"`
	if err != nil {
		hdr += `, error="invalid_token", error_description="` + desc + `"`
	}
	return &apiError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: desc, header: hdr, cause: err}
}

// errDenied is the one 403 text: which rule refused is not the caller's
// business, and a uniform answer does not reveal whether a row exists.
var errDenied = forbidden("The caller's roles do not allow this operation")

// toAPIError maps the identity service's errors to responses.
func toAPIError(err error) *apiError {
	var ae *apiError
	var ve *identity.ValidationError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return badRequest("The request has invalid fields", ve.Fields)
	case errors.Is(err, identity.ErrBuiltinRole):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "Built-in roles cannot be deleted"}
	case errors.Is(err, identity.ErrLastAdministrator):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Description: "The last active administrator cannot be revoked, disabled or deleted"}
	case errors.Is(err, identity.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Description: "The object already exists", cause: err}
	case errors.Is(err, identity.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Description: "The object, or one the request names, does not exist", cause: err}
	case errors.Is(err, identity.ErrInvalid):
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "The request is invalid", cause: err}
	default:
		return &apiError{Status: http.StatusInternalServerError, Code: "server_error", Description: "The server encountered an unexpected condition", cause: err}
	}
}

// writeError renders err and logs what the client does not see.
func (h *Handler) writeError(c echo.Context, err error) error {
	ae := toAPIError(err)
	ctx := c.Request().Context()
	switch {
	case ae.Status >= 500:
		h.Logger.ErrorContext(ctx, "admin request failed", "route", c.Path(), "err", err)
	case ae.cause != nil:
		h.Logger.InfoContext(ctx, "admin request refused", "route", c.Path(), "status", ae.Status, "detail", ae.cause.Error())
	}
	if ae.header != "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, ae.header)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(ae.Status, ae)
}
