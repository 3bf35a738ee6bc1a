package identity

import (
	"fmt"
	"strings"
)

// LoA is an eIDAS level of assurance (Regulation (EU) 2015/1502, Annex): the common scale on
// which this package compares what different national IdPs assert.
type LoA int

// Levels of assurance, in increasing order. LoAUnknown is below every level: a token whose
// acr the profile does not map has it, and any minimum refuses it.
const (
	LoAUnknown LoA = iota
	LoALow
	LoASubstantial
	LoAHigh
)

// String returns "low", "substantial", "high" or "unknown".
func (l LoA) String() string {
	switch l {
	case LoALow:
		return "low"
	case LoASubstantial:
		return "substantial"
	case LoAHigh:
		return "high"
	}
	return "unknown"
}

// MarshalText encodes the level as its name.
func (l LoA) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// ParseLoA reads "low", "substantial" or "high", or the eIDAS URIs
// http://eidas.europa.eu/LoA/{low,substantial,high}.
func ParseLoA(s string) (LoA, error) {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "http://eidas.europa.eu/loa/") {
	case "low":
		return LoALow, nil
	case "substantial":
		return LoASubstantial, nil
	case "high":
		return LoAHigh, nil
	}
	return LoAUnknown, fmt.Errorf("%w: unknown level of assurance %q (want low, substantial or high)", ErrConfig, truncate(s, 40))
}

// Assurance is how sure the IdP is of the person, on the eIDAS scale and, approximately, on
// NIST SP 800-63-3's identity (IAL, 800-63A §5.2) and authenticator (AAL, 800-63B §4)
// assurance levels. The two scales are not equivalent; a profile states both explicitly.
type Assurance struct {
	LoA LoA `json:"loa"`           // the eIDAS level
	IAL int `json:"ial,omitempty"` // 1..3, 0 when unknown
	AAL int `json:"aal,omitempty"` // 1..3, 0 when unknown
}

// The usual pairing of eIDAS levels with NIST levels, used by the profiles: low is a
// self-asserted identity with one factor, substantial a remotely verified identity with two
// factors, high an in-person or chip-verified identity with a hardware authenticator.
var (
	assureLow         = Assurance{LoA: LoALow, IAL: 1, AAL: 1}
	assureSubstantial = Assurance{LoA: LoASubstantial, IAL: 2, AAL: 2}
	assureHigh        = Assurance{LoA: LoAHigh, IAL: 3, AAL: 3}
)

// eidasACR maps the eIDAS URIs (eIDAS SAML Attribute Profile §2.4) and their short names,
// which any profile accepts as well as its own values.
var eidasACR = map[string]Assurance{
	"http://eidas.europa.eu/LoA/low":         assureLow,
	"http://eidas.europa.eu/LoA/substantial": assureSubstantial,
	"http://eidas.europa.eu/LoA/high":        assureHigh,
	"low":                                    assureLow,
	"substantial":                            assureSubstantial,
	"high":                                   assureHigh,
}

// assess derives the assurance of a login from acr and amr with the profile's tables: acr
// first; when the profile maps no acr value it asserts, the highest mapped amr value.
func assess(p *Profile, acr string, amr []string) (Assurance, string) {
	if acr != "" {
		if a, ok := p.ACR[acr]; ok {
			return a, "acr"
		}
		if a, ok := eidasACR[acr]; ok {
			return a, "acr"
		}
	}
	var best Assurance
	source := "none"
	for _, m := range amr {
		if a, ok := p.AMR[m]; ok && a.LoA > best.LoA {
			best, source = a, "amr"
		}
	}
	return best, source
}
