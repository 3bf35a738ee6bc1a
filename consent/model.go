package consent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/evidence"
)

// PersonRef is the pseudonymous reference of a person: a keyed hash of their national
// identifier, made by a [Pseudonymizer], never the identifier itself. Its text form is
// "pr1:" and 43 characters of base64url.
type PersonRef string

// personRefPrefix names the version of the pseudonym's derivation.
const personRefPrefix = "pr1:"

// Valid reports whether r has the form a Pseudonymizer gives.
func (r PersonRef) Valid() bool {
	rest, ok := strings.CutPrefix(string(r), personRefPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	var b [sha256.Size]byte
	n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(rest))
	return err == nil && n == sha256.Size
}

// MinPersonKey is the shortest key a Pseudonymizer accepts, in bytes.
const MinPersonKey = 32

// Pseudonymizer turns a national identifier into a [PersonRef] with a secret key:
// HMAC-SHA-256 over the country, the scheme and the number. Without the key, a reference
// cannot be traced back to the number by trying every number of a country, which a plain
// hash would allow. Keep the key as secret as the data (in a KMS or HSM-backed secret
// store), and the same for as long as the records.
type Pseudonymizer struct {
	key []byte
}

// NewPseudonymizer returns a Pseudonymizer keyed with key, which must be at least
// MinPersonKey random bytes.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinPersonKey {
		return nil, fmt.Errorf("%w: the person key must be at least %d bytes", ErrConfig, MinPersonKey)
	}
	return &Pseudonymizer{key: append([]byte(nil), key...)}, nil
}

// Person returns the reference of the person whose identifier is number in the scheme of
// country (an ISO 3166-1 alpha-2 code and a scheme name, as identity/nationalid names
// them). Normalise the number first (nationalid's Compact): "390.533.447-05" and
// "39053344705" are one person only once they are one string.
func (p *Pseudonymizer) Person(country, scheme, number string) PersonRef {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("dpi-consent-person/v1\x00"))
	m.Write([]byte(strings.ToUpper(country)))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(scheme)))
	m.Write([]byte{0})
	m.Write([]byte(number))
	return PersonRef(personRefPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil)))
}

// Status is the state of a record, named as the W3C Data Privacy Vocabulary's consent
// statuses (dpv:ConsentGiven, ...), and, for a record under a legal basis that is not
// consent, as dpi's own two statuses, so that such a record is never shown as consent.
type Status string

// The statuses. A record begins Requested, Given, or (under another legal basis)
// BasisActive; the transitions are those of [Status.CanBecome].
const (
	Requested   Status = "ConsentRequested"    // asked, not yet answered
	Given       Status = "ConsentGiven"        // the person agreed
	Refused     Status = "ConsentRefused"      // the person said no to the request
	Renewed     Status = "RenewedConsentGiven" // the person agreed again, to a new validity
	Withdrawn   Status = "ConsentWithdrawn"    // the person took their consent back
	Revoked     Status = "ConsentRevoked"      // another party ended it (the controller, a court)
	Expired     Status = "ConsentExpired"      // its time or its uses ran out
	Invalidated Status = "ConsentInvalidated"  // found not to be valid consent (a flawed notice)

	BasisActive Status = "LegalBasisActive" // processing under a legal basis that is not consent
	BasisEnded  Status = "LegalBasisEnded"  // that processing ended
)

// transitions lists, for each status, the statuses a record in it may move to.
var transitions = map[Status][]Status{
	Requested:   {Given, Refused, Expired},
	Given:       {Renewed, Withdrawn, Revoked, Expired, Invalidated},
	Renewed:     {Renewed, Withdrawn, Revoked, Expired, Invalidated},
	Expired:     {Renewed},
	BasisActive: {BasisEnded},
}

// CanBecome reports whether a record in status s may move to next.
func (s Status) CanBecome(next Status) bool {
	for _, t := range transitions[s] {
		if t == next {
			return true
		}
	}
	return false
}

// Active reports whether a record in status s allows uses: consent given or renewed, or a
// legal basis in force.
func (s Status) Active() bool { return s == Given || s == Renewed || s == BasisActive }

// Known reports whether s is one of the statuses above.
func (s Status) Known() bool {
	switch s {
	case Requested, Given, Refused, Renewed, Withdrawn, Revoked, Expired, Invalidated, BasisActive, BasisEnded:
		return true
	}
	return false
}

// Purpose is one purpose a record covers: a code the controller's systems match on, and the
// text the person was shown.
type Purpose struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// Notice identifies the exact notice the person was shown: where it is, its version, and
// the SHA-256 of its text, so a later change to the page does not change what was agreed.
type Notice struct {
	URL     string `json:"url"`
	Version string `json:"version"`
	// SHA256 is the lower-case hex SHA-256 of the exact text shown.
	SHA256 string `json:"sha256"`
}

// Validity bounds a record: an end time, a number of uses, or both. A record is never
// endless: Give sets an end time from Config.DefaultValidity when neither is given.
type Validity struct {
	// Until, when not zero, is when the record expires.
	Until time.Time `json:"until,omitzero"`
	// MaxUses, when not zero, is how many uses Authorize allows before the record expires.
	MaxUses int `json:"maxUses,omitempty"`
}

// Record is a consent record, or the record of processing under another legal basis, with
// the fields of ISO/IEC TS 27560 as the W3C DPV guide maps them. It holds no personal data
// but the pseudonymous Person.
type Record struct {
	// ID identifies the record: "cr_" and 26 characters of base32, random.
	ID string `json:"id"`
	// Person is the data subject, pseudonymised.
	Person PersonRef `json:"person"`
	// Controller identifies the controller that holds the data and answers for the record.
	Controller string `json:"controller"`
	// Recipients names every party the data may be shared with; no one else is allowed.
	Recipients []string `json:"recipients"`
	// Purposes are what the data may be used for.
	Purposes []Purpose `json:"purposes"`
	// DataCategories are the categories of personal data covered ("identity", "address",
	// "health", ...).
	DataCategories []string `json:"dataCategories"`
	// LegalBasis is the code of a [LegalBasis] of the record's jurisdiction.
	LegalBasis string `json:"legalBasis"`
	// Jurisdiction is the ISO 3166-1 alpha-2 code of the country whose law applies.
	Jurisdiction string `json:"jurisdiction"`
	// Notice is the notice the person was shown.
	Notice Notice `json:"notice"`
	// Language is the BCP 47 tag of the language the notice was shown in.
	Language string `json:"language"`
	// Method is how the consent was collected ("web-form", "in-person", "paper", "api").
	Method string `json:"collectionMethod"`
	// Validity bounds the record in time and uses.
	Validity Validity `json:"validity"`
	// Withdrawal tells the person how to withdraw: a URL or a sentence.
	Withdrawal string `json:"withdrawal"`
	// Status is the record's state now.
	Status Status `json:"status"`
	// Uses counts the uses Authorize allowed.
	Uses int `json:"uses"`
	// Created and Updated are when the record was made and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Allows reports whether the record names recipient and purpose and covers every category.
func (r *Record) Allows(recipient, purpose string, categories []string) (bool, Reason) {
	if !contains(r.Recipients, recipient) {
		return false, ReasonRecipient
	}
	ok := false
	for _, p := range r.Purposes {
		ok = ok || p.Code == purpose
	}
	if !ok {
		return false, ReasonPurpose
	}
	for _, c := range categories {
		if !contains(r.DataCategories, c) {
			return false, ReasonData
		}
	}
	return true, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Event is one change of a record's status, as the evidence log holds it.
type Event struct {
	// RecordID is the record the event changed.
	RecordID string `json:"recordId"`
	// Status is the record's status after the event.
	Status Status `json:"status"`
	// At is when the event happened.
	At time.Time `json:"at"`
	// By names who acted: "person" for the data subject, otherwise the party (a controller
	// ID, an authority).
	By string `json:"by"`
	// Reason says why, for a revocation, an invalidation or an expiry.
	Reason string `json:"reason,omitempty"`
	// Log is where the event is in the evidence log: with an inclusion proof it shows the
	// event was recorded and not rewritten since.
	Log evidence.Receipt `json:"log"`
}

// Use is one use of a person's data that Authorize allowed.
type Use struct {
	// RecordID is the record that allowed the use.
	RecordID string `json:"recordId"`
	// Recipient is who received the data.
	Recipient string `json:"recipient"`
	// Purpose is the purpose code the data was used for.
	Purpose string `json:"purpose"`
	// DataCategories are the categories shared.
	DataCategories []string `json:"dataCategories"`
	// At is when the use was allowed.
	At time.Time `json:"at"`
	// Log is where the use is in the evidence log.
	Log evidence.Receipt `json:"log"`
}

// Reason says why Authorize decided as it did.
type Reason string

// The reasons of a Decision.
const (
	ReasonAllowed   Reason = "allowed"              // an active record covers the request
	ReasonNoRecord  Reason = "no-record"            // no record of this person and controller covers it
	ReasonRecipient Reason = "recipient-not-named"  // records exist, but none names the recipient
	ReasonPurpose   Reason = "purpose-not-covered"  // ... none covers the purpose
	ReasonData      Reason = "data-not-covered"     // ... none covers every data category
	ReasonExpired   Reason = "expired"              // the covering record's time ran out
	ReasonUsedUp    Reason = "used-up"              // the covering record's uses ran out
	ReasonWithdrawn Reason = "withdrawn"            // the person withdrew the covering record
	ReasonRevoked   Reason = "revoked"              // another party revoked it
	ReasonInactive  Reason = "not-active"           // requested, refused, invalidated or ended
	ReasonNotYet    Reason = "before-record-began"  // the request's time is before the record
	ReasonBasis     Reason = "basis-not-applicable" // the record's legal basis does not cover sharing
)
