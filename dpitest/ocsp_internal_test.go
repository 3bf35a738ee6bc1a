package dpitest

import (
	"crypto"
	"testing"

	"golang.org/x/crypto/ocsp"
)

// FuzzOCSPRequest feeds arbitrary OCSPRequest bytes to the responder: it must answer every
// input with an OCSPResponse that parses, never panic.
func FuzzOCSPRequest(f *testing.F) {
	p, err := StartPKI(PKIOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(p.Close)
	c, err := p.Issue(CertOptions{})
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512} {
		req, err := ocsp.CreateRequest(c.Cert, p.Intermediate, &ocsp.RequestOptions{Hash: h})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(req)
	}
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, req []byte) {
		resp := p.ocspResponse(req)
		if _, err := ocsp.ParseResponse(resp, nil); err != nil {
			if _, ok := err.(ocsp.ResponseError); !ok {
				t.Fatalf("unparseable OCSPResponse: %v", err)
			}
		}
	})
}
