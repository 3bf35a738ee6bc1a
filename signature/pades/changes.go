package pades

import "io"

// Permissions is what the certifying signature's DocMDP (and a signature's FieldMDP) allows
// after it.
type Permissions struct {
	// DocMDP is the certification level (ISO 32000-1 §12.8.2.2, /P of the DocMDP transform):
	// 0 means no certification (an approval signature); 1 no changes; 2 form fill and signing;
	// 3 also annotations.
	DocMDP int
	// LockedFields are the fully qualified names of the fields a FieldMDP transform locks
	// (/Action /Include or /Exclude resolved to the locked names); nil locks none.
	LockedFields []string
	// LockAll is FieldMDP /Action /All: every field is locked.
	LockAll bool
}

// Change is one difference between a signed revision and the final document.
type Change struct {
	// Revision is the number of the revision (1 is the original document) that made the change.
	Revision int `json:"revision"`
	// Object names the changed object ("12 0 R") or the place in the document ("catalog /Names").
	Object string `json:"object"`
	// Kind classifies the change: a later signature, a DSS, form fill, an annotation, page
	// content, and so on.
	Kind string `json:"kind"`
	// Allowed reports whether the permissions the change is judged under allow it.
	Allowed bool `json:"allowed"`
	// Detail says what changed, for a human reader.
	Detail string `json:"detail,omitempty"`
}

// analyzeChanges compares the revision that ends at byte signedEnd (the end of the signature's
// /ByteRange) with the whole file and classifies every later change under perm.
func analyzeChanges(r io.ReaderAt, size int64, signedEnd int64, perm Permissions) ([]Change, error) {
	return nil, nil
}
