package signature

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sort"
	"time"
)

// archiveToken is an archive-time-stamp-v3 read from a signature.
type archiveToken struct {
	tok   *token
	index []byte        // the DER ATSHashIndexV3 of the token's unsigned attribute
	idx   *atsHashIndex // parsed
	err   error         // why it cannot count, found while parsing
	pos   int           // its place among the signature's archive time-stamps, as read
}

// readArchives parses the archive time-stamps of a CAdES signature, latest first, and
// returns the digest algorithms their imprints need over the document.
func readArchives(raw [][]byte, known ...*x509.Certificate) ([]*archiveToken, []crypto.Hash) {
	return readArchiveTokens(raw, true, known...)
}

// readArchiveTokens is readArchives; withIndex says whether each token carries an
// ats-hash-index-v3 (CAdES), or not (JAdES arcTst). pos of each is its index in raw. A
// token's certificate with the DER of one in known is not parsed again.
func readArchiveTokens(raw [][]byte, withIndex bool, known ...*x509.Certificate) ([]*archiveToken, []crypto.Hash) {
	var out []*archiveToken
	var hashes []crypto.Hash
	for i, der := range raw {
		a := &archiveToken{pos: i}
		out = append(out, a)
		if a.tok, a.err = parseToken(der, known...); a.err != nil {
			continue
		}
		if !withIndex {
			if !hashAllowed(a.tok.ts.HashAlgorithm) {
				a.err = fmt.Errorf("archive time-stamp digest %v is not allowed", a.tok.ts.HashAlgorithm)
				continue
			}
			hashes = append(hashes, a.tok.ts.HashAlgorithm)
			continue
		}
		a.index, a.idx, a.err = tokenHashIndex(a.tok)
		if a.err != nil {
			continue
		}
		if a.idx.hash != a.tok.ts.HashAlgorithm {
			a.err = fmt.Errorf("ats-hash-index-v3 and the time-stamp imprint use different digests")
			continue
		}
		if !hashAllowed(a.idx.hash) {
			a.err = fmt.Errorf("archive time-stamp digest %v is not allowed", a.idx.hash)
			continue
		}
		hashes = append(hashes, a.idx.hash)
	}
	// Latest first: each archive time-stamp proves the existence of the earlier ones.
	sort.SliceStable(out, func(i, j int) bool {
		ti, tj := time.Time{}, time.Time{}
		if out[i].tok != nil {
			ti = out[i].tok.ts.Time
		}
		if out[j].tok != nil {
			tj = out[j].tok.ts.Time
		}
		return ti.After(tj)
	})
	return out, hashes
}

// tokenHashIndex returns the single ats-hash-index-v3 unsigned attribute value of an
// archive time-stamp token.
func tokenHashIndex(tok *token) ([]byte, *atsHashIndex, error) {
	var found []byte
	n := 0
	for _, a := range tok.st.signers[0].unsigned {
		if !a.Type.Equal(oidAttrATSHashIndexV3) {
			continue
		}
		n++
		if len(a.values) != 1 {
			return nil, nil, fmt.Errorf("ats-hash-index-v3 must have exactly one value")
		}
		found = a.values[0]
	}
	if n != 1 {
		return nil, nil, fmt.Errorf("archive time-stamp needs exactly one ats-hash-index-v3 attribute")
	}
	idx, err := parseATSHashIndex(found)
	return found, idx, err
}

// archiveScope tells what an archive time-stamp covers: its imprint proves the existence
// of the signature value and signed attributes always, and of another time-stamp only when
// it was there when the archive time-stamp was made (CAdES: its value is in the hash
// index; JAdES: its etsiU component comes before). An element added later gets no proof of
// existence from it.
type archiveScope struct {
	imprint func(a *archiveToken, h crypto.Hash) ([]byte, error)
	// coversArchive says whether a covers the archive time-stamp b; coversSigTst whether
	// it covers the signature time-stamp.
	coversArchive func(a, b *archiveToken) bool
	coversSigTst  func(a *archiveToken) bool
}

// archives validates the archive time-stamps, latest first, as EN 319 102-1 §5.6.2.4 and
// §5.6.3 (past signature validation) do: each at its proof of existence, the earliest time
// of a valid later archive time-stamp that covers it, or the validation time. A time-stamp
// counts when its imprint matches the signature it covers (its hash index names only
// elements still there), its TSA's chain was valid at its time, no certificate of that
// chain expired before its proof of existence, and none was revoked before it. It returns
// the proof of existence of the signature time-stamp (the earliest valid archive
// time-stamp that covers it, or the validation time) and of the signature itself (the
// earliest valid archive time-stamp, zero when none is).
func (v *validation) archives(list []*archiveToken, certs []*x509.Certificate, scope archiveScope) (sigTst, signature time.Time) {
	roots := v.policy.TSARoots
	if roots == nil {
		roots = v.policy.Roots
	}
	inter := v.intermediates(roots, certs)
	valid := make([]time.Time, len(list)) // genTime of each valid one; zero when not valid
	sigTst = v.report.ValidationTime
	for i, a := range list {
		control := v.report.ValidationTime
		for j := range i {
			if !valid[j].IsZero() && valid[j].Before(control) && scope.coversArchive(list[j], a) {
				control = valid[j]
			}
		}
		t, tsa, err := v.archive(a, scope.imprint, control, roots, inter)
		if err != nil {
			v.report.ArchiveTimestamps = append(v.report.ArchiveTimestamps, TimestampInfo{Reason: err.Error()})
			v.report.warn("archive time-stamp ignored: " + err.Error())
			continue
		}
		valid[i] = t
		v.report.ArchiveTimestamps = append(v.report.ArchiveTimestamps, TimestampInfo{Time: t, TSA: tsa[0].Subject.String(), Valid: true})
		if t.Before(sigTst) && scope.coversSigTst(a) {
			sigTst = t
		}
		if signature.IsZero() || t.Before(signature) {
			signature = t
		}
	}
	return sigTst, signature
}

func (v *validation) archive(a *archiveToken, imprint func(a *archiveToken, h crypto.Hash) ([]byte, error), control time.Time,
	roots, inter *x509.CertPool) (time.Time, []*x509.Certificate, error) {
	if a.err != nil {
		return time.Time{}, nil, a.err
	}
	t, tsa, err := a.tok.verifySkip(func(h crypto.Hash) ([]byte, error) { return imprint(a, h) }, roots, inter, v.anchorOf(roots))
	if err != nil {
		return time.Time{}, nil, err
	}
	v.learnAnchor(roots, tsa)
	if t.After(control.Add(maxClockSkew)) {
		return time.Time{}, nil, fmt.Errorf("archive time-stamp is later than its proof of existence")
	}
	if err := validUntil(tsa, control); err != nil {
		return time.Time{}, nil, err
	}
	if _, err := v.tsaRevocationAt(tsa, t, control, false); err != nil {
		return time.Time{}, nil, err
	}
	return t, tsa, nil
}

// validUntil requires the certificates of a time-stamp authority's chain, the trust anchor
// aside, to be unexpired at control, the time-stamp's proof of existence: after a
// certificate expires its CA may stop publishing its revocation, and a token dated earlier
// could be made with a key compromised since (EN 319 102-1 §5.6.2.4).
func validUntil(chain []*x509.Certificate, control time.Time) error {
	for i := 0; i+1 < len(chain); i++ {
		if control.After(chain[i].NotAfter) {
			return &tokenError{Indeterminate, OutOfBoundsNoPOE,
				fmt.Sprintf("time-stamp authority chain: %q expired before the time-stamp's proof of existence", chain[i].Subject.CommonName)}
		}
	}
	return nil
}

// cadesScope is the archiveScope of a CAdES signature's archive time-stamps: their hash
// index must name only elements the signature holds (EN 319 122-1 §5.5.2), the imprint is
// over the signature with that index (§5.5.3), and a time-stamp is covered when the index
// names its attribute value (attrType and value, as unsignedAttrValuesHashIndex hashes
// them).
func cadesScope(s *cmsSignature, raw [][]byte, digests map[crypto.Hash][]byte) archiveScope {
	named := func(a *archiveToken, attrType asn1.ObjectIdentifier, value []byte) bool {
		if a.idx == nil {
			return false
		}
		typ, err := asn1.Marshal(attrType)
		if err != nil {
			return false
		}
		h := digestOf(a.idx.hash, append(typ, value...))
		for _, x := range a.idx.attrs {
			if bytes.Equal(x, h) {
				return true
			}
		}
		return false
	}
	return archiveScope{
		imprint: cadesImprint(s, digests),
		coversArchive: func(a, b *archiveToken) bool {
			return named(a, oidAttrArchiveTimestampV3, raw[b.pos])
		},
		coversSigTst: func(a *archiveToken) bool {
			return len(s.tsTokens) > 0 && named(a, oidAttrSignatureTSToken, s.tsTokens[0])
		},
	}
}

func cadesImprint(s *cmsSignature, digests map[crypto.Hash][]byte) func(a *archiveToken, h crypto.Hash) ([]byte, error) {
	return func(a *archiveToken, h crypto.Hash) ([]byte, error) {
		if err := a.idx.covers(s.parts); err != nil {
			return nil, err
		}
		d, ok := digests[h]
		if !ok || h != a.idx.hash {
			return nil, fmt.Errorf("archive time-stamp digest %v is not allowed", h)
		}
		return s.parts.archiveImprint(h, d, a.index), nil
	}
}
