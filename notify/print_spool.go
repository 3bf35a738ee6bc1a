package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PrintSpool is a print provider that writes each letter into a directory, for a print
// shop, a mail room or a small agency's own printer to take from, and for tests. A letter
// is two files named by the notification's ID: the document (ID.pdf, or ID.txt for a
// TextLetter) and then ID.json, a [SpoolEntry] that says where it goes. Each is written to
// a temporary file, synced and renamed into place, so that a reader that waits for the
// .json file never sees half a letter; printing the same letter again (a retry after a
// crash) replaces the files with the same bytes. It is safe for concurrent use.
type PrintSpool struct {
	dir string
}

var _ PrintProvider = (*PrintSpool)(nil)

// SpoolEntry is the ID.json file of a spooled letter.
type SpoolEntry struct {
	// ID and Reference are the notification's.
	ID        string `json:"id"`
	Reference string `json:"reference,omitempty"`
	// Address is the postal address, one line per line.
	Address []string `json:"address"`
	// ContentType is the document's media type.
	ContentType string `json:"contentType"`
	// Document is the document's file name in the spool directory.
	Document string `json:"document"`
	// DocumentSHA256 is the hex SHA-256 of the document file.
	DocumentSHA256 string `json:"documentSha256"`
}

// NewPrintSpool returns a print spool writing into dir, which must exist.
func NewPrintSpool(dir string) (*PrintSpool, error) {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: a print spool needs an existing directory", ErrConfig)
	}
	return &PrintSpool{dir: dir}, nil
}

// Print writes the letter into the spool directory.
func (s *PrintSpool) Print(_ context.Context, doc *LetterDocument) error {
	// The ID names files: only what newID writes, so that no ID reaches outside dir.
	if doc == nil || doc.ID == "" || len(doc.ID) > 64 || strings.ContainsFunc(doc.ID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) {
		return &Error{Check: "print spool", Reason: "a letter ID is 1 to 64 of a-z, 0-9, '_' and '-'", Err: ErrPermanent}
	}
	ext := ".txt"
	if strings.HasPrefix(doc.ContentType, "application/pdf") {
		ext = ".pdf"
	}
	sum := sha256.Sum256(doc.Document)
	entry, err := json.Marshal(SpoolEntry{ID: doc.ID, Reference: doc.Reference, Address: doc.Address,
		ContentType: doc.ContentType, Document: doc.ID + ext, DocumentSHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return err
	}
	if err := s.write(doc.ID+ext, doc.Document); err != nil {
		return err
	}
	return s.write(doc.ID+".json", entry)
}

// write puts b into dir/name atomically and durably.
func (s *PrintSpool) write(name string, b []byte) error {
	f, err := os.CreateTemp(s.dir, ".spool-*")
	if err != nil {
		return fmt.Errorf("notify: print spool: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("notify: print spool: %w", err)
	}
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
