package dpitest

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"sort"
	"time"
)

// oidExpiredCertsOnCRL is the expiredCertsOnCRL CRL extension (ITU-T X.509 §9.6.2.9).
var oidExpiredCertsOnCRL = asn1.ObjectIdentifier{2, 5, 29, 60}

// crlValidity is how long a CRL is current (its nextUpdate minus thisUpdate).
const crlValidity = 24 * time.Hour

// serveCRL answers with a's current CRL (RFC 5280 §5), DER, signed by the CA itself.
func (p *PKI) serveCRL(w http.ResponseWriter, a *authority) {
	if !p.crlUp.Load() {
		http.Error(w, "crl unavailable", http.StatusServiceUnavailable)
		return
	}
	der, err := p.crl(a)
	if err != nil {
		http.Error(w, "crl unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	_, _ = w.Write(der)
}

// crl builds a fresh CRL for a, listing the certificates revoked as of the PKI clock's now.
func (p *PKI) crl(a *authority) ([]byte, error) {
	now := p.now()
	a.mu.Lock()
	a.crlNumber++
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(a.crlNumber),
		ThisUpdate: now,
		NextUpdate: now.Add(crlValidity),
	}
	// Revoked certificates stay listed after they expire; expiredCertsOnCRL (X.509
	// §9.6.2.9) at the CA's own start says so, so that a validator can trust the CRL's
	// silence about an expired certificate.
	if since, err := asn1.MarshalWithParams(a.cert.NotBefore.UTC(), "generalized"); err == nil {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidExpiredCertsOnCRL, Value: since}}
	}
	for _, e := range a.revoked {
		if !now.Before(e.RevocationTime) {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, e)
		}
	}
	a.mu.Unlock()
	sort.Slice(tmpl.RevokedCertificateEntries, func(i, j int) bool {
		return tmpl.RevokedCertificateEntries[i].SerialNumber.Cmp(tmpl.RevokedCertificateEntries[j].SerialNumber) < 0
	})
	return x509.CreateRevocationList(rand.Reader, tmpl, a.cert, a.key)
}

// CRL returns the intermediate CA's current CRL, DER-encoded: the document served at CRLURL
// (whether or not [PKI.SetCRLAvailable] has taken it down). Each call issues a new CRL,
// dated by the PKI clock and current for 24 hours.
func (p *PKI) CRL() ([]byte, error) { return p.crl(p.inter) }

// RootCRL returns the root CA's current CRL, DER-encoded: the one that speaks for the
// intermediate, served at the URL in the intermediate's CRL distribution points.
func (p *PKI) RootCRL() ([]byte, error) { return p.crl(p.root) }
