package dpitest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"net/http"
)

// The test IdP publishes one IETF Token Status List (draft-ietf-oauth-status-list) for the
// credentials it issues, two bits per credential (VALID, INVALID, SUSPENDED), served as a
// signed status list token at StatusListURI.

// Credential statuses of the Token Status List draft.
const (
	StatusValid     byte = 0x00
	StatusInvalid   byte = 0x01 // revoked
	StatusSuspended byte = 0x02
)

// StatusListSize is the number of credential indexes the test status list holds.
const StatusListSize = 1024

// StatusListTTL is the ttl claim of the test IdP's status list tokens, in seconds.
const StatusListTTL = 300

const statusListPath = "/statuslists/1"

// StatusListURI is the URI of the IdP's status list token.
func (p *IdP) StatusListURI() string { return p.issuer + statusListPath }

// CredentialStatus is the status claim that points a credential at index idx of the IdP's
// status list: pass it as the "status" claim to IssueCredential.
func (p *IdP) CredentialStatus(idx int) map[string]any {
	return map[string]any{"status_list": map[string]any{"idx": idx, "uri": p.StatusListURI()}}
}

// SetCredentialStatus sets the status of index idx (StatusValid, StatusInvalid,
// StatusSuspended or the application-specific 0x03).
func (p *IdP) SetCredentialStatus(idx int, status byte) error {
	if idx < 0 || idx >= StatusListSize || status > 3 {
		return fmt.Errorf("dpitest: status index %d or value %d out of range", idx, status)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.statuses == nil {
		p.statuses = map[int]byte{}
	}
	p.statuses[idx] = status
	return nil
}

// StatusListToken signs the current status list: typ statuslist+jwt, sub the list's URI,
// iat, exp (the token lifetime), ttl StatusListTTL and status_list {bits: 2, lst: the
// zlib-compressed, base64url-encoded statuses, index 0 in the low bits of byte 0}.
func (p *IdP) StatusListToken() (string, error) {
	list := make([]byte, StatusListSize*2/8)
	p.mu.Lock()
	for idx, s := range p.statuses {
		list[idx*2/8] |= s << (idx * 2 % 8)
	}
	p.mu.Unlock()
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(list); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	now := p.now()
	return p.MintToken(map[string]any{"typ": "statuslist+jwt"}, map[string]any{
		"iss": p.issuer, "sub": p.StatusListURI(), "iat": now.Unix(), "exp": now.Add(p.lifetime).Unix(), "ttl": StatusListTTL,
		"status_list": map[string]any{"bits": 2, "lst": base64.RawURLEncoding.EncodeToString(z.Bytes())},
	})
}

func (p *IdP) statusList(w http.ResponseWriter, _ *http.Request) {
	tok, err := p.StatusListToken()
	if err != nil {
		http.Error(w, "status list signing failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/statuslist+jwt")
	_, _ = w.Write([]byte(tok))
}
