package limits

// Caps for the change analysis of package signature/pades: how much of two revisions' object
// graphs is compared to find what changed after a signature. A PDF comes from anyone.
const (
	// MaxPDFChangeObjects caps the objects of one PDF's cross-reference table that pdfcpu reads
	// for the change analysis (its MaxObjectCount and MaxXRefEntries), and the object pairs
	// the analysis compares. A 1,000-page register is well under 100,000 objects.
	MaxPDFChangeObjects = 1 << 20

	// MaxPDFChangeOrphans caps the objects without a cross-reference entry that the change
	// analysis names one by one; one is enough to refuse the signature.
	MaxPDFChangeOrphans = 100
)
