package dpitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
)

// RotateEndpoints moves the IdP's endpoints (jwks_uri, authorization, token, userinfo,
// end-session) under a new path prefix ("/e1", "/e2"...) and withdraws the old ones, which
// then answer 404, as an IdP does when it migrates its deployment. The issuer and its
// discovery document (/.well-known/openid-configuration) stay where they are; the
// document names the new endpoints. Relying parties that fetched discovery once and never
// again stop working.
func (p *IdP) RotateEndpoints() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.epoch++
}

// endpointPrefix is the current path prefix of the endpoints, "" before any rotation.
func (p *IdP) endpointPrefix() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch == 0 {
		return ""
	}
	return fmt.Sprintf("/e%d", p.epoch)
}

// rotatingEndpoints serves next's endpoints under the current prefix and rewrites the
// discovery document to name them; it also serves the status list (idp_status.go).
func (p *IdP) rotatingEndpoints(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix := p.endpointPrefix()
		path := r.URL.Path
		switch {
		case path == statusListPath && r.Method == http.MethodGet:
			p.statusList(w, r) // the status list stays put when endpoints move
			return
		case strings.HasPrefix(path, "/.well-known/") || strings.HasPrefix(path, "/testbed/"):
			if prefix != "" && path == "/.well-known/openid-configuration" {
				p.rewriteDiscovery(w, r, next, prefix)
				return
			}
		case prefix == "":
		case strings.HasPrefix(path, prefix+"/"):
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimPrefix(path, prefix)
			r2.URL.RawPath = ""
			r = r2
		default:
			http.NotFound(w, r) // a withdrawn endpoint
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *IdP) rewriteDiscovery(w http.ResponseWriter, r *http.Request, next http.Handler, prefix string) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var doc map[string]any
	if rec.Code != http.StatusOK || json.NewDecoder(bytes.NewReader(rec.Body.Bytes())).Decode(&doc) != nil {
		http.Error(w, "discovery failed", http.StatusInternalServerError)
		return
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"} {
		if u, ok := doc[k].(string); ok {
			doc[k] = p.issuer + prefix + strings.TrimPrefix(u, p.issuer)
		}
	}
	writeJSON(w, http.StatusOK, doc)
}
