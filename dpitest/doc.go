// Package dpitest runs real protocol peers on loopback, for dpi's own tests and for anyone
// who tests a service built on dpi without a national certification authority, time-stamp
// authority or identity provider at hand. Nothing here is a mock: each peer speaks the
// standard protocol over HTTP (net/http/httptest), so the code under test runs exactly the
// path it runs in production, and independent tools (openssl) accept what the peers produce.
//
// # Test PKI
//
// [StartPKI] creates a root CA and an intermediate CA and serves, on one loopback address:
//
//   - an OCSP responder (RFC 6960 §2 and Appendix A, POST and GET) answering good, revoked or
//     unknown, signed by the issuing CA or, with [PKIOptions.DelegatedOCSP], by a delegated
//     responder (§4.2.2.2);
//   - CRLs (RFC 5280 §5), one per CA;
//   - an RFC 3161 time-stamp authority (§2.4 messages, §3.4 HTTP transport) whose tokens carry
//     the ESS signing-certificate-v2 attribute (RFC 5816) and the policy [TSAPolicyOID].
//
// [PKI.Issue] issues end-entity certificates (with fresh keys; [PKI.IssueFor] for a key held
// elsewhere, such as an HSM) from the intermediate for signing
// (digitalSignature and nonRepudiation), TLS servers (serverAuth, loopback SANs) and
// time-stamping (critical id-kp-timeStamping, RFC 3161 §2.3), each carrying the OCSP and
// CRL URLs; [CertOptions.IsCA] misissues one as a CA certificate (basicConstraints cA TRUE)
// for tests that it is refused, and [CertOptions.NoRevocationURLs] leaves the URLs out.
// [PKI.Revoke] revokes one; [PKI.SetOCSPAvailable] and [PKI.SetCRLAvailable] take the
// responder and the CRL distribution points down to test a verifier's "try later" path.
// [PKI.OCSPResponse], [PKI.CRL] and [PKI.RootCRL] hand out the same revocation data the
// servers give (DER; [CRLPEM] for PEM), for a verifier that is given it instead of
// fetching it. [PKIOptions.Now] sets the clock of
// every date the PKI writes, so tests can build expired, not-yet-valid or back-dated
// material; with a [Clock] a test travels in time: it signs in 2026 and validates in 2036.
// [PKIOptions.TSAValidity] makes the time-stamp authority's certificate expire early, and
// [PKIOptions.CAValidity] keeps the CAs alive for decades; [PKI.AddTSA] starts a further
// time-stamp authority (an archive TSA, or one made after the clock has travelled, to
// renew archive time-stamps).
//
//	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
//	if err != nil { ... }
//	defer pki.Close()
//	signer, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency", Usage: dpitest.UsageSigning})
//	// signer.Key is a crypto.Signer, signer.Chain the path to pki.Root (root excluded).
//
// # Test national identity provider
//
// [StartIdP] runs a test national eID identity provider (OpenID Connect discovery, JWKS
// with key rotation, authorization and token endpoints with PKCE and private_key_jwt); see
// [IdP] and [IdPOptions].
//
// # What it does not do
//
// Keys live in memory and are generated fresh on every start; nothing is persisted and
// nothing is meant to be trusted outside a test. The TSA refuses SHA-1 message imprints. OCSP
// responses carry no nonce extension and their producedAt is the wall clock, not
// [PKIOptions.Now] (golang.org/x/crypto/ocsp decides both); so is the CMS signing-time
// attribute of a time-stamp token (digitorus/pkcs7), which is why the TSA's and the CAs'
// certificates cover both clocks. The responder answers only for its own two CAs.
package dpitest
