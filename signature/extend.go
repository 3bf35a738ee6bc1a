package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// ErrNotExtendable reports a signature that Extend will not augment: it does not verify
// over the document, its time-stamp or a certificate of its chains does not validate, or
// the validation data of a chain cannot be found.
var ErrNotExtendable = errors.New("signature: signature cannot be extended")

// ExtendOptions configures Extend. Level and TSAURL are required; so is Roots, for
// LevelLT and LevelLTA.
type ExtendOptions struct {
	// Level is the baseline level to reach: LevelT, LevelLT or LevelLTA.
	Level Level

	// TSAURL is the RFC 3161 time-stamping authority that time-stamps the signature (when
	// it has no signature time-stamp) and makes the archive time-stamps.
	TSAURL string

	// Roots are the trust anchors of the signer's and the time-stamping authorities'
	// chains, whose certificates and revocation data LevelLT and LevelLTA embed.
	Roots *x509.CertPool

	// HTTPClient makes the time-stamp and revocation requests; nil uses the clients
	// SignerOptions.HTTPClient defaults to.
	HTTPClient *http.Client

	// Now is the clock; nil uses time.Now. It judges the revocation data given and
	// fetched.
	Now func() time.Time

	// CRLs and OCSPResponses are revocation data the caller holds, used before anything
	// is fetched and embedded when they decide, as for SignerOptions.
	CRLs          []*x509.RevocationList
	OCSPResponses [][]byte
}

// Extend augments a detached CAdES signature over the document read from doc, ours or
// another tool's, as EN 319 122-1 §6 lays the levels out, and returns the new signature:
//
//   - LevelT: a signature time-stamp, unless the signature has one;
//   - LevelLT: that, then the certificates of the signer's and the signature time-stamp
//     authority's chains to Roots and their revocation data, fetched now (or taken from
//     CRLs and OCSPResponses). A signature that carries revocation data and is extended
//     to LevelLTA keeps its own;
//   - LevelLTA: that, then an archive time-stamp over everything, and the validation data
//     of its authority. On a signature that has archive time-stamps already, the data of
//     the latest one's authority is refreshed and a further archive time-stamp is added:
//     renewal, to be done before that authority's certificate expires.
//
// The signature is checked first: it must verify over the document with the key of a
// certificate it carries, or Extend returns an error matching ErrNotExtendable. Nothing
// already in the signature is changed, so every earlier time-stamp still verifies. The
// document is read once and hashed as it streams. A JAdES signature comes back in JWS
// JSON serialization, its etsiU components in the unprotected header: in the general form
// when it came in it (with one signature; several are refused as Validate refuses them),
// else flattened.
func Extend(ctx context.Context, doc io.Reader, sig []byte, opts ExtendOptions) ([]byte, error) {
	switch opts.Level {
	case LevelT, LevelLT, LevelLTA:
	default:
		return nil, fmt.Errorf("%w: extend to level %q", ErrUnsupported, opts.Level)
	}
	if opts.Level.longTerm() && opts.Roots == nil {
		return nil, fmt.Errorf("%w: level %s needs Roots", ErrUnsupported, opts.Level)
	}
	tsa, err := newTSAClient(opts.TSAURL, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	if len(sig) > limits.MaxSignature {
		return nil, fmt.Errorf("%w: signature over %d bytes", ErrTooLarge, limits.MaxSignature)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	rc := &revocationChecker{ctx: ctx, client: opts.HTTPClient, now: now, at: now(), crls: opts.CRLs, ocsp: opts.OCSPResponses}
	if looksLikeJWS(sig) || looksLikeJSON(sig) {
		return extendJAdES(ctx, doc, sig, opts, tsa, rc)
	}
	s, err := parseCMS(sig)
	if err != nil {
		return nil, err
	}
	notExtendable := func(reason string) error { return fmt.Errorf("%w: %s", ErrNotExtendable, reason) }
	if s.signer == nil {
		return nil, notExtendable("no certificate in the signature matches the signer identifier")
	}
	if !hashAllowed(s.hash) {
		return nil, notExtendable("digest algorithm " + s.digestOID.String() + " is not allowed")
	}
	digest, err := hashStream(ctx, s.hash, doc)
	if err != nil {
		return nil, err
	}
	if s.messageDig == nil || !bytes.Equal(s.messageDig, digest) {
		return nil, notExtendable("message-digest does not match the document")
	}
	if err := cmsVerify(s.signer.PublicKey, s.sigAlgOID, s.hash, s.signedAttrs, s.sigValue); err != nil {
		return nil, notExtendable("signature value does not verify with the signing certificate's key")
	}
	p := s.parts
	if len(s.tsTokens) == 0 {
		tok, err := tsa.stamp(ctx, s.sigValue)
		if err != nil {
			return nil, err
		}
		if err := p.addUnsigned(oidAttrSignatureTSToken, tok); err != nil {
			return nil, err
		}
		s.tsTokens = [][]byte{tok}
	}
	if opts.Level.longTerm() {
		pool := certPool(s.certs)
		tsTime, tsaPath, err := checkTimestamp(s.tsTokens[0], s.sigValue, opts.Roots, pool)
		if err != nil {
			return nil, notExtendable("signature time-stamp: " + err.Error())
		}
		ltDone := false
		if len(s.archives) == 0 && (s.revocation.empty() || opts.Level == LevelLT) {
			at := tsTime
			if at.After(s.signer.NotAfter) {
				at = s.signer.NotAfter
			}
			chains, err := s.signer.Verify(x509.VerifyOptions{Roots: opts.Roots, Intermediates: pool, CurrentTime: at,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			if err != nil {
				return nil, notExtendable("no chain from the signing certificate to Roots at the signature time-stamp's time")
			}
			// A revocation after the signature time-stamp leaves the signature valid: its
			// evidence is embedded like a good status.
			if err := addPathData(rc, p, "signing", chains[0], func(at time.Time) bool { return at.After(tsTime) }); err != nil {
				return nil, err
			}
			if err := addPathData(rc, p, "time-stamp authority", tsaPath, nil); err != nil {
				return nil, err
			}
			ltDone = true
		}
		if opts.Level == LevelLTA {
			if !ltDone {
				if err := latestTimestampData(rc, p, s, tsaPath, opts.Roots); err != nil {
					return nil, err
				}
			}
			if err := addArchive(ctx, tsa, rc, opts.Roots, p, s.hash, digest); err != nil {
				return nil, err
			}
		}
	}
	der, err := p.encode()
	if err == nil && len(der) > limits.MaxSignature {
		return nil, fmt.Errorf("%w: extended signature over %d bytes", ErrTooLarge, limits.MaxSignature)
	}
	return der, err
}

// latestTimestampData refreshes the validation data of the authority of the signature's
// latest time-stamp (the latest archive time-stamp, or else the signature time-stamp,
// whose authority's chain is tsaPath) before it is itself archive time-stamped.
func latestTimestampData(rc *revocationChecker, p *cmsParts, s *cmsSignature, tsaPath []*x509.Certificate, roots *x509.CertPool) error {
	archives, _ := readArchives(s.archives)
	for _, a := range archives {
		if a.err != nil {
			continue
		}
		// The imprint was checked when that time-stamp was made; here only its authority's
		// chain is wanted.
		_, chain, err := a.tok.verify(func(crypto.Hash) ([]byte, error) { return a.tok.ts.HashedMessage, nil }, roots, certPool(s.certs))
		if err != nil {
			return fmt.Errorf("%w: latest archive time-stamp: %v", ErrNotExtendable, err)
		}
		return addPathData(rc, p, "archive time-stamp authority", chain, nil)
	}
	return addPathData(rc, p, "time-stamp authority", tsaPath, nil)
}

// addPathData adds the certificates of path (trust anchor last) to the signature, and for
// each but the anchor the revocation data that shows it good, or revoked at a time
// revokedOK accepts (nil accepts none).
func addPathData(rc *revocationChecker, p validationSink, role string, path []*x509.Certificate, revokedOK func(time.Time) bool) error {
	for i, c := range path {
		p.addCert(c.Raw)
		if i+1 == len(path) {
			break
		}
		name := role + " certificate"
		if i > 0 {
			name = role + " chain: ca certificate"
		}
		st, evidence := rc.statusEvidence(c, path[i+1])
		switch {
		case st.Status == "good", st.Status == "revoked" && revokedOK != nil && revokedOK(*st.RevokedAt):
			if evidence != nil {
				p.addCRL(evidence)
			}
		case st.Status == "revoked":
			return unusableCertificate("revocation", fmt.Sprintf("%s revoked at %s (%s)", name, st.RevokedAt.Format(time.RFC3339), st.Source))
		default:
			return &CertificateError{Check: "revocation", Reason: name + ": status unknown: " + st.Reason, Err: ErrRevocationUnknown}
		}
	}
	if p.full() {
		return fmt.Errorf("%w: validation data over the caps of internal/limits", ErrTooLarge)
	}
	return nil
}

// validationSink receives validation data: a certificate, and a RevocationInfoChoice (a
// CRL, or an OCSP response as id-ri-ocsp-response).
type validationSink interface {
	addCert(der []byte)
	addCRL(choice []byte)
	full() bool
}

var (
	_ validationSink = (*cmsParts)(nil)
	_ validationSink = (*jadesJSONSink)(nil)
)

// addArchive adds an archive-time-stamp-v3 (EN 319 122-1 §5.5.3) over p and the document
// digest docHash (made with h): the token from tsa, with the ats-hash-index-v3 it was
// computed with added to its unsigned attributes; then the validation data of the
// archive time-stamp authority's chain to roots.
func addArchive(ctx context.Context, tsa *tsaClient, rc *revocationChecker, roots *x509.CertPool, p *cmsParts, h crypto.Hash, docHash []byte) error {
	if len(p.unsigned) >= limits.MaxSignedAttributes {
		return fmt.Errorf("%w: more than %d unsigned attributes", ErrTooLarge, limits.MaxSignedAttributes)
	}
	index, err := p.hashIndex(h)
	if err != nil {
		return err
	}
	imprint := p.archiveImprint(h, docHash, index)
	raw, err := tsa.stampImprint(ctx, h, imprint)
	if err != nil {
		return err
	}
	tp, err := splitCMS(raw, "time-stamp token")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	if err := tp.addUnsigned(oidAttrATSHashIndexV3, index); err != nil {
		return err
	}
	tokDER, err := tp.encode()
	if err != nil {
		return err
	}
	tok, err := parseToken(tokDER)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	inter := x509.NewCertPool()
	for _, c := range p.certs {
		if cert, err := x509.ParseCertificate(c); err == nil {
			inter.AddCert(cert)
		}
	}
	_, chain, err := tok.verify(func(crypto.Hash) ([]byte, error) { return imprint, nil }, roots, inter)
	if err != nil {
		return fmt.Errorf("%w: archive time-stamp: %v", ErrTimestamp, err)
	}
	if err := p.addUnsigned(oidAttrArchiveTimestampV3, tokDER); err != nil {
		return err
	}
	return addPathData(rc, p, "archive time-stamp authority", chain, nil)
}

// archive makes a B-LT signature B-LTA.
func (s *Signer) archive(ctx context.Context, der, digest []byte) ([]byte, error) {
	p, err := splitCMS(der, "CAdES")
	if err != nil {
		return nil, err
	}
	rc := &revocationChecker{ctx: ctx, client: s.client, now: s.now, at: s.now(), crls: s.crls, ocsp: s.ocsp}
	if err := addArchive(ctx, s.tsa, rc, s.roots, p, s.hash, digest); err != nil {
		return nil, err
	}
	return p.encode()
}

// extendJAdES is Extend for a JAdES signature, compact or in JSON serialization; the
// result is in JSON serialization, whose unprotected header carries the etsiU components:
// the general form (one signature) when it came in that form, the flattened one otherwise.
func extendJAdES(ctx context.Context, doc io.Reader, sig []byte, opts ExtendOptions, tsa *tsaClient, rc *revocationChecker) ([]byte, error) {
	s, u, err := jadesParts(sig)
	if err != nil {
		return nil, err
	}
	if s.signer == nil {
		return nil, fmt.Errorf("%w: x5t#S256 does not match the first x5c certificate", ErrNotExtendable)
	}
	archiveHash := crypto.SHA256
	docHash := archiveHash.New()
	prefix := []byte(s.encHeader + ".")
	var digest, input []byte
	if s.alg.name == "EdDSA" {
		payload, err := readBounded(ctx, doc, limits.MaxBufferedPayload)
		if err != nil {
			return nil, err
		}
		docHash.Write(payload)
		input = append(prefix, payload...)
	} else {
		d := s.alg.hash.New()
		d.Write(prefix)
		if err := copyStream(ctx, io.MultiWriter(d, docHash), doc); err != nil {
			return nil, err
		}
		digest = d.Sum(nil)
	}
	if err := verifyJWS(s.signer.PublicKey, s.alg, digest, input, s.sigValue); err != nil {
		return nil, fmt.Errorf("%w: signature value does not verify over the document", ErrNotExtendable)
	}
	x := &jadesExtension{s: s, u: u, tsa: tsa, rc: rc, roots: opts.Roots, level: opts.Level, archiveHash: archiveHash, docHash: docHash}
	return x.run(ctx)
}
