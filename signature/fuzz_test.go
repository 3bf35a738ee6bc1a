package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/limits"
)

func encodeSeg(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func x509PoolForTest(t testing.TB) *x509.CertPool {
	t.Helper()
	return x509.NewCertPool()
}

// FuzzParseCMS feeds arbitrary bytes to the CMS parser: it must return a signature or an
// error, never panic.
func FuzzParseCMS(f *testing.F) {
	cades, _ := seedSignatures(f)
	f.Add(cades)
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseCMS(b)
		if err == nil && s == nil {
			t.Fatal("nil signature without error")
		}
	})
}

// FuzzParseJWS feeds arbitrary text to the JWS parser.
func FuzzParseJWS(f *testing.F) {
	_, jades := seedSignatures(f)
	f.Add(string(jades))
	f.Add(encodeSeg([]byte(`{"alg":"ES256","b64":false,"crit":["b64"]}`)) + "..")
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseJWS([]byte(s))
		if err == nil && sig == nil {
			t.Fatal("nil signature without error")
		}
	})
}

// FuzzTimestampToken feeds arbitrary bytes to the time-stamp token checks (the
// SignedData reader, the TSTInfo parser and the chain check).
func FuzzTimestampToken(f *testing.F) {
	cades, _ := seedSignatures(f)
	if s, err := parseCMS(cades); err == nil && len(s.tsTokens) > 0 {
		f.Add(s.tsTokens[0])
	}
	roots := x509.NewCertPool()
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = checkTimestamp(b, []byte("signature"), roots, nil)
	})
}

// FuzzRevocationData feeds arbitrary bytes to the parsers of an OCSP ResponseData (the
// CertID check) and of a CRL issuing distribution point: they run on responders' answers
// and must return an error, never panic.
func FuzzRevocationData(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{Usage: dpitest.UsageSigning})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{0x30, 0x06, 0xa0, 0x04, 0xa0, 0x02, 0x86, 0x00})
	f.Add([]byte{0x30, 0x03, 0x82, 0x01, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = issuingDistributionPoint(b, "http://ca.example/crl", cred.Cert)
		_ = certIDNamesIssuer(b, cred.Cert, pki.Intermediate)
	})
}

// FuzzLoadRevocationData feeds arbitrary files to the CRL and OCSP response loaders (the
// PEM or DER sniffing, the splitting of concatenated DER and the OCSP envelope): they
// return items or an error, never panic, and what they return re-reads the same way.
func FuzzLoadRevocationData(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer pki.Close()
	crl, err := pki.CRL()
	if err != nil {
		f.Fatal(err)
	}
	resp, err := pki.OCSPResponse(pki.Intermediate)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(crl)
	f.Add(dpitest.CRLPEM(crl))
	f.Add(resp)
	f.Add(append(append([]byte(nil), resp...), resp...))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "OCSP RESPONSE", Bytes: resp}))
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		lists, err := LoadCRLs(b)
		if err == nil && len(lists) == 0 {
			t.Fatal("no crl without error")
		}
		ders, err := LoadOCSPResponses(b)
		if err == nil && len(ders) == 0 {
			t.Fatal("no ocsp response without error")
		}
		for _, d := range ders {
			if _, err := ocspTBS(d); err != nil {
				t.Fatalf("loaded response does not re-read: %v", err)
			}
		}
	})
}

// FuzzRevocationChoices feeds arbitrary SignedData.crls contents to the parser of the
// revocation data a signature carries (CRLs, and OCSP responses as RFC 5940 other
// revocation info): it returns data or an error, never panics, and keeps what it keeps
// within limits.MaxSignatureRevocationValues.
func FuzzRevocationChoices(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer pki.Close()
	crl, err := pki.CRL()
	if err != nil {
		f.Fatal(err)
	}
	resp, err := pki.OCSPResponse(pki.Intermediate)
	if err != nil {
		f.Fatal(err)
	}
	basic := []byte{0xa1, 0x0d, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01, 0x30, 0x00}
	f.Add(append(append([]byte(nil), crl...), ocspChoice(resp)...))
	f.Add(ocspChoice(resp))
	f.Add(basic)
	f.Add([]byte{0xa1, 0x03, 0x06, 0x01, 0x00})
	f.Add([]byte{0xa0, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseRevocationChoices(b)
		if err != nil {
			return
		}
		if len(e.crls)+len(e.ocsp)+len(e.notes) > limits.MaxSignatureRevocationValues {
			t.Fatal("more values than the cap")
		}
		for _, d := range e.ocsp {
			if _, err := ocspTBS(d); err != nil {
				t.Fatalf("kept an ocsp response that does not read: %v", err)
			}
		}
	})
}

// FuzzUnsignedAttributes feeds arbitrary bytes to the parsers of what CAdES-BASELINE-LT
// and -LTA add: the cutting of a signature into the elements an archive time-stamp covers
// (which must write back to what it read), the ats-hash-index-v3 of an archive time-stamp,
// the certificate-values and revocation-values attributes, and the archive time-stamp
// tokens themselves. They return data or an error, never panic.
func FuzzUnsignedAttributes(f *testing.F) {
	lta, index := seedLTA(f)
	f.Add(lta)
	f.Add(index)
	f.Add([]byte{0x30, 0x06, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00})
	f.Add([]byte{0x30, 0x08, 0xa1, 0x02, 0x30, 0x00, 0xa0, 0x02, 0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := splitCMS(b, "CAdES"); err == nil {
			again, err := p.encode()
			if err != nil {
				t.Fatalf("split signature does not encode: %v", err)
			}
			q, err := splitCMS(again, "CAdES")
			if err != nil {
				t.Fatalf("encoded signature does not split: %v", err)
			}
			if len(q.certs) != len(p.certs) || len(q.crls) != len(p.crls) || len(q.unsigned) != len(p.unsigned) ||
				!bytes.Equal(bytes.Join(q.siFields, nil), bytes.Join(p.siFields, nil)) {
				t.Fatal("encoding changed the elements")
			}
			_, _ = p.hashIndex(crypto.SHA256)
		}
		if idx, err := parseATSHashIndex(b); err == nil && !hashAllowed(idx.hash) && idx.hash != crypto.SHA1 {
			t.Fatalf("index with digest %v", idx.hash)
		}
		for _, oid := range []asn1.ObjectIdentifier{oidAttrCertValues, oidAttrRevocationValues} {
			certs, rev, err := validationValues(oid, b)
			if err == nil && (len(certs) > limits.MaxSignatureCertificates || len(rev) > limits.MaxSignatureRevocationValues) {
				t.Fatal("more values than the caps")
			}
		}
		_, _ = readArchives([][]byte{b})
	})
}

// seedLTA returns a CAdES-BASELINE-LTA signature and the ats-hash-index-v3 of its archive
// time-stamp.
func seedLTA(t testing.TB) (sig, index []byte) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Seed", Usage: dpitest.UsageSigning})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(cred.Key, cred.Chain, SignerOptions{Level: LevelLTA, TSAURL: pki.TSAURL, Roots: pki.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	sig, err = s.Sign(context.Background(), bytes.NewReader([]byte("seed")))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := parseCMS(sig)
	if err != nil || len(parsed.archives) != 1 {
		t.Fatal("seed is not lta", err)
	}
	archives, _ := readArchives(parsed.archives)
	if archives[0].err != nil {
		t.Fatal(archives[0].err)
	}
	return sig, archives[0].index
}

// FuzzParseJWSJSON feeds arbitrary text to the parser of JAdES in JSON serialization,
// flattened or general, and of its etsiU components (sigTst, xVals, rVals, arcTst,
// tstVD), base64url-encoded or in clear JSON: it returns a signature or an error, never
// panics, and keeps what it keeps within the caps of internal/limits; what each arcTst
// covers (canonicalised when in clear JSON) is then computed without a panic.
func FuzzParseJWSJSON(f *testing.F) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Seed", Usage: dpitest.UsageSigning})
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSigner(cred.Key, cred.Chain, SignerOptions{Format: JAdES, Level: LevelLTA, TSAURL: pki.TSAURL, Roots: pki.Pool()})
	if err != nil {
		f.Fatal(err)
	}
	sig, err := s.Sign(context.Background(), bytes.NewReader([]byte("seed")))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sig))
	// The general serialization (RFC 7515 §7.2.1): the same signature as the one element of
	// "signatures", with and without an empty payload, and what it must refuse.
	f.Add(`{"signatures":[` + string(sig) + `]}`)
	f.Add(`{"payload":"","signatures":[` + string(sig) + `]}`)
	f.Add(`{"signatures":[` + string(sig) + `,` + string(sig) + `]}`)
	f.Add(`{"signatures":[]}`)
	f.Add(`{"signatures":[{"protected":"","header":{"etsiU":[{"xVals":[]}]},"signature":""}],"signature":""}`)
	f.Add(`{"protected":"","header":{"etsiU":["eyJ4VmFscyI6W119"]},"signature":""}`)
	f.Add(`{"header":{"etsiU":[{"rVals":{"ocspVals":[{"val":"MAA="}]}}]}}`)
	f.Add(`{"protected":"","header":{"etsiU":[{"xVals":[]},{"arcTst":{"canonAlg":"urn:ietf:rfc:8785","tstTokens":[{"val":"MAA="}]}}]},"signature":""}`)
	f.Add(`{"protected":"","header":{"etsiU":["eyJ4VmFscyI6W119",{"arcTst":{"tstTokens":[{"val":"MAA="}]}}]},"signature":""}`)
	f.Fuzz(func(t *testing.T, in string) {
		js, u, err := parseJWSJSON([]byte(in))
		if err != nil {
			return
		}
		if js == nil || u == nil {
			t.Fatal("nil signature without error")
		}
		if len(u.raw) > limits.MaxSignedAttributes || len(u.certs) > limits.MaxSignatureCertificates ||
			len(u.sigTst)+len(u.archives) > limits.MaxSignatureTimestamps ||
			len(u.revocation.crls)+len(u.revocation.ocsp) > limits.MaxSignatureRevocationValues {
			t.Fatal("more than the caps")
		}
		if len(u.archivePos) != len(u.archives) || len(u.archiveAlgs) != len(u.archives) || len(u.sigTstPos) != len(u.sigTst) {
			t.Fatal("time-stamp positions lost")
		}
		if len(u.clear) != len(u.raw) {
			t.Fatal("element forms lost")
		}
		for i, p := range u.archivePos {
			if p < 0 || p >= len(u.raw) {
				t.Fatal("archive position out of range")
			}
			// What an arcTst covers is computed for any input, or refused with an error.
			_, _ = u.archiveCovered(p, u.archiveAlgs[i])
		}
	})
}
