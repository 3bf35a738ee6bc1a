package dpitest

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/internal/limits"
)

// oidArchiveCutoff is id-pkix-ocsp-archive-cutoff (RFC 6960 §4.4.4).
var oidArchiveCutoff = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 6}

// ocspValidity is how long an OCSP response is fresh (its nextUpdate minus thisUpdate).
const ocspValidity = time.Hour

// serveOCSP is the OCSP responder (RFC 6960 §2, with the HTTP binding of Appendix A): a
// DER OCSPRequest in a POST body, or base64 and URL-escaped in the path of a GET. It
// answers for certificates issued by the root (the intermediate) and by the intermediate.
func (p *PKI) serveOCSP(w http.ResponseWriter, r *http.Request) {
	if !p.ocspUp.Load() {
		http.Error(w, "ocsp responder unavailable", http.StatusServiceUnavailable)
		return
	}
	der, ok := readOCSPRequest(r)
	if !ok {
		writeOCSP(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	writeOCSP(w, p.ocspResponse(der))
}

// readOCSPRequest returns the DER request of r, within limits.MaxOCSPRequest.
func readOCSPRequest(r *http.Request) ([]byte, bool) {
	if r.Method == http.MethodPost {
		der, err := io.ReadAll(io.LimitReader(r.Body, limits.MaxOCSPRequest+1))
		return der, err == nil && len(der) <= limits.MaxOCSPRequest
	}
	esc := strings.TrimPrefix(r.URL.EscapedPath(), "/ocsp/")
	if len(esc) > 2*limits.MaxOCSPRequest {
		return nil, false
	}
	b64, err := url.PathUnescape(esc)
	if err != nil {
		return nil, false
	}
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if der, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(b64, "=")); err != nil {
			return nil, false
		}
	}
	return der, true
}

func writeOCSP(w http.ResponseWriter, resp []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(resp)
}

// ocspResponse returns the DER OCSPResponse for a DER OCSPRequest: a signed answer, or one
// of the unsigned error responses of RFC 6960 §2.3.
func (p *PKI) ocspResponse(der []byte) []byte {
	req, err := ocsp.ParseRequest(der)
	if err != nil || !req.HashAlgorithm.Available() {
		return ocsp.MalformedRequestErrorResponse
	}
	a := p.authorityFor(req)
	if a == nil {
		return ocsp.UnauthorizedErrorResponse
	}
	resp, err := p.signOCSP(a, req.SerialNumber, req.HashAlgorithm)
	if err != nil {
		return ocsp.InternalErrorErrorResponse
	}
	return resp
}

// signOCSP answers for the certificate of a with serial, naming it in the CertID with hash:
// good, revoked as of the PKI clock's now, or unknown for a serial a never issued.
func (p *PKI) signOCSP(a *authority, serial *big.Int, hash crypto.Hash) ([]byte, error) {
	now := p.now()
	tmpl := ocsp.Response{
		SerialNumber: serial,
		IssuerHash:   hash,
		ThisUpdate:   now,
		NextUpdate:   now.Add(ocspValidity),
		Status:       ocsp.Unknown,
	}
	// The responder never forgets a certificate, expired or not: it says so with an
	// archive cutoff at the CA's own start (RFC 6960 §4.4.4), so that "good" still
	// speaks for a certificate that has expired.
	if cutoff, err := asn1.MarshalWithParams(a.cert.NotBefore.UTC(), "generalized"); err == nil {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidArchiveCutoff, Value: cutoff}}
	}
	key := serial.String()
	a.mu.Lock()
	if e, revoked := a.revoked[key]; revoked && !now.Before(e.RevocationTime) {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = e.RevocationTime
		tmpl.RevocationReason = ocsp.Unspecified
	} else if a.issued[key] {
		tmpl.Status = ocsp.Good
	}
	a.mu.Unlock()
	if a.responderCert != a.cert {
		tmpl.Certificate = a.responderCert
	}
	return ocsp.CreateResponse(a.cert, a.responderCert, tmpl, a.responderKey)
}

// OCSPResponse returns the DER OCSP response (RFC 6960 §4.2.1) the responder would give
// now for cert, issued by this PKI (an end-entity certificate or the intermediate): good
// or revoked, signed as the responder signs, current for an hour. It works whether or
// not [PKI.SetOCSPAvailable] has taken the responder down, so that a test can hand a
// verifier the answer it already holds. The CertID names the issuer by SHA-1 hashes, the
// identifier `openssl ocsp -respin` looks up by default (it identifies, it does not
// protect: the response's signature does).
func (p *PKI) OCSPResponse(cert *x509.Certificate) ([]byte, error) {
	a := p.issuerOf(cert)
	if a == nil {
		return nil, ErrUnknownCertificate
	}
	return p.signOCSP(a, cert.SerialNumber, crypto.SHA1)
}

// authorityFor returns the CA whose name and key hashes the request names, or nil.
func (p *PKI) authorityFor(req *ocsp.Request) *authority {
	for _, a := range []*authority{p.inter, p.root} {
		nameHash, keyHash, ok := issuerHashes(a.cert, req)
		if ok && bytes.Equal(nameHash, req.IssuerNameHash) && bytes.Equal(keyHash, req.IssuerKeyHash) {
			return a
		}
	}
	return nil
}

// issuerHashes computes CertID's issuerNameHash and issuerKeyHash (RFC 6960 §4.1.1) of ca
// with the request's hash algorithm.
func issuerHashes(ca *x509.Certificate, req *ocsp.Request) (nameHash, keyHash []byte, ok bool) {
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, false
	}
	h := req.HashAlgorithm.New()
	h.Write(ca.RawSubject)
	nameHash = h.Sum(nil)
	h.Reset()
	h.Write(spki.PublicKey.RightAlign())
	return nameHash, h.Sum(nil), true
}
