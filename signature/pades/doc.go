// Package pades signs and validates PDF documents with PAdES baseline signatures (ETSI EN
// 319 142-1), on the CAdES machinery of package signature.
//
// # Signing
//
// [NewSigner] takes a [Config] around a [signature.Signer] (any crypto.Signer, a PKCS#11
// token included) and [Signer.Sign] appends to the PDF, as incremental updates (ISO 32000-1
// §7.5.6) that leave the original bytes untouched:
//
//   - B-B: a signature dictionary /Type /Sig /Filter /Adobe.PPKLite /SubFilter
//     /ETSI.CAdES.detached with /ByteRange, /M (the signing time) and /Contents, a CAdES
//     detached CMS over the byte ranges without the signing-time attribute and with
//     signing-certificate-v2 (EN 319 142-1 §6.3), in an invisible signature field, or a
//     visible one with the signer's name, the time and the reason in Helvetica;
//   - B-T: the CMS carries a signature time-stamp (RFC 3161);
//   - B-LT: a further update adds a document security store (/DSS: /Certs, /OCSPs, /CRLs
//     and a /VRI entry) with the signer's and the TSA's chains to the roots and their
//     revocation data (EN 319 142-1 §5.4.2);
//   - B-LTA: a last update adds a document time-stamp (/Type /DocTimeStamp /SubFilter
//     /ETSI.RFC3161) over the whole document (§5.4.3).
//
// A certification signature (DocMDP /P 1, 2 or 3, referenced from the catalog's /Perms)
// must be the first; approval signatures may follow each other. The document is hashed as
// it streams from an io.ReaderAt; only the updates are held in memory. When the output is
// a file (an *os.File at its end) the original is written to it as it is hashed, in a
// goroutine beside the digest, so that a large PDF is read once; an error truncates the
// file back, and any other output receives nothing until the signature is made. Each update ends
// with a classic cross-reference table, also on a PDF whose cross-reference is a stream:
// its /Prev names the stream (a hybrid file, ISO 32000-1 §7.5.6), which qpdf --check and
// poppler's pdfsig accept (the interop tests sign such a PDF, with object streams, at
// B-LTA and renew it).
//
// # Extending and long-term validation
//
// [Extend] takes a signed PDF to B-LT (a DSS update with what its PAdES-BASELINE-T
// signatures need) or B-LTA (a document time-stamp, then a DSS update with its authority's
// validation data), and renews a B-LTA PDF (EN 319 142-1 §5.4.3): the latest document
// time-stamp's authority data in a DSS update, then a further document time-stamp, before
// that authority's certificate expires. A PAdES-BASELINE-B signature is not extended: its
// signature time-stamp would have to go into the CMS, inside the signed revision.
//
// [Validate] judges document time-stamps latest first, each at the proof of existence the
// later ones give it (EN 319 102-1 §5.6.3), and a signature's signature time-stamp and
// certificates at the earliest valid document time-stamp over it: a B-LTA PDF validates
// after the signer's and the signature time-stamp authority's certificates expired, and a
// revocation after that time-stamp changes nothing. A B-LT PDF validated after they expired
// is INDETERMINATE/OUT_OF_BOUNDS_NO_POE.
//
// # Validating
//
// [Validate] reports on every signature field and document time-stamp ([Report], one per
// signature, with the fields of [signature.Report]). For each it checks the /ByteRange
// strictly (it starts at 0, covers everything up to the end of a revision but exactly this
// dictionary's /Contents hex string, no overlap, no other gap), hashes the ranges as they
// stream, and validates the CMS with package signature: the DSS counts as validation data
// the signature carries, so a B-LT or B-LTA PDF validates with the OCSP responders and CRL
// distribution points unreachable, and a valid document time-stamp is a proof of existence
// for the signatures it covers. Then it lists what the later revisions changed (pages and
// what they show, annotations, form fields, the catalog, the document information
// dictionary, data no cross-reference section points to), each allowed or not by the DocMDP
// and FieldMDP permissions the signature is judged under; a change not allowed makes the
// signature TOTAL_FAILED/HASH_FAILURE, since the document shown is not the document signed.
// A later signature field may draw on the page only when it holds a later signature of its
// own that validates under the same policy: an unsigned field, a document time-stamp or a
// signature that does not pass (an untrusted signer included) with a visible widget is an
// overlay (the "sneaky signature attack"), and a signature dictionary that is the value of
// two fields is refused in both.
//
// # Why pdfcpu
//
// A PDF parser is a large attack surface, so this package writes none: pdfcpu (Apache-2.0,
// actively maintained, pure Go) reads the object model, cross-reference tables and streams,
// object streams, and detects encryption, with resource limits on what it decodes.
// digitorus/pdfsign, the other candidate, cannot be built here: its dependency
// digitorus/pdf is not served by the module proxy. pdfcpu's own incremental writer
// rewrites more than the objects a signature needs, so the few objects of each update
// (signature dictionary, field and widget, AcroForm, page, catalog, cross-reference
// section and trailer) are written here with pdfcpu's object types. pdfcpu is given a
// configuration built here, so it never writes its configuration directory.
//
// pdfcpu v0.15.0 reads every stream's content into memory when it opens a file, with no
// option to defer it: 214 MiB to open a 200 MiB scanned register. So files are opened with
// internal/pdfread, pdfcpu's reader forked (its read.go, Apache-2.0) to leave a stream's
// content in the file where its /Length is known, and to refuse encrypted files and over-long
// chains of updates; everything else is pdfcpu's code and model. The DSS streams are read
// on demand, bounded, and the change analysis digests from the file only the streams it
// compares that a later revision rewrote (one at the same offset below the signed
// revision's end is the same bytes). Validating a 200 MiB PDF takes 25 to 28 MiB beyond the
// object table, and 1.1 to 1.2 times openssl dgst's time (BENCHMARKS.md).
//
// # Limits
//
// Encrypted PDFs are refused ([ErrEncrypted]). The revisions, signature fields, form
// fields, object depth, /Contents size and DSS items are capped by internal/limits
// ([ErrTooLarge]); the object table is held in memory, within pdfcpu's resource limits, and
// the streams are not; the change analysis digests at most twice the file's size of stream
// content. Signatures of SubFilter adbe.pkcs7.detached are
// validated but not reported as baseline; adbe.pkcs7.sha1 and adbe.x509.rsa_sha1 are
// refused as FORMAT_FAILURE.
package pades
