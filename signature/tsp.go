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

// parseTSResponse keeps a panic in the third-party parser from reaching the caller:
// input from a TSA is untrusted.
func parseTSResponse(b []byte) (ts *timestamp.Timestamp, err error) {
	defer func() {
		if recover() != nil {
			ts, err = nil, fmt.Errorf("unparsable time-stamp response")
		}
	}()
	return timestamp.ParseResponse(b)
}

// parseTSToken is what timestamp.Parse does, on the token's SignedData read and verified
// once by parseSignedToken (which also checks that the signed content is a TSTInfo, RFC
// 3161 §2.4.2, as the library does not), with the TSTInfo read here.
func parseTSToken(b []byte, known ...*x509.Certificate) (*timestamp.Timestamp, *signedToken, error) {
	st, err := parseSignedToken(b, known...)
	if err != nil {
		return nil, nil, err
	}
	var inf tstInfo
	rest, err := asn1.Unmarshal(st.content, &inf)
	if err != nil || len(rest) != 0 {
		return nil, nil, fmt.Errorf("tstinfo is malformed")
	}
	if len(inf.MessageImprint.HashedMessage) == 0 {
		return nil, nil, fmt.Errorf("tstinfo has no hashed message")
	}
	ts := &timestamp.Timestamp{
		RawToken:      b,
		HashAlgorithm: hashFromOID(inf.MessageImprint.HashAlgorithm.Algorithm),
		HashedMessage: inf.MessageImprint.HashedMessage,
		Time:          inf.Time,
		Nonce:         inf.Nonce,
		SerialNumber:  inf.SerialNumber,
		Policy:        inf.Policy,
		Certificates:  st.certs,
	}
	return ts, st, nil
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

// checkTimestamp validates a signature time-stamp token over sigValue: its signature, its
// imprint, and its TSA certificate's chain (with the timeStamping extended key usage) to
// roots at the time it states. It returns that time and the TSA certificate's chain, the
// TSA certificate first.
func checkTimestamp(token, sigValue []byte, roots, intermediates *x509.CertPool) (time.Time, []*x509.Certificate, error) {
	return checkTimestampSkip(token, sigValue, roots, intermediates, nil, nil)
}

// checkTimestampSkip is checkTimestamp, with the token's certificates for which anchor
// returns true left out of the intermediates (see token.verifySkip), and those in known
// not parsed again (see parseSignedToken).
func checkTimestampSkip(token, sigValue []byte, roots, intermediates *x509.CertPool, anchor func(*x509.Certificate) bool,
	known []*x509.Certificate) (time.Time, []*x509.Certificate, error) {
	tok, err := parseToken(token, known...)
	if err != nil {
		return time.Time{}, nil, err
	}
	return tok.verifySkip(func(h crypto.Hash) ([]byte, error) { return digestOf(h, sigValue), nil }, roots, intermediates, anchor)
}

// token is a parsed RFC 3161 time-stamp token whose signature verifies with the
// certificate it carries; verify checks the rest.
type token struct {
	ts *timestamp.Timestamp
	st *signedToken
}

// parseToken parses and verifies a token's SignedData and reads its TSTInfo; a certificate
// of known is reused for the same DER (see parseSignedToken).
func parseToken(der []byte, known ...*x509.Certificate) (*token, error) {
	if len(der) > limits.MaxTSAResponse {
		// No real token is near this size; BER is rewritten to DER before it is read.
		return nil, fmt.Errorf("time-stamp token over %d bytes", limits.MaxTSAResponse)
	}
	ts, st, err := parseTSToken(der, known...)
	if err != nil {
		return nil, fmt.Errorf("time-stamp token: %v", err)
	}
	return &token{ts: ts, st: st}, nil
}

// verify checks the token's imprint against want(its digest algorithm), which returns
// the digest the token must carry, and its TSA certificate's chain to roots at the time it
// states. This is the one check of a time-stamp's own validity (EN 319 102-1 §5.4), for
// signature, archive and document time-stamps alike; a failure is a *tokenError, which
// says what a report of the token itself makes of it.
func (tok *token) verify(want func(crypto.Hash) ([]byte, error), roots, intermediates *x509.CertPool) (time.Time, []*x509.Certificate, error) {
	return tok.verifySkip(want, roots, intermediates, nil)
}

// verifySkip is verify, with the token's certificates for which anchor (when not nil)
// returns true left out of the intermediates: anchor names certificates known to be in
// roots, which crypto/x509 would otherwise try as a root and again as an intermediate,
// verifying the same signature twice for no other chain.
func (tok *token) verifySkip(want func(crypto.Hash) ([]byte, error), roots, intermediates *x509.CertPool,
	anchor func(*x509.Certificate) bool) (time.Time, []*x509.Certificate, error) {
	ts, st := tok.ts, tok.st
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
	tsa := st.onlySigner()
	if tsa == nil {
		return time.Time{}, nil, &tokenError{Indeterminate, NoSigningCertificateFound, "time-stamp token has no single signer"}
	}
	// parseSignedToken checks the token's signature with whatever digest it names, SHA-1
	// included.
	si := st.signers[0]
	if !hashAllowed(hashFromOID(si.digestAlg)) || !tokenSignatureAlgorithmAllowed(si.sigAlg) {
		return time.Time{}, nil, &tokenError{Indeterminate, CryptoConstraintsFailure, "time-stamp token signature algorithm is not allowed"}
	}
	if err := timeStampingOnly(tsa); err != nil {
		return time.Time{}, nil, &tokenError{Indeterminate, ChainConstraintsFailure, "time-stamp authority certificate: " + err.Error()}
	}
	pool := x509.NewCertPool()
	if intermediates != nil {
		pool = intermediates.Clone()
	}
	for _, c := range st.certs {
		if anchor == nil || !anchor(c) {
			pool.AddCert(c)
		}
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
