package dpitest

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"net/http"
	"sort"
	"time"
)

// crlValidity is how long a CRL is current (its nextUpdate minus thisUpdate).
const crlValidity = 24 * time.Hour

// serveCRL answers with a's current CRL (RFC 5280 §5), DER, signed by the CA itself.
func (p *PKI) serveCRL(w http.ResponseWriter, a *authority) {
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

// CRL returns the intermediate CA's current CRL, DER-encoded: the document served at CRLURL.
func (p *PKI) CRL() ([]byte, error) { return p.crl(p.inter) }
