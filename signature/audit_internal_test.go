package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
)

// A certificate issued for another purpose (a TSA, a TLS server), or a CA certificate,
// must not make a document signature that validates, even from the same trusted CA and
// with a digitalSignature key usage. The Signer is built by hand because NewSigner refuses
// such certificates too.
func TestSigningCertificatePurpose(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	tls, err := pki.Issue(dpitest.CertOptions{CommonName: "www.agency.example", Usage: dpitest.UsageTLS})
	require.NoError(t, err)
	signing, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	ca, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency CA", Usage: dpitest.UsageSigning, IsCA: true})
	require.NoError(t, err)
	tests := []struct {
		name  string
		cred  *dpitest.Credential
		ok    bool
		check string // the CertificateError check NewSigner names
	}{
		{"document signer", signing, true, ""},
		{"tls server", tls, false, "extKeyUsage"},
		{"time-stamping authority", pki.TSA(), false, "extKeyUsage"},
		{"ca certificate with signing key usage", ca, false, "basicConstraints"},
	}
	doc := []byte("document")
	for _, tc := range tests {
		for _, format := range []Format{CAdES, JAdES} {
			t.Run(tc.name+"/"+string(format), func(t *testing.T) {
				s := &Signer{key: tc.cred.Key, chain: tc.cred.Chain, format: format, hash: crypto.SHA256, now: time.Now}
				sig, err := s.Sign(context.Background(), bytes.NewReader(doc))
				require.NoError(t, err)
				r, err := Validate(context.Background(), bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool()})
				require.NoError(t, err)
				_, newErr := NewSigner(tc.cred.Key, tc.cred.Chain, SignerOptions{Format: format})
				if tc.ok {
					assert.Equal(t, TotalPassed, r.Indication, r.Errors)
					assert.NoError(t, newErr)
					return
				}
				assert.Equal(t, Indeterminate, r.Indication, r.Errors)
				assert.Equal(t, ChainConstraintsFailure, r.SubIndication)
				assert.ErrorIs(t, newErr, ErrCertificate)
				var ce *CertificateError
				require.ErrorAs(t, newErr, &ce)
				assert.Equal(t, tc.check, ce.Check)
			})
		}
	}
}

// A protected header member that differs from a known one only in case (or by Unicode
// folding) is refused: encoding/json would read it as that member, other JOSE libraries
// would not.
func TestJWSHeaderCaseVariants(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	thumb := sha256.Sum256(cred.Cert.Raw)
	x5c, err := json.Marshal([]string{base64.StdEncoding.EncodeToString(cred.Cert.Raw), base64.StdEncoding.EncodeToString(cred.Chain[1].Raw)})
	require.NoError(t, err)
	common := fmt.Sprintf(`"alg":"ES256","crit":["b64"],"x5t#S256":%q,"x5c":%s,"iat":%d`,
		encodeSeg(thumb[:]), x5c, time.Now().Unix())
	doc := []byte("document")
	for _, tc := range []struct {
		name, header string
		ok           bool
	}{
		{"plain", `{"b64":false,` + common + `}`, true},
		{"b64 true then B64 false", `{"b64":true,` + common + `,"B64":false}`, false},
		{"folded sigT", `{"b64":false,` + common + `,"ſigT":"2020-01-01T00:00:00Z"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := encodeSeg([]byte(tc.header))
			d := sha256.Sum256(append([]byte(enc+"."), doc...))
			sv, err := signJWSDigest(cred.Key, jwsAlgs["ES256"], d[:])
			require.NoError(t, err)
			sig := []byte(enc + ".." + encodeSeg(sv))
			r, err := Validate(context.Background(), bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool()})
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, TotalPassed, r.Indication, r.Errors)
				return
			}
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// cadesWithAttributes signs doc with key under hand-made signed attributes: content-type,
// signing-time, message-digest, then extra (each a DER Attribute), naming chain[0] as the
// signer.
func cadesWithAttributes(t *testing.T, key crypto.Signer, chain []*x509.Certificate, doc []byte, extra ...[]byte) []byte {
	t.Helper()
	attr := func(oid asn1.ObjectIdentifier, value func(b *cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.BytesOrPanic()
	}
	digest := sha256.Sum256(doc)
	elems := [][]byte{
		attr(oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }),
		attr(oidAttrSigningTime, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(time.Now().UTC().Truncate(time.Second)) }),
		attr(oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest[:]) }),
	}
	elems = append(elems, extra...)
	attrs, err := derSetOf(elems)
	require.NoError(t, err)
	sigAlg, err := cmsSignatureAlgorithm(key.Public(), crypto.SHA256)
	require.NoError(t, err)
	sv, err := signDigest(key, crypto.SHA256, attrs, false)
	require.NoError(t, err)
	sig, err := buildSignedData(crypto.SHA256, sigAlg, attrs, sv, chain, nil)
	require.NoError(t, err)
	return sig
}

// signingCertificateV1 encodes a signing-certificate attribute (RFC 2634 §5.4) naming c.
func signingCertificateV1Attr(c *x509.Certificate) []byte {
	h := sha1.Sum(c.Raw)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidAttrSigningCertV1)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(h[:]) })
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// A signing-certificate (v1) reference binds the signer as v2 does: a second certificate
// the CA issued for the same key (another name) must not take the signer's place.
func TestSigningCertificateV1Binds(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	clerk, err := pki.Issue(dpitest.CertOptions{CommonName: "Clerk", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	minister, err := pki.IssueFor(clerk.Key.Public(), dpitest.CertOptions{CommonName: "Minister", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	doc := []byte("decree")
	for _, tc := range []struct {
		name   string
		chain  []*x509.Certificate
		passes bool
	}{
		{"v1 names the signer", []*x509.Certificate{clerk.Cert, pki.Intermediate}, true},
		{"v1 names another certificate for the key", []*x509.Certificate{minister, pki.Intermediate}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := cadesWithAttributes(t, clerk.Key, tc.chain, doc, signingCertificateV1Attr(clerk.Cert))
			r, err := Validate(context.Background(), bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool()})
			require.NoError(t, err)
			if tc.passes {
				assert.Equal(t, TotalPassed, r.Indication, r.Errors)
				return
			}
			assert.Equal(t, Indeterminate, r.Indication, r.Errors)
			assert.Equal(t, NoSigningCertificateFound, r.SubIndication)
		})
	}
}

// A time-stamp token is parsed by digitorus/pkcs7, whose BER rewriting is recursive: a
// token of megabytes of nested indefinite lengths is refused before it reaches it.
func TestOversizedTimestampTokenIgnored(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	const depth = 1 << 20
	token := append(bytes.Repeat([]byte{0x30, 0x80}, depth), make([]byte, 2*depth)...)
	v := &validation{ctx: context.Background(), policy: &Policy{Roots: pki.Pool()},
		report: &Report{BestSignatureTime: time.Now()}}
	v.timestamp(token, []byte("signature value"), []*x509.Certificate{cred.Cert}, time.Now())
	require.NotNil(t, v.report.Timestamp)
	assert.False(t, v.report.Timestamp.Valid)
	assert.Contains(t, v.report.Timestamp.Reason, "time-stamp token over")
}

// Each of content-type, message-digest and signing-time appears once with one value: a
// second message-digest (say, of another document) makes the signature unusable rather
// than letting one of the two be chosen.
func TestCAdESAttributeMultiplicity(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	doc, other := []byte("decree"), []byte("another decree")
	od := sha256.Sum256(other)
	dd := sha256.Sum256(doc)
	attr := func(oid asn1.ObjectIdentifier, values ...[]byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, v := range values {
					b.AddASN1OctetString(v)
				}
			})
		})
		return b.BytesOrPanic()
	}
	v2 := func() []byte {
		// signing-certificate-v2 as NewSigner writes it, taken from a real signature.
		attrs, err := buildSignedAttributes(dd[:], time.Now(), cred.Cert)
		require.NoError(t, err)
		parsed, err := parseAttributes(setContent(attrs))
		require.NoError(t, err)
		for _, a := range parsed {
			if a.Type.Equal(oidAttrSigningCertV2) {
				var b cryptobyte.Builder
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidAttrSigningCertV2)
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(a.values[0]) })
				})
				return b.BytesOrPanic()
			}
		}
		t.Fatal("no signing-certificate-v2")
		return nil
	}()
	for _, tc := range []struct {
		name  string
		extra [][]byte
		want  Indication
	}{
		{"well-formed", [][]byte{v2}, TotalPassed},
		{"second message-digest attribute", [][]byte{v2, attr(oidAttrMessageDigest, od[:])}, TotalFailed},
		{"second message-digest value", [][]byte{v2, attr(oidAttrMessageDigest, od[:], dd[:])}, TotalFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := cadesWithAttributes(t, cred.Key, cred.Chain, doc, tc.extra...)
			for _, d := range [][]byte{doc, other} {
				r, err := Validate(context.Background(), bytes.NewReader(d), sig, &Policy{Roots: pki.Pool()})
				require.NoError(t, err)
				if tc.want == TotalPassed && bytes.Equal(d, doc) {
					assert.Equal(t, TotalPassed, r.Indication, r.Errors)
					continue
				}
				assert.Equal(t, TotalFailed, r.Indication, r.Errors)
			}
		})
	}
}

// issuerSerialDER encodes an IssuerSerial (RFC 5035 §4) naming the certificate with the
// given serial number issued under the given DER name, in names GeneralName entries (a
// directoryName for each name).
func issuerSerialDER(serial *big.Int, names ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
			for _, n := range names {
				b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(n) })
			}
		})
		b.AddASN1BigInt(serial)
	})
	return b.BytesOrPanic()
}

// signingCertificateAttr encodes a signing-certificate-v2 (RFC 5035 §3, SHA-256 by
// default) or, for v1, a signing-certificate (RFC 2634 §5.4, SHA-1) attribute whose
// ESSCertID holds c's hash and issuerSerial, if not nil, as it is.
func signingCertificateAttr(v1 bool, c *x509.Certificate, issuerSerial []byte) []byte {
	oid, hash := oidAttrSigningCertV2, sha256.Sum256(c.Raw)
	certHash := hash[:]
	if v1 {
		h := sha1.Sum(c.Raw)
		oid, certHash = oidAttrSigningCertV1, h[:]
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificate(V2)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertID(v2)
						b.AddASN1OctetString(certHash)
						if issuerSerial != nil {
							b.AddBytes(issuerSerial)
						}
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// The issuerSerial of a signing certificate reference is checked when present (RFC 5035
// §3, RFC 2634 §5.4.1): a reference with the signer's hash that names another certificate
// by issuer and serial number is contradictory and must not pass.
func TestSigningCertificateIssuerSerial(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	other, err := pki.Issue(dpitest.CertOptions{CommonName: "Other", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	c := cred.Cert
	doc := []byte("decree")
	tests := []struct {
		name         string
		issuerSerial []byte
		ind          Indication
		sub          SubIndication
	}{
		{"absent", nil, TotalPassed, ""},
		{"names the signer", issuerSerialDER(c.SerialNumber, c.RawIssuer), TotalPassed, ""},
		{"another serial number", issuerSerialDER(other.Cert.SerialNumber, c.RawIssuer), Indeterminate, NoSigningCertificateFound},
		{"another issuer", issuerSerialDER(c.SerialNumber, pki.Intermediate.RawIssuer), Indeterminate, NoSigningCertificateFound},
		{"the issuer among other names", issuerSerialDER(c.SerialNumber, pki.Intermediate.RawIssuer, c.RawIssuer), Indeterminate, NoSigningCertificateFound},
		{"no issuer name", issuerSerialDER(c.SerialNumber), Indeterminate, NoSigningCertificateFound},
		{"malformed", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, TotalFailed, FormatFailure},
	}
	for _, tc := range tests {
		for _, v1 := range []bool{false, true} {
			name := tc.name + "/signing-certificate-v2"
			if v1 {
				name = tc.name + "/signing-certificate"
			}
			t.Run(name, func(t *testing.T) {
				sig := cadesWithAttributes(t, cred.Key, cred.Chain, doc, signingCertificateAttr(v1, c, tc.issuerSerial))
				r, err := Validate(context.Background(), bytes.NewReader(doc), sig, &Policy{Roots: pki.Pool()})
				require.NoError(t, err)
				assert.Equal(t, tc.ind, r.Indication, r.Errors)
				assert.Equal(t, tc.sub, r.SubIndication)
			})
		}
	}
}

// The JAdES kid header parameter, when present, is a base64 DER IssuerSerial (TS 119 182-1
// §5.1.4): one that names another certificate than x5t#S256 and x5c[0] must not pass. A kid
// that is not an IssuerSerial names no certificate: it is ignored with a warning.
func TestJAdESKidIssuerSerial(t *testing.T) {
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer pki.Close()
	cred, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	other, err := pki.Issue(dpitest.CertOptions{CommonName: "Other", Usage: dpitest.UsageSigning})
	require.NoError(t, err)
	c := cred.Cert
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	thumb := sha256.Sum256(c.Raw)
	x5c, err := json.Marshal([]string{b64(c.Raw), b64(cred.Chain[1].Raw)})
	require.NoError(t, err)
	doc := []byte("decree")
	tests := []struct {
		name string
		kid  string
		ind  Indication
		sub  SubIndication
		warn bool
	}{
		{"absent", "", TotalPassed, "", false},
		{"names the signer", b64(issuerSerialDER(c.SerialNumber, c.RawIssuer)), TotalPassed, "", false},
		{"another serial number", b64(issuerSerialDER(other.Cert.SerialNumber, c.RawIssuer)), Indeterminate, NoSigningCertificateFound, false},
		{"another issuer", b64(issuerSerialDER(c.SerialNumber, pki.Intermediate.RawIssuer)), Indeterminate, NoSigningCertificateFound, false},
		{"not an issuerSerial", "signing-key-1", TotalPassed, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := fmt.Sprintf(`{"alg":"ES256","b64":false,"crit":["b64"],"x5t#S256":%q,"x5c":%s,"iat":%d`,
				encodeSeg(thumb[:]), x5c, time.Now().Unix())
			if tc.kid != "" {
				header += fmt.Sprintf(`,"kid":%q`, tc.kid)
			}
			enc := encodeSeg([]byte(header + "}"))
			d := sha256.Sum256(append([]byte(enc+"."), doc...))
			sv, err := signJWSDigest(cred.Key, jwsAlgs["ES256"], d[:])
			require.NoError(t, err)
			r, err := Validate(context.Background(), bytes.NewReader(doc), []byte(enc+".."+encodeSeg(sv)), &Policy{Roots: pki.Pool()})
			require.NoError(t, err)
			assert.Equal(t, tc.ind, r.Indication, r.Errors)
			assert.Equal(t, tc.sub, r.SubIndication)
			assert.Equal(t, tc.warn, len(r.Warnings) > 0, r.Warnings)
		})
	}
}
