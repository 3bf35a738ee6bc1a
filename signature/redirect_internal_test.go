package signature

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRevocationRedirect(t *testing.T) {
	req := func(raw string) *http.Request {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Request{URL: u}
	}
	one := []*http.Request{req("http://ca.example/crl")}
	assert.NoError(t, revocationRedirect(req("https://cdn.example/crl"), one))
	assert.Error(t, revocationRedirect(req("file:///etc/passwd"), one))
	assert.Error(t, revocationRedirect(req("ftp://ca.example/crl"), one))
	three := []*http.Request{one[0], one[0], one[0]}
	assert.Error(t, revocationRedirect(req("http://ca.example/crl"), three))
}
