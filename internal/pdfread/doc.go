// Package pdfread opens a PDF's object table without reading its streams' contents: a
// fork of pdfcpu v0.15.0's reader (github.com/pdfcpu/pdfcpu, pkg/pdfcpu/read.go, Apache
// License 2.0, the same licence as dpi; read.go keeps pdfcpu's copyright notice and says
// what was changed).
//
// pdfcpu's reader loads every stream's content into memory when it opens a file, with no
// option to defer it: opening a 200 MiB scanned register costs 200 MiB, for an object
// table that needs well under 1 MiB. signature/pades needs the object table, the few
// streams it reads (the DSS's certificates and revocation data), and a digest of the
// streams a later revision rewrote. So this fork:
//
//   - leaves a stream's content in the file when its /Length is known and lies within the
//     file (StreamSection says where it is, for the caller to read it, bounded). Object streams
//     and cross-reference streams are still read and decoded when the file is opened, as
//     pdfcpu does; a stream whose length is missing or wrong is read then too, by pdfcpu's
//     own code, to find its end.
//   - refuses an encrypted file with ErrEncrypted. pdfcpu's decryption code is removed: dpi
//     neither signs nor validates an encrypted PDF.
//   - refuses a chain of more cross-reference sections than limits.MaxPDFRevisions
//     (ErrTooManySections) before following it, so that its callers need not scan the
//     file for revisions first.
//   - returns a panic inside the reader (a bug in parsing untrusted input) as an error
//     matching ErrPanic.
//   - drops ReadFile and ReadFileWithContext: a library reads what its caller opened.
//
// Everything else (the cross-reference tables and streams, hybrid files, repairs in relaxed
// mode, pdfcpu's resource limits) is pdfcpu's code, unchanged, and the objects are pdfcpu's
// model and types, so the rest of pdfcpu works on what Read returns. When pdfcpu can defer
// stream contents itself, this package goes and signature/pades calls pdfcpu again.
package pdfread
