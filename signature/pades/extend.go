package pades

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dpiblocks/dpi/signature"
)

// ExtendOptions configures Extend. Level and Roots are required; TSAURL too for LevelLTA.
type ExtendOptions struct {
	// Level is the level to reach: LevelLT or LevelLTA.
	Level Level

	// TSAURL is the RFC 3161 time-stamping authority of the new document time-stamp
	// (LevelLTA).
	TSAURL string

	// Roots are the trust anchors of the signers' and the time-stamping authorities'
	// chains: the document is validated against them before it is extended, and the
	// certificates of the paths to them go into the DSS.
	Roots *x509.CertPool

	// HTTPClient makes the time-stamp and revocation requests; nil uses package
	// signature's defaults.
	HTTPClient *http.Client

	// Now is the clock; nil uses time.Now.
	Now func() time.Time

	// CRLs and OCSPResponses are revocation data the caller holds, used before anything
	// is fetched, as for signature.ExtendOptions.
	CRLs          []*x509.RevocationList
	OCSPResponses [][]byte
}

// Extend augments the signatures of the PDF in (size bytes) and writes to out the same
// bytes followed by incremental updates, as EN 319 142-1 §5.4 lays the levels out:
//
//   - LevelLT: a DSS update with, for each signature that is PAdES-BASELINE-T, the
//     certificates of its signer's and its signature time-stamp authority's paths to
//     Roots and their revocation data, fetched now;
//   - LevelLTA: that, then a document time-stamp from TSAURL, then a DSS update with the
//     validation data of that time-stamp's authority, so that the document validates
//     offline. On a document that has document time-stamps already (renewal), a DSS
//     update with the validation data of the latest one's authority comes first: to be
//     done before that authority's certificate expires, after which the latest
//     time-stamp no longer proves anything.
//
// Every signature and document time-stamp must validate TOTAL_PASSED against Roots first
// (an error matching signature.ErrNotExtendable says which does not). A PAdES-BASELINE-B
// signature is refused: B-T needs a signature time-stamp inside the CMS, and the CMS is
// inside the signed revision, so it cannot be added by an incremental update (EN 319
// 142-1 §5.3 would accept a document time-stamp instead; dpi's validator does not count
// one as a signature's B-T, so Extend does not make one). Nothing of the input is
// changed; when nothing is missing for Level the input is written as it is.
func Extend(ctx context.Context, in io.ReaderAt, size int64, out io.Writer, opts ExtendOptions) (err error) {
	switch {
	case opts.Level != LevelLT && opts.Level != LevelLTA:
		return configError("level", fmt.Sprintf("extend to %q: B-LT or B-LTA", opts.Level))
	case opts.Roots == nil:
		return configError("roots", "extend needs the trust anchors of the signers and time-stamping authorities")
	case opts.Level == LevelLTA && opts.TSAURL == "":
		return configError("tsa", "a document time-stamp needs a tsa url")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	policy := &signature.Policy{Roots: opts.Roots, Now: now, HTTPClient: opts.HTTPClient, CRLs: opts.CRLs, OCSPResponses: opts.OCSPResponses}
	reps, err := Validate(ctx, in, size, policy)
	if err != nil {
		return err
	}
	if len(reps) == 0 {
		return notExtendable("the document has no signature")
	}
	for _, r := range reps {
		if !r.Passed() {
			reason := string(r.Indication) + "/" + string(r.SubIndication)
			if len(r.Errors) > 0 {
				reason += ": " + r.Errors[0]
			}
			return notExtendable(fmt.Sprintf("%s %q does not validate: %s", r.Kind, r.Field, reason))
		}
		if r.Kind == "signature" && r.Format == "PAdES-BASELINE-B" {
			return notExtendable(fmt.Sprintf("signature %q is pades-baseline-b: a signature time-stamp cannot be added to the cms a pdf holds", r.Field))
		}
	}
	undo := func() {}
	defer func() {
		if p := recover(); p != nil {
			err = malformedError("structure", "the pdf library failed on this pdf")
		}
		if err != nil {
			undo()
		}
	}()
	d, _, fields, err := readSignatureFields(ctx, in, size)
	if err != nil {
		return err
	}
	contents := map[string][]byte{}
	var lastTS *sigItem
	for _, f := range fields {
		it := d.checkSignature(f)
		contents[f.name] = it.contents
		if it.kind == "documentTimestamp" && (lastTS == nil || it.end > lastTS.end) {
			lastTS = it
		}
	}
	sopts := signature.ExtendOptions{Roots: opts.Roots, TSAURL: opts.TSAURL, HTTPClient: opts.HTTPClient, Now: now,
		CRLs: opts.CRLs, OCSPResponses: opts.OCSPResponses}
	u, err := newUpdater(d)
	if err != nil {
		return err
	}
	undo = u.teeTo(out)
	var entries []dssEntry
	for _, r := range reps {
		if r.Kind != "signature" || r.Format == "PAdES-BASELINE-LT" || r.Format == "PAdES-BASELINE-LTA" {
			continue
		}
		vd, err := signature.PAdESSignatureData(ctx, contents[r.Field], sopts)
		if err != nil {
			return fmt.Errorf("pades: signature %q: %w", r.Field, err)
		}
		entries = append(entries, dssEntry{contents[r.Field], vd})
	}
	if opts.Level == LevelLTA && lastTS != nil {
		vd, err := signature.PAdESTimestampData(ctx, lastTS.contents, sopts)
		if err != nil {
			return fmt.Errorf("pades: document time-stamp %q: %w", lastTS.f.name, err)
		}
		entries = append(entries, dssEntry{lastTS.contents, vd})
	}
	if len(entries) > 0 {
		if err := u.addDSS(entries); err != nil {
			return err
		}
	}
	if opts.Level == LevelLTA {
		stamp := func(ctx context.Context, digest []byte) ([]byte, error) {
			return signature.PAdESDocumentTimestamp(ctx, digest, sopts)
		}
		token, err := u.addDocumentTimestamp(ctx, stamp, freeFieldName(fields, "Timestamp"))
		if err != nil {
			return err
		}
		vd, err := signature.PAdESTimestampData(ctx, token, sopts)
		if err != nil {
			return fmt.Errorf("pades: the new document time-stamp: %w", err)
		}
		if err := u.addDSS([]dssEntry{{token, vd}}); err != nil {
			return err
		}
	}
	return u.writeTo(out)
}

func notExtendable(reason string) error {
	return &Error{Check: "extend", Reason: reason, Err: signature.ErrNotExtendable}
}
