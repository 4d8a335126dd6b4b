package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/reqctx"
)

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-Id"

// requestContext gives every request an id (the caller's, when it is a
// short token of safe characters) and puts id and client IP in the
// context for logging.
func requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		if !safeID(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Response().Header().Set(HeaderRequestID, id)
		r := c.Request()
		c.SetRequest(r.WithContext(reqctx.With(r.Context(), id, c.RealIP())))
		return next(c)
	}
}

func safeID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// recoverer turns a panic into a logged 500 instead of a dropped
// connection.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler { //nolint:errorlint // recover value compared by identity, as net/http does
						panic(v)
					}
					log.ErrorContext(c.Request().Context(), "panic in handler", "panic", fmt.Sprint(v))
					err = oautherr.ErrServerError
				}
			}()
			return next(c)
		}
	}
}

// accessLog logs one line per request and feeds the latency histogram.
func accessLog(log *slog.Logger, m *Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // render now so the status below is the one sent
			}
			d := time.Since(start)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			status := c.Response().Status
			if m != nil {
				m.latency.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Observe(d.Seconds())
			}
			if route != "/healthz" && route != "/readyz" && route != "/metrics" {
				log.InfoContext(c.Request().Context(), "http request", "method", c.Request().Method, "route", route,
					"status", status, "duration_ms", float64(d.Microseconds())/1000, "bytes", c.Response().Size)
			}
			return nil
		}
	}
}

// errorHandler renders every error as an RFC 6749 JSON body.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var oe *oautherr.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &oe):
		case errors.As(err, &he):
			switch he.Code {
			case http.StatusNotFound:
				oe = oautherr.ErrNotFound
			case http.StatusMethodNotAllowed:
				oe = oautherr.ErrMethodNotAllowed
			case http.StatusRequestEntityTooLarge:
				oe = errTooLarge
			default:
				if he.Code >= 500 {
					log.ErrorContext(c.Request().Context(), "request failed", "err", err)
					oe = oautherr.ErrServerError
				} else {
					oe = &oautherr.Error{Code: "invalid_request", Status: he.Code, Description: http.StatusText(he.Code)}
				}
			}
		default:
			log.ErrorContext(c.Request().Context(), "request failed", "err", err)
			oe = oautherr.ErrServerError
		}
		if d := oe.Debug(); d != nil {
			log.InfoContext(c.Request().Context(), "request refused", "error", oe.Code, "detail", d.Error())
		}
		oautherr.Write(c.Response(), oe)
	}
}

var (
	errTooLarge    = &oautherr.Error{Code: "invalid_request", Status: http.StatusRequestEntityTooLarge, Description: "The request body is too large"}
	errContentType = oautherr.ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded")
	errQueryParams = oautherr.ErrInvalidRequest.WithDescription("parameters must be sent in the request body, not the URL")
)

// readForm reads an application/x-www-form-urlencoded body of at most
// limit bytes. Parameters in the URL are refused: credentials in a query
// string end up in logs (RFC 6749 2.3.1, 3.2).
func readForm(c echo.Context, limit int64) (url.Values, error) {
	r := c.Request()
	if r.URL.RawQuery != "" {
		return nil, errQueryParams
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return nil, errContentType
	}
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	buf, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, oautherr.ErrInvalidRequest.WithDescription("could not read the request body").WithDebug(err)
	}
	form, err := url.ParseQuery(string(buf))
	if err != nil {
		return nil, oautherr.ErrInvalidRequest.WithDescription("the request body is not valid form encoding")
	}
	return form, nil
}
