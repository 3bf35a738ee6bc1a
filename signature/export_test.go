package signature

import (
	"context"
	"crypto"
	"crypto/x509"
	"io"
)

// SignOutsideValidity signs as a Signer would, without checking the signing certificate's
// validity or revocation at the signing time: tests of the validator need signatures
// that a Signer refuses to make, such as one claiming a time after the certificate expired.
func SignOutsideValidity(ctx context.Context, key crypto.Signer, chain []*x509.Certificate, opts SignerOptions, doc io.Reader) ([]byte, error) {
	s, err := newSigner(key, chain, opts)
	if err != nil {
		return nil, err
	}
	return s.sign(ctx, doc, s.now())
}

// RemoveCertificate rewrites a CAdES signature without one of its certificates, as an
// attacker could, leaving everything else as it was.
func RemoveCertificate(sig, cert []byte) ([]byte, error) {
	p, err := splitCMS(sig, "CAdES")
	if err != nil {
		return nil, err
	}
	var kept [][]byte
	for _, c := range p.certs {
		if string(c) != string(cert) {
			kept = append(kept, c)
		}
	}
	p.certs = kept
	return p.encode()
}
