package dpitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// The test IdP is also a test issuer of SD-JWT verifiable credentials (RFC 9901, IETF
// SD-JWT VC), as a national eID scheme that issues a person identification credential to
// a wallet: its JWT VC Issuer Metadata is at /.well-known/jwt-vc-issuer.

func (p *IdP) credentialMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"issuer": p.issuer, "jwks_uri": p.issuer + "/jwks"})
}

// IssueCredential issues an SD-JWT VC of type vct with the given claims, binding it to
// the holder's public key (cnf.jwk). The claims named in selective become disclosures (at
// the top level); the others, and iss, vct, iat, exp and cnf, stay in the clear. It returns
// the issuance form "<issuer-signed JWT>~<disclosure>~...~".
func (p *IdP) IssueCredential(vct string, claims map[string]any, selective []string, holder crypto.PublicKey) (string, error) {
	hj := jose.JSONWebKey{Key: holder}
	if !hj.Valid() || !hj.IsPublic() {
		return "", errors.New("dpitest: holder key must be a public key")
	}
	now := p.now()
	payload := map[string]any{
		"iss": p.issuer, "vct": vct, "iat": now.Unix(), "exp": now.Add(365 * 24 * time.Hour).Unix(),
		"cnf": map[string]any{"jwk": hj}, "_sd_alg": "sha-256",
	}
	var digests []string
	var disclosures []string
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		if !slices.Contains(selective, name) {
			payload[name] = claims[name]
			continue
		}
		d, err := json.Marshal([]any{randomToken()[:22], name, claims[name]})
		if err != nil {
			return "", err
		}
		enc := base64.RawURLEncoding.EncodeToString(d)
		sum := sha256.Sum256([]byte(enc))
		digests = append(digests, base64.RawURLEncoding.EncodeToString(sum[:]))
		disclosures = append(disclosures, enc)
	}
	slices.Sort(digests) // RFC 9901 §4.2.4.1: hide the original order
	payload["_sd"] = digests
	body, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	key := p.current
	p.mu.Unlock()
	opts := (&jose.SignerOptions{}).WithType("dc+sd-jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: p.alg, Key: key}, opts)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(body)
	if err != nil {
		return "", err
	}
	jwt, err := obj.CompactSerialize()
	if err != nil {
		return "", err
	}
	return jwt + "~" + strings.Join(append(disclosures, ""), "~"), nil
}

// Present is what a wallet does with an issued SD-JWT: keep the disclosures of the claims
// named in disclose, drop the others, and append a key binding JWT (RFC 9901 §4.3) for
// the verifier's audience and nonce, signed with the holder's key at time now.
func Present(issued string, disclose []string, holder crypto.Signer, aud, nonce string, now time.Time) (string, error) {
	parts := strings.Split(issued, "~")
	if len(parts) < 2 {
		return "", errors.New("dpitest: not an sd-jwt")
	}
	kept := []string{parts[0]}
	for _, d := range parts[1 : len(parts)-1] {
		b, err := base64.RawURLEncoding.DecodeString(d)
		if err != nil {
			return "", err
		}
		var arr []any
		if err := json.Unmarshal(b, &arr); err != nil || len(arr) != 3 {
			return "", errors.New("dpitest: unexpected disclosure")
		}
		if name, _ := arr[1].(string); slices.Contains(disclose, name) {
			kept = append(kept, d)
		}
	}
	sdJWT := strings.Join(kept, "~") + "~"
	sum := sha256.Sum256([]byte(sdJWT))
	kb, err := json.Marshal(map[string]any{
		"iat": now.Unix(), "aud": aud, "nonce": nonce, "sd_hash": base64.RawURLEncoding.EncodeToString(sum[:]),
	})
	if err != nil {
		return "", err
	}
	var alg jose.SignatureAlgorithm
	switch holder.Public().(type) {
	case *ecdsa.PublicKey:
		alg = jose.ES256
	case ed25519.PublicKey:
		alg = jose.EdDSA
	case *rsa.PublicKey:
		alg = jose.PS256
	default:
		return "", fmt.Errorf("dpitest: unsupported holder key %T", holder.Public())
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(holder)}, (&jose.SignerOptions{}).WithType("kb+jwt"))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(kb)
	if err != nil {
		return "", err
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", err
	}
	return sdJWT + out, nil
}
