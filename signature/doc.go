// Package signature signs documents and validates signatures over them: detached CAdES
// (CMS) and JAdES (JWS) signatures, RFC 3161 signature time-stamps, certificate chains to
// the caller's trust anchors, revocation by OCSP and CRL, and a validation report with the
// indications of ETSI EN 319 102-1.
//
// # Signing
//
// A [Signer] holds one key (any [crypto.Signer]: a file, a PKCS #11 token, a cloud KMS)
// and its certificate chain. [NewSigner] checks the pair, the certificate's fitness to sign
// documents (the constraints Validate applies; a refusal is a [*CertificateError]), its
// validity and the algorithm policy once; [Signer.Sign] checks the certificate again at
// the signing time (not expired, not yet valid and, unless [SignerOptions.SkipRevocationCheckUnsafe],
// not revoked, found as Validate finds it, from the CRLs and OCSP responses given first;
// an unknown status is [ErrRevocationUnknown]), then reads a document and returns a
// detached signature:
//
//   - CAdES-BASELINE-B (ETSI EN 319 122-1 §6.3): a DER CMS SignedData (RFC 5652 §5) with no
//     encapsulated content, the chain in certificates, and the signed attributes
//     content-type (id-data), signing-time, message-digest and signing-certificate-v2
//     (RFC 5035 §3, SHA-256 certificate hash with issuer and serial). RSA PKCS #1 v1.5
//     (rsaEncryption, RFC 3370 §3.2), ECDSA P-256/P-384/P-521 (RFC 5758 §3.2) and Ed25519
//     (RFC 8419, with SHA-512).
//   - CAdES-BASELINE-T (EN 319 122-1 §6.3, §5.3): the same with a signature time-stamp
//     (id-aa-signatureTimeStampToken) from [SignerOptions.TSAURL], over the hash of the
//     signature value; the reply's imprint, nonce and signature are checked before use.
//   - CAdES-BASELINE-LT (EN 319 122-1 §6.3, [LevelLT]): the same with the validation data
//     in the SignedData: in certificates, the signer's and the TSA's chains to
//     [SignerOptions.Roots], trust anchors included; in crls, for every other certificate
//     of both chains, the OCSP response (an OtherRevocationInfoFormat id-ri-ocsp-response,
//     RFC 5940 §2, which makes the SignedData version 5, RFC 5652 §5.1) or the CRL
//     (CertificateList) that showed it not revoked at signing, fetched after the
//     time-stamp or taken from SignerOptions.CRLs and OCSPResponses. A certificate of
//     either chain that is revoked, or whose status cannot be found, refuses the
//     signature. [SignerOptions.Level] picks the level; empty, it is B-T with a TSA URL and
//     B-B without.
//   - CAdES-BASELINE-LTA (EN 319 122-1 §5.5.3, §6.5, [LevelLTA]): B-LT, then an
//     archive-time-stamp-v3 unsigned attribute (0.4.0.1733.2.4) over the document's hash,
//     the eContentType, the SignerInfo fields from version to signature and an
//     ats-hash-index-v3 (0.4.0.19122.1.5: the hashes of every certificate, revocation value
//     and unsigned attribute value, each attribute value hashed with its attrType), which is
//     added to the token's own unsigned attributes; then the archive TSA's chain and its
//     revocation data go into certificates and crls, where a later archive time-stamp
//     covers them. [Extend] reaches T, LT or LTA from a signature made by any tool, and
//     renews an LTA signature with a further archive time-stamp.
//   - JAdES-BASELINE-B (ETSI TS 119 182-1 §6.2.1): a compact JWS with a detached,
//     unencoded payload (RFC 7797: b64 false, crit ["b64","sigT"]), and the protected
//     header parameters x5t#S256, x5c, and the claimed signing time in both iat (TS 119
//     182-1 v1.2.1) and sigT (v1.1.1), the same second, so that validators of either
//     version read it. ES256/ES384/ES512, PS256/PS384/PS512 for RSA keys, EdDSA.
//   - JAdES-BASELINE-T, -LT and -LTA (TS 119 182-1 §5.3): the same protected header and
//     signature in the flattened JSON serialization (RFC 7515 §7.2.2, payload detached),
//     whose unprotected header holds only etsiU: base64url-encoded components sigTst,
//     xVals and rVals, arcTst (imprint over the payload, the header, the signature and
//     the earlier components, §5.3.6.3.1) and tstVD, the archive TSA's data.
//
// Validate and Extend also read JAdES in the general JSON serialization (RFC 7515 §7.2.1,
// which EU DSS writes by default): the same members as the flattened form, in the one
// element of a "signatures" array. A document with both "signatures" and a top-level
// protected, header or signature is refused (§7.2.2), and so is one with no signature or
// several, as a CMS with several signers is; the payload is detached in both forms (no
// "payload" member, or an empty one). Extend writes a general signature back in the
// general form.
//
// The digest is SHA-256 (SHA-384 for P-384, SHA-512 for P-521 and Ed25519) unless
// [SignerOptions.Hash] says otherwise; SHA-1 is never used, RSA keys under 2048 bits are
// refused.
//
// # Keys
//
// [LoadPrivateKey] reads PEM or DER keys (PKCS #8, encrypted PKCS #8, PKCS #1, SEC 1),
// [LoadPKCS12] a PKCS #12 file, [LoadCertificates] a chain; [OpenPKCS11] opens a key that
// stays in an HSM, named by an RFC 7512 pkcs11: URI. All give a [crypto.Signer] for
// [NewSigner].
//
// # Streaming
//
// A document never has to fit in memory. Past its first 256 KiB it is read ahead in 1 MiB
// chunks on a second goroutine (at most 3 MiB in flight), so that reading overlaps hashing;
// if the context is cancelled, a read already in progress may finish after Sign or
// Validate returns. For CAdES the document is hashed as it streams,
// and only the digest enters the message-digest signed attribute; the key signs the few
// hundred bytes of DER signed attributes. The CMS structures are built and parsed here with
// encoding/asn1 and cryptobyte, because github.com/digitorus/pkcs7 hashes content it holds
// whole. For JAdES with ECDSA or RSA, the JWS signing input (the encoded header, a dot, then
// the raw document, RFC 7797 §3) is hashed as it streams and the key signs that digest.
// go-jose, which this module uses elsewhere, is not used for JAdES: it needs the payload in
// memory, and it refuses any critical header but b64, while JAdES marks sigT critical.
// Pure Ed25519 cannot sign a digest, so an EdDSA JAdES document is held in memory, up to
// limits.MaxBufferedPayload (64 MiB); use CAdES for larger documents with Ed25519 keys.
//
// # Validation
//
// [Validate] detects the format, streams the document, and returns a [Report]. Nothing is
// trusted by default: a [Policy] must name its Roots. The checks follow the basic signature
// validation of ETSI EN 319 102-1 §5.3 and the validation with time of §5.5:
//
//   - format (§5.2.2, EN 319 122-1 §5.2): one signer, id-data content, content-type,
//     message-digest, signing-time and signing-certificate-v2 present once with one value
//     (iat or sigT, agreeing, and x5t#S256 for JAdES): else TOTAL_FAILED/FORMAT_FAILURE;
//   - the signing certificate (§5.2.3) found by the signer identifier and bound by
//     signing-certificate-v2 (or v1) or x5t#S256, by digest and, when present, by the
//     issuerSerial of the ESSCertID(v2) or the JAdES kid (TS 119 182-1 §5.1.4): one
//     directoryName equal to the certificate's issuer, as DER, and its serial number: else
//     INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND (a malformed issuerSerial is
//     TOTAL_FAILED/FORMAT_FAILURE; a kid that is not an IssuerSerial is ignored, with a
//     warning);
//   - the digest and the signature value (§5.2.7): TOTAL_FAILED/HASH_FAILURE or
//     SIG_CRYPTO_FAILURE (a JWS signs the payload directly, so a changed JAdES document
//     gives SIG_CRYPTO_FAILURE);
//   - algorithms (§5.2.8): SHA-256 or stronger, RSA of 2048 bits or more, P-256/384/521,
//     Ed25519, in the signature and in every certificate of the chain: else
//     INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE;
//   - the signature time-stamp (§5.4): its signature (SHA-2), its imprint over the signature
//     value, its TSA chain to TSARoots (or Roots) with a critical extended key usage of
//     id-kp-timeStamping alone (RFC 3161 §2.3), not revoked (by OCSP or CRL, as below). A
//     valid one is the best signature time; an invalid one is a warning and proves nothing;
//   - the claimed signing time (§5.2.8): later than the validation time by more than
//     [SigningTimeSkew] (5 minutes), INDETERMINATE/SIG_CONSTRAINTS_FAILURE, whatever the
//     certificate's validity;
//   - the chain (§5.2.6) to Roots at the best signature time, a signing certificate that is
//     not a CA certificate (basicConstraints cA TRUE, whatever its key usage: a CA key
//     certifies, it does not sign documents), key usage digitalSignature or
//     nonRepudiation, and no extended key usage that names only other purposes (a TSA, an
//     OCSP responder, a TLS server or client authentication key does not sign documents;
//     emailProtection, anyExtendedKeyUsage and RFC 9336 documentSigning do; the same holds
//     for intermediate CAs):
//     NO_CERTIFICATE_CHAIN_FOUND, CHAIN_CONSTRAINTS_FAILURE,
//     CERTIFICATE_CHAIN_GENERAL_FAILURE; a signer claiming a signing time outside the
//     certificate's validity is TOTAL_FAILED/EXPIRED or NOT_YET_VALID; a certificate expired
//     at the best signature time with no earlier proof is INDETERMINATE/OUT_OF_BOUNDS_NO_POE;
//   - revocation of every certificate but the anchor, by OCSP then CRL. An OCSP response
//     counts when signed by the issuer or by a responder it certified for id-kp-OCSPSigning,
//     for a CertID that names the issuer; a CRL when signed by the issuer and complete for
//     the certificate (no delta CRL, no issuing distribution point for another partition,
//     other certificates or some reasons, no unknown critical extension); either only while
//     fresh (before nextUpdate, or within 24 hours without one). For a certificate that had
//     expired when the answer was issued, "not revoked" counts only with an OCSP archive
//     cutoff or a CRL expiredCertsOnCRL date no later than its expiry. Revoked after the
//     best signature time passes with a warning; the signing certificate revoked before
//     the signer's own claimed signing time (to the second) is TOTAL_FAILED/REVOKED;
//     revoked with no proof that the signature existed before is
//     INDETERMINATE/REVOKED_NO_POE (a CA: REVOKED_CA_NO_POE); no answer from either is
//     INDETERMINATE/TRY_LATER.
//
// # Offline revocation data
//
// A validator that holds the revocation data itself (an archive, a court, a network
// without access to the CA) passes it in [Policy.CRLs] and [Policy.OCSPResponses]
// ([LoadCRLs] and [LoadOCSPResponses] read DER or PEM files). It is read before anything
// is fetched and suffices for a certificate that names no responder: each CRL or response
// about a certificate is checked as a fetched one is, but judged at the validation time; a
// revocation in any of them decides, else a "good" one does and nothing is fetched for that
// certificate; else the status is fetched, and the report says why the data did not count
// (RevocationStatus.Offline marks a status that came from it). A CRL distribution point
// may serve DER or PEM.
//
// # Long-term validation data
//
// The revocation data a CAdES signature carries in SignedData.crls (CRLs, and OCSP
// responses as id-ri-ocsp-response or id-pkix-ocsp-basic) is used in the same way, with
// the caller's data, before anything is fetched, but judged at the proof of existence it
// is needed for (EN 319 102-1 §5.2.5 freshness, at the time the signature time-stamp, or
// the TSA's own time-stamp, proves): an item counts when it was current then (nextUpdate
// not before it, or within 24 hours without one), or when it was issued after it but not
// after the validation time (a certificate not revoked then was not revoked
// before). RevocationStatus.Embedded marks a status from it. An item that does not count
// (stale, signed by another CA, about another certificate) leaves the status to the
// network, and a warning says why. The report's format is CAdES-BASELINE-LT only when the
// time-stamp is valid, the signer's chain (the trust anchor aside) is in the signature,
// and the signature's own data established the status of every certificate of the
// signer's and the TSA's chains but the anchors; otherwise it is CAdES-BASELINE-T, with a
// warning that names what is missing. The ETSI certificate-values and revocation-values
// unsigned attributes other tools write, and the JAdES xVals, rVals and tstVD components,
// are read as the same embedded data. Such a signature validates with the network off;
// a revocation published after the time-stamp does not change the result (as at B-T, the
// time-stamp proves the signature existed before it), and is not seen, since nothing is
// fetched for a certificate the signature's data speaks for.
//
// # Archive time-stamps
//
// An LTA signature is validated from its latest archive time-stamp back (EN 319 102-1
// §5.6.3): the latest at the validation time, each earlier one, and then the signature
// time-stamp, at the time of the next valid one, its proof of existence. A time-stamp
// counts when its imprint matches (for CAdES, when its hash index names only elements the
// signature still holds), its TSA's chain validated at its own time, no certificate of
// that chain (the anchor aside) expired before its proof of existence, and none was
// revoked before it. So the signer's and the signature TSA's certificates may expire, and
// the signer's be revoked after the first archive time-stamp, and the signature still
// passes, from its own data, years later; a B-LT signature whose TSA certificate has
// expired with no archive time-stamp is INDETERMINATE/OUT_OF_BOUNDS_NO_POE once its
// signer's has. Report.ArchiveTimestamps lists them, latest first.
//
// JAdES etsiU components in clear JSON (TS 119 182-1 §5.3.1) are read for their data as
// encoded ones are, and an arcTst over them is validated when its canonAlg names RFC 8785
// JCS as urn:ietf:rfc:8785 (§5.3.6.3.1.2: each component before it canonicalised, then
// concatenated). canonAlg is an open URI (§5.4.3.3), and no other identifier is guessed
// at: an arcTst in clear JSON with another canonAlg or none, or over
// components in both forms (which §5.3.1 forbids), proves nothing, and says why in
// Report.ArchiveTimestamps; the signature is judged without it (INDETERMINATE once its
// certificates have expired).
//
// The first failing check sets the indication; every failure is listed in Report.Errors.
// Validate returns an error instead of a report only when there is nothing to report on:
// no Roots ([ErrNoTrustAnchors]), a signature that does not parse ([ErrMalformed], through
// a [*FormatError]; BER indefinite lengths, truncation and lengths past the input are
// refused by the DER parser), or a document that cannot be read.
//
// # Example
//
//	s, err := signature.NewSigner(key, chain, signature.SignerOptions{TSAURL: tsa})
//	lta, err := signature.NewSigner(key, chain, signature.SignerOptions{
//		Level: signature.LevelLTA, TSAURL: tsa, Roots: roots})
//	renewed, err := signature.Extend(ctx, file3, old, signature.ExtendOptions{
//		Level: signature.LevelLTA, TSAURL: archiveTSA, Roots: roots})
//	sig, err := s.Sign(ctx, file)
//	report, err := signature.Validate(ctx, file2, sig, &signature.Policy{Roots: roots})
//	if report.Passed() { ... }
//
// # What it does not do
//
// It does not make counter-signatures, signature policies, attribute certificates,
// enveloping or enveloped signatures, archive-time-stamp (v2) or ats-hash-index (v1, v2)
// attributes, the JWS general JSON serialization (it reads one with a single signature), or
// JAdES etsiU components in clear JSON (it validates them, see Archive time-stamps, and
// Extend refuses a signature that has them). A CMS with several signers is refused, and so
// is a JWS general JSON serialization with several signatures: which of them must pass is
// the application's decision (RFC 7515 §5.2), not one Validate can make.
// Revocation status is what the caller's data or the responders say now; nothing is cached
// between calls. OCSP and CRL URLs come from the certificates, so a validator fetches from
// hosts a signer's CA names: only http and https, with bounded answers and timeouts.
// Indirect CRLs (issued by another authority than the certificate's issuer) are refused.
package signature
