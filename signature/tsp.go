package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"

	"github.com/dpiblocks/dpi/internal/limits"
)

// tsaClient asks an RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4).
type tsaClient struct {
	url    string
	client *http.Client
}

func newTSAClient(rawURL string, c *http.Client) (*tsaClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: tsa url must be http or https", ErrTimestamp)
	}
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	return &tsaClient{url: u.String(), client: c}, nil
}

// stamp returns a time-stamp token over the signature value (EN 319 122-1 §5.3: the imprint
// is the hash of the SignerInfo signature field's value), after checking that the reply
// answers this request: same imprint, same nonce, a token signed by a certificate it carries.
func (t *tsaClient) stamp(ctx context.Context, sigValue []byte) ([]byte, error) {
	return t.stampImprint(ctx, crypto.SHA256, digestOf(crypto.SHA256, sigValue))
}

// stampImprint asks for a time-stamp token over imprint, a digest made with h.
func (t *tsaClient) stampImprint(ctx context.Context, h crypto.Hash, imprint []byte) ([]byte, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req := timestamp.Request{HashAlgorithm: h, HashedMessage: imprint, Certificates: true, Nonce: nonce}
	body, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: request: %v", ErrTimestamp, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	hreq.Header.Set("Accept", "application/timestamp-reply")
	resp, err := t.client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: tsa answered http %d", ErrTimestamp, resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limits.MaxTSAResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading reply: %v", ErrTimestamp, err)
	}
	if len(raw) > limits.MaxTSAResponse {
		return nil, fmt.Errorf("%w: reply over %d bytes", ErrTimestamp, limits.MaxTSAResponse)
	}
	ts, err := parseTSResponse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	switch {
	case ts.HashAlgorithm != h || !bytes.Equal(ts.HashedMessage, imprint):
		return nil, fmt.Errorf("%w: token imprint does not match the request", ErrTimestamp)
	case ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0:
		return nil, fmt.Errorf("%w: token nonce does not match the request", ErrTimestamp)
	case len(ts.Certificates) == 0:
		return nil, fmt.Errorf("%w: token carries no tsa certificate", ErrTimestamp)
	}
	return ts.RawToken, nil
}

// parseTSResponse and parseTSToken keep a panic in the third-party parsers from reaching
// the caller: input from a TSA or inside a signature is untrusted.
func parseTSResponse(b []byte) (ts *timestamp.Timestamp, err error) {
	defer func() {
		if recover() != nil {
			ts, err = nil, fmt.Errorf("unparsable time-stamp response")
		}
	}()
	return timestamp.ParseResponse(b)
}

func parseTSToken(b []byte) (ts *timestamp.Timestamp, p7 *pkcs7.PKCS7, err error) {
	defer func() {
		if recover() != nil {
			ts, p7, err = nil, nil, fmt.Errorf("unparsable time-stamp token")
		}
	}()
	// What timestamp.Parse does, on one pkcs7 parse instead of two (the parse, and its
	// BER-to-DER rewrite, is the larger part of a token's cost), and with the content type
	// checked: the signed content must be a TSTInfo (RFC 3161 §2.4.2).
	if p7, err = pkcs7.Parse(b); err != nil {
		return nil, nil, err
	}
	if len(p7.Certificates) == 0 {
		return nil, nil, fmt.Errorf("time-stamp token carries no tsa certificate")
	}
	if parts, err := splitCMS(b, "time-stamp token"); err == nil && !bytes.Equal(parts.eContentType, oidTSTInfoDER) {
		return nil, nil, fmt.Errorf("signed content is not a tstinfo")
	}
	// Verify checks the token's signature with the certificate it carries.
	if err = p7.Verify(); err != nil {
		return nil, nil, err
	}
	var inf tstInfo
	rest, err := asn1.Unmarshal(p7.Content, &inf)
	if err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("tstinfo is malformed")
	}
	if len(inf.MessageImprint.HashedMessage) == 0 {
		return nil, nil, fmt.Errorf("tstinfo has no hashed message")
	}
	ts = &timestamp.Timestamp{
		RawToken:      b,
		HashAlgorithm: hashFromOID(inf.MessageImprint.HashAlgorithm.Algorithm),
		HashedMessage: inf.MessageImprint.HashedMessage,
		Time:          inf.Time,
		Nonce:         inf.Nonce,
		SerialNumber:  inf.SerialNumber,
		Policy:        inf.Policy,
		Certificates:  p7.Certificates,
	}
	return ts, p7, nil
}

// tstInfo is RFC 3161 §2.4.2 TSTInfo, as far as this package reads it.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	Time         time.Time `asn1:"generalized"`
	Accuracy     struct {
		Seconds      int64 `asn1:"optional"`
		Milliseconds int64 `asn1:"tag:0,optional"`
		Microseconds int64 `asn1:"tag:1,optional"`
	} `asn1:"optional"`
	Ordering   bool             `asn1:"optional,default:false"`
	Nonce      *big.Int         `asn1:"optional"`
	TSA        asn1.RawValue    `asn1:"tag:0,optional"`
	Extensions []pkix.Extension `asn1:"tag:1,optional"`
}

// oidTSTInfoDER is the DER of id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4).
var oidTSTInfoDER = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04}

// checkTimestamp validates a signature time-stamp token over sigValue: its signature, its
// imprint, and its TSA certificate's chain (with the timeStamping extended key usage) to
// roots at the time it states. It returns that time and the TSA certificate's chain, the
// TSA certificate first.
func checkTimestamp(token, sigValue []byte, roots, intermediates *x509.CertPool) (time.Time, []*x509.Certificate, error) {
	tok, err := parseToken(token)
	if err != nil {
		return time.Time{}, nil, err
	}
	return tok.verify(func(h crypto.Hash) ([]byte, error) { return digestOf(h, sigValue), nil }, roots, intermediates)
}

// token is a parsed RFC 3161 time-stamp token whose signature verifies with the
// certificate it carries; verify checks the rest.
type token struct {
	ts *timestamp.Timestamp
	p7 *pkcs7.PKCS7
}

func parseToken(der []byte) (*token, error) {
	if len(der) > limits.MaxTSAResponse {
		// digitorus/pkcs7 rewrites BER recursively: a few MiB of nested indefinite
		// lengths cost seconds and a hundred MiB. No real token is near this size.
		return nil, fmt.Errorf("time-stamp token over %d bytes", limits.MaxTSAResponse)
	}
	ts, p7, err := parseTSToken(der)
	if err != nil {
		return nil, fmt.Errorf("time-stamp token: %v", err)
	}
	return &token{ts: ts, p7: p7}, nil
}

// verify checks the token's imprint against want(its digest algorithm), which returns
// the digest the token must carry, and its TSA certificate's chain to roots at the time it
// states. This is the one check of a time-stamp's own validity (EN 319 102-1 §5.4), for
// signature, archive and document time-stamps alike; a failure is a *tokenError, which
// says what a report of the token itself makes of it.
func (tok *token) verify(want func(crypto.Hash) ([]byte, error), roots, intermediates *x509.CertPool) (time.Time, []*x509.Certificate, error) {
	ts, p7 := tok.ts, tok.p7
	if len(ts.Certificates) == 0 {
		return time.Time{}, nil, &tokenError{Indeterminate, NoSigningCertificateFound, "time-stamp token carries no tsa certificate"}
	}
	if !hashAllowed(ts.HashAlgorithm) {
		return time.Time{}, nil, &tokenError{Indeterminate, CryptoConstraintsFailure, fmt.Sprintf("time-stamp imprint digest %v is not allowed", ts.HashAlgorithm)}
	}
	expected, err := want(ts.HashAlgorithm)
	if err != nil {
		return time.Time{}, nil, err
	}
	if !bytes.Equal(ts.HashedMessage, expected) {
		return time.Time{}, nil, &tokenError{TotalFailed, HashFailure, "time-stamp imprint does not match the time-stamped data"}
	}
	tsa := p7.GetOnlySigner()
	if tsa == nil {
		return time.Time{}, nil, &tokenError{Indeterminate, NoSigningCertificateFound, "time-stamp token has no single signer"}
	}
	// pkcs7 checks the token's signature with whatever digest it names, SHA-1 included.
	si := p7.Signers[0]
	if !hashAllowed(hashFromOID(si.DigestAlgorithm.Algorithm)) || !tokenSignatureAlgorithmAllowed(si.DigestEncryptionAlgorithm.Algorithm) {
		return time.Time{}, nil, &tokenError{Indeterminate, CryptoConstraintsFailure, "time-stamp token signature algorithm is not allowed"}
	}
	if err := timeStampingOnly(tsa); err != nil {
		return time.Time{}, nil, &tokenError{Indeterminate, ChainConstraintsFailure, "time-stamp authority certificate: " + err.Error()}
	}
	pool := x509.NewCertPool()
	if intermediates != nil {
		pool = intermediates.Clone()
	}
	for _, c := range p7.Certificates {
		pool.AddCert(c)
	}
	chains, err := tsa.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: pool, CurrentTime: ts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil {
		return time.Time{}, nil, &tokenError{Indeterminate, NoCertificateChainFound, "time-stamp authority certificate: " + err.Error()}
	}
	if err := chainKeyPolicy(chains[0]); err != nil {
		return time.Time{}, nil, &tokenError{Indeterminate, CryptoConstraintsFailure, "time-stamp authority chain: " + err.Error()}
	}
	return ts.Time.UTC(), chains[0], nil
}

// tokenError is why a time-stamp does not count, with the indication a report of the
// time-stamp itself (a PAdES document time-stamp) gives it.
type tokenError struct {
	ind Indication
	sub SubIndication
	msg string
}

func (e *tokenError) Error() string { return e.msg }

// tokenSignatureAlgorithmAllowed is the allow-list of SignerInfo signature algorithms for
// time-stamp tokens: none of them names SHA-1 or MD5.
func tokenSignatureAlgorithmAllowed(oid asn1.ObjectIdentifier) bool {
	for _, a := range []asn1.ObjectIdentifier{oidRSAEncryption, oidSHA256WithRSA, oidSHA384WithRSA, oidSHA512WithRSA,
		oidECPublicKey, oidECDSAWithS256, oidECDSAWithS384, oidECDSAWithS512, oidEd25519} {
		if a.Equal(oid) {
			return true
		}
	}
	return false
}

var oidExtExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// timeStampingOnly applies RFC 3161 §2.3: the TSA certificate has one extended key usage,
// id-kp-timeStamping, in a critical extension. crypto/x509 only checks that the purpose is
// present, so a certificate for any purpose that also lists timeStamping would pass.
func timeStampingOnly(c *x509.Certificate) error {
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0 {
		return fmt.Errorf("extended key usage must be id-kp-timestamping only")
	}
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtExtKeyUsage) && !e.Critical {
			return fmt.Errorf("extended key usage extension must be critical")
		}
	}
	return nil
}
