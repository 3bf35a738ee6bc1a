package limits

// Caps for the change analysis of package signature/pades: how much of two revisions' object
// graphs is compared to find what changed after a signature. A PDF comes from anyone.
const (
	// MaxPDFChangeObjects caps the objects of one PDF's cross-reference table that pdfcpu reads
	// for the change analysis (its MaxObjectCount and MaxXRefEntries), and the object pairs
	// the analysis compares. A 1,000-page register is well under 100,000 objects.
	MaxPDFChangeObjects = 1 << 20

	// MaxPDFChangeDepth caps the nesting of arrays, dictionaries and references followed while
	// two revisions are compared, and pdfcpu's recursion depth.
	MaxPDFChangeDepth = 96

	// MaxPDFChangeStream caps one encoded or decoded stream pdfcpu reads for the change
	// analysis: pdfcpu holds each stream in memory while the file is read.
	MaxPDFChangeStream = 512 << 20

	// MaxPDFChangeRevisions caps the cross-reference sections of a PDF whose changes are
	// analysed.
	MaxPDFChangeRevisions = 10_000

	// MaxPDFChangeOrphans caps the objects without a cross-reference entry that the change
	// analysis names one by one; the rest are counted in the last one.
	MaxPDFChangeOrphans = 100
)
