package admin

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"
)

// OpenAPIYAML is the API's OpenAPI 3.1 document. It is the canonical copy;
// docs/openapi/admin.yaml must be identical (a test checks).
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(OpenAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml to JSON: %w", err)
	}
	return b, nil
})

// openAPI serves the document as JSON. It is public: it describes the API,
// not any data.
func (h *Handler) openAPI(c echo.Context) error {
	b, err := openAPIJSON()
	if err != nil {
		return h.writeError(c, err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}
