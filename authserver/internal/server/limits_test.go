package server_test

import (
	"net/url"

	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func limits(perUser, perIP int) oauth.LoginLimits {
	return oauth.LoginLimits{PerUsername: perUser, PerIP: perIP}
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func storageAll() storage.Page { return storage.Page{Limit: 100} }
