package limits

// Caps for package signature/pades, on PDFs read to sign or to validate. The document
// itself is streamed for hashing; these bound what is parsed and held of its structure.
const (
	// MaxPDFSignatures caps the signature fields (signatures and document time-stamps) of
	// one PDF that are validated.
	MaxPDFSignatures = 256

	// MaxPDFFields caps the form fields visited (through /Kids) to find them.
	MaxPDFFields = 100_000

	// MaxPDFRevisions caps the incremental updates (revisions) of one PDF.
	MaxPDFRevisions = 10_000

	// MaxPDFObjectDepth caps the nesting of PDF objects (arrays, dictionaries, form field
	// trees) that is parsed or walked.
	MaxPDFObjectDepth = 64

	// MaxPDFContents caps the decoded /Contents of one signature dictionary (a CMS with
	// its certificates and time-stamp token, or a document time-stamp token).
	MaxPDFContents = MaxSignature

	// MaxPDFStream caps one encoded or decoded stream the PDF library reads.
	MaxPDFStream = 512 << 20

	// MaxDSSRevocationValues caps the CRLs and, separately, the OCSP responses of a PDF's
	// document security store that are read; MaxDSSCertificates its certificates.
	MaxDSSRevocationValues = 256
	MaxDSSCertificates     = 256
)
