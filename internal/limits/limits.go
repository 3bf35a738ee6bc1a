// Package limits holds, in one place, every cap dpi puts on untrusted input: sizes, counts,
// depths and work factors. Parsing and verification code in every block reads its caps from
// here, so a reviewer can audit them together and a fork can tune them in one file.
package limits

// MaxCLIInput caps a file the dpi command reads whole into memory (a token, a signature, a
// JWKS document). Documents that are signed or verified are streamed and have no cap.
const MaxCLIInput = 16 << 20

// MaxConsentReceipt caps a signed consent receipt a verifier reads: the record, the event
// and its log receipt are a few KiB.
const MaxConsentReceipt = 64 << 10

// MaxConsentRequest caps a consent request a caller sends as JSON (dpi consent check, an
// HTTP handler): a person, three identifiers and at most 64 data categories are a few KiB,
// with room left for escapes.
const MaxConsentRequest = 64 << 10

// MaxPageAcceptLanguages caps the entries of an Accept-Language header a person-facing page
// (the consent page, the notify mailbox) considers.
const MaxPageAcceptLanguages = 16

// Caps on what the consent block's page reads from a request.
const (
	// MaxConsentPageForm caps a withdraw form: a record ID, a token and a language.
	MaxConsentPageForm = 4 << 10
)
