package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/interop"
)

// revocationChecker is the interop.RevocationChecker of dpi envelope open: for each
// certificate of the verified chain but the root, the OCSP responses and CRLs given on the
// command line first, then the certificate's OCSP responder, then its CRL distribution
// point (RFC 6960, RFC 5280 §5). An answer counts when its issuer signed it (or, for OCSP,
// a responder the issuer certified for id-kp-OCSPSigning) and it is current. Package
// signature checks revocation the same way for documents, but exposes no check of a bare
// certificate chain for this to call.
type revocationChecker struct {
	crls      []*x509.RevocationList
	responses [][]byte
	client    *http.Client
	now       func() time.Time
}

var _ interop.RevocationChecker = (*revocationChecker)(nil)

func newRevocationChecker(crls []*x509.RevocationList, responses [][]byte) *revocationChecker {
	return &revocationChecker{crls: crls, responses: responses, now: time.Now,
		client: &http.Client{Timeout: limits.InteropRevocationTimeout}}
}

// revocationSkew is how far ahead of now an answer's thisUpdate may lie.
const revocationSkew = 5 * time.Minute

func (c *revocationChecker) CheckRevocation(ctx context.Context, chain []*x509.Certificate) (interop.RevocationStatus, error) {
	if len(chain) < 2 {
		return interop.RevocationUnknown, errors.New("no issuer to check the signer's certificate with")
	}
	for i := range len(chain) - 1 {
		st, err := c.one(ctx, chain[i], chain[i+1])
		if st != interop.RevocationGood {
			return st, err
		}
	}
	return interop.RevocationGood, nil
}

// one finds the status of cert, issued by issuer.
func (c *revocationChecker) one(ctx context.Context, cert, issuer *x509.Certificate) (interop.RevocationStatus, error) {
	now := c.now()
	for _, der := range c.responses {
		if st, ok := ocspStatus(der, cert, issuer, now); ok {
			return st, nil
		}
	}
	for _, l := range c.crls {
		if st, ok := crlStatus(l, cert, issuer, now); ok {
			return st, nil
		}
	}
	var errs []error
	for _, u := range cert.OCSPServer {
		der, err := c.fetch(ctx, u, cert, issuer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st, ok := ocspStatus(der, cert, issuer, now); ok {
			return st, nil
		}
		errs = append(errs, fmt.Errorf("OCSP %s: no usable answer", u))
	}
	for _, u := range cert.CRLDistributionPoints {
		der, err := c.fetch(ctx, u, nil, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l, err := x509.ParseRevocationList(der)
		if err != nil {
			errs = append(errs, fmt.Errorf("CRL %s: %v", u, err))
			continue
		}
		if st, ok := crlStatus(l, cert, issuer, now); ok {
			return st, nil
		}
		errs = append(errs, fmt.Errorf("CRL %s: not usable for the certificate", u))
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no revocation data, and the certificate names no responder"))
	}
	return interop.RevocationUnknown, errors.Join(errs...)
}

// fetch asks an OCSP responder about cert (when cert is set) or downloads a CRL, over
// HTTP, within the caps of internal/limits.
func (c *revocationChecker) fetch(ctx context.Context, u string, cert, issuer *x509.Certificate) ([]byte, error) {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil, fmt.Errorf("%s: not an HTTP URL", u)
	}
	ctx, cancel := context.WithTimeout(ctx, limits.InteropRevocationTimeout)
	defer cancel()
	var req *http.Request
	var err error
	max := int64(limits.MaxCRL)
	if cert != nil {
		body, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
		if err != nil {
			return nil, err
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/ocsp-request")
		max = limits.MaxOCSPResponse
	} else if req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil); err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d", u, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: answer larger than %d bytes", u, max)
	}
	return b, nil
}

// ocspStatus reads an OCSP response about cert; ok is false when it is not a current,
// properly signed answer about cert.
func ocspStatus(der []byte, cert, issuer *x509.Certificate, now time.Time) (interop.RevocationStatus, bool) {
	r, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil || r.SerialNumber == nil || r.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return interop.RevocationUnknown, false
	}
	if r.Certificate != nil && !bytes.Equal(r.Certificate.Raw, issuer.Raw) && !slices.Contains(r.Certificate.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return interop.RevocationUnknown, false
	}
	if r.ThisUpdate.After(now.Add(revocationSkew)) || (!r.NextUpdate.IsZero() && !now.Before(r.NextUpdate)) {
		return interop.RevocationUnknown, false
	}
	switch r.Status {
	case ocsp.Good:
		return interop.RevocationGood, true
	case ocsp.Revoked:
		return interop.RevocationRevoked, true
	}
	return interop.RevocationUnknown, false
}

// crlStatus reads a CRL about cert; ok is false when it is not a current CRL its issuer
// signed.
func crlStatus(l *x509.RevocationList, cert, issuer *x509.Certificate, now time.Time) (interop.RevocationStatus, bool) {
	if !bytes.Equal(l.RawIssuer, cert.RawIssuer) || l.CheckSignatureFrom(issuer) != nil {
		return interop.RevocationUnknown, false
	}
	if l.ThisUpdate.After(now.Add(revocationSkew)) || l.NextUpdate.IsZero() || !now.Before(l.NextUpdate) {
		return interop.RevocationUnknown, false
	}
	for _, e := range l.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return interop.RevocationRevoked, true
		}
	}
	return interop.RevocationGood, true
}
