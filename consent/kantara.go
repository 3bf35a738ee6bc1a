package consent

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// KantaraVersion is the version a Kantara consent receipt names.
const KantaraVersion = "KI-CR-v1.1.0"

// The field names below are those of the Kantara Initiative Consent Receipt Specification
// v1.1.0 (2018-02-20) as its working group published them in JSON: the schema
// CR_v1_1/kantara-consent-receipt-v1_1-schema.json and the example
// CR_v1_1/kantara-consent-receipt-v1_1-example.json of the KantaraInitiative
// consent-receipt-v-next repository. The schema requires version, jurisdiction,
// consentTimestamp (integer seconds), collectionMethod, consentReceiptID, piiPrincipalId,
// piiControllers (piiController, contact, address, email and phone each), policyUrl,
// services (service and purposes; each purpose consentType, purposeCategory, piiCategory,
// termination and thirdPartyDisclosure, and thirdPartyName when that is true), sensitive and
// spiCat.

// KantaraController is what a Kantara consent receipt says about the controller, which a
// Record names only by its ID: how to reach it, and what its service is called.
type KantaraController struct {
	// Name is the controller's name (piiController). Required.
	Name string
	// OnBehalf reports that the controller collects on behalf of another (onBehalf).
	OnBehalf bool
	// Contact names the person or office to contact (contact). Required.
	Contact string
	// Address is the controller's postal address (address).
	Address KantaraAddress
	// Email and Phone reach the contact (email, phone). Both required.
	Email string
	Phone string
	// URL is the controller's web address (piiControllerUrl), optional.
	URL string
	// Service names the service the person used (service); empty means the record's
	// controller ID.
	Service string
	// Sensitive lists the data categories the controller treats as sensitive ("health",
	// "biometric", ...): a record's categories among them are the receipt's spiCat, and
	// make it sensitive.
	Sensitive []string
	// PublicKey, when not nil, is the controller's receipt key (publicKey): the base64 of
	// its PKIX DER encoding.
	PublicKey crypto.PublicKey
}

// KantaraAddress is a postal address with the schema.org PostalAddress names the
// specification's example uses; empty fields are left out.
type KantaraAddress struct {
	StreetAddress   string `json:"streetAddress,omitempty"`   // street and number
	AddressLocality string `json:"addressLocality,omitempty"` // city or town
	AddressRegion   string `json:"addressRegion,omitempty"`   // state, department or province
	PostalCode      string `json:"postalCode,omitempty"`      // postal code
	AddressCountry  string `json:"addressCountry,omitempty"`  // ISO 3166-1 alpha-2 code
}

type kantaraReceipt struct {
	Version          string              `json:"version"`
	Jurisdiction     string              `json:"jurisdiction"`
	ConsentTimestamp int64               `json:"consentTimestamp"`
	CollectionMethod string              `json:"collectionMethod"`
	ConsentReceiptID string              `json:"consentReceiptID"`
	PublicKey        string              `json:"publicKey,omitempty"`
	Language         string              `json:"language"`
	PIIPrincipalID   string              `json:"piiPrincipalId"`
	PIIControllers   []kantaraController `json:"piiControllers"`
	PolicyURL        string              `json:"policyUrl"`
	Services         []kantaraService    `json:"services"`
	Sensitive        bool                `json:"sensitive"`
	SPICat           []string            `json:"spiCat"`
}

type kantaraController struct {
	PIIController string         `json:"piiController"`
	OnBehalf      bool           `json:"onBehalf"`
	Contact       string         `json:"contact"`
	Address       KantaraAddress `json:"address"`
	Email         string         `json:"email"`
	Phone         string         `json:"phone"`
	URL           string         `json:"piiControllerUrl,omitempty"`
}

type kantaraService struct {
	Service  string           `json:"service"`
	Purposes []kantaraPurpose `json:"purposes"`
}

// kantaraPurpose leaves out primaryPurpose, which the schema does not require: a record
// does not say which of its purposes is the service's core one.
type kantaraPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	ThirdPartyName       string   `json:"thirdPartyName,omitempty"`
}

// Kantara exports the receipt as a Kantara Initiative Consent Receipt v1.1 (KI-CR-v1.1.0)
// JSON document, for a person who keeps their receipts in a tool that reads that format.
// The record's pseudonymous person is the piiPrincipalId, the event's time the
// consentTimestamp, each purpose's code its purposeCategory and the record's data
// categories each purpose's piiCategory; the recipients other than the controller are the
// third parties, disclosed when the legal basis covers sharing. A record under a legal
// basis other than consent has consentType "N/A", as the specification's own example has
// for a legal obligation. The consentReceiptID is derived from the event's place in the
// evidence log, so that one receipt exports to one document.
//
// Only a record in force is exported: given or renewed consent, or a legal basis in force;
// any other status, an unknown legal basis, a record without a notice URL or a controller
// without name, contact, email or phone is ErrInput. The output is not signed: the JWS
// receipt is the proof, and this a copy in another format.
func (r *Receipt) Kantara(c KantaraController) ([]byte, error) {
	rec := &r.Record
	switch {
	case rec.Status != Given && rec.Status != Renewed && rec.Status != BasisActive:
		return nil, fail(ErrInput, "status", "a Kantara receipt records consent in force, not %s", rec.Status)
	case c.Name == "" || c.Contact == "" || c.Email == "" || c.Phone == "":
		return nil, fail(ErrInput, "controller", "a Kantara receipt needs the controller's name, contact, email and phone")
	case rec.Notice.URL == "":
		return nil, fail(ErrInput, "policyUrl", "the record names no notice URL")
	}
	basis, err := LookupBasis(rec.LegalBasis)
	if err != nil {
		return nil, err
	}
	out := kantaraReceipt{
		Version:          KantaraVersion,
		Jurisdiction:     rec.Jurisdiction,
		ConsentTimestamp: r.Event.At.Unix(),
		CollectionMethod: rec.Method,
		ConsentReceiptID: kantaraID(r),
		Language:         rec.Language,
		PIIPrincipalID:   string(rec.Person),
		PIIControllers: []kantaraController{{
			PIIController: c.Name, OnBehalf: c.OnBehalf, Contact: c.Contact, Address: c.Address,
			Email: c.Email, Phone: c.Phone, URL: c.URL,
		}},
		PolicyURL: rec.Notice.URL,
		SPICat:    []string{},
	}
	if c.PublicKey != nil {
		der, err := x509.MarshalPKIXPublicKey(c.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: the controller's public key: %v", ErrInput, err)
		}
		out.PublicKey = base64.StdEncoding.EncodeToString(der)
	}
	for _, cat := range rec.DataCategories {
		if slices.Contains(c.Sensitive, cat) {
			out.SPICat = append(out.SPICat, cat)
		}
	}
	out.Sensitive = len(out.SPICat) > 0

	consentType := "EXPLICIT"
	if basis.Kind != BasisConsent {
		consentType = "N/A"
	}
	var third []string
	for _, x := range rec.Recipients {
		if x != rec.Controller {
			third = append(third, x)
		}
	}
	disclosed := basis.Sharing && len(third) > 0
	service := kantaraService{Service: c.Service}
	if service.Service == "" {
		service.Service = rec.Controller
	}
	for _, p := range rec.Purposes {
		kp := kantaraPurpose{
			Purpose: p.Text, PurposeCategory: []string{p.Code}, ConsentType: consentType,
			PIICategory: slices.Clone(rec.DataCategories), Termination: termination(rec, basis),
			ThirdPartyDisclosure: disclosed,
		}
		if disclosed {
			kp.ThirdPartyName = strings.Join(third, ", ")
		}
		service.Purposes = append(service.Purposes, kp)
	}
	out.Services = []kantaraService{service}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("consent: encode Kantara receipt: %w", err)
	}
	return buf.Bytes(), nil
}

// termination says when the record ends, for the purpose's termination field.
func termination(rec *Record, basis *LegalBasis) string {
	var ends []string
	if !rec.Validity.Until.IsZero() {
		ends = append(ends, "on "+rec.Validity.Until.UTC().Format(time.RFC3339))
	}
	if rec.Validity.MaxUses > 0 {
		ends = append(ends, fmt.Sprintf("after %d uses", rec.Validity.MaxUses))
	}
	if basis.Kind == BasisConsent {
		ends = append(ends, "when withdrawn")
	} else {
		ends = append(ends, "when the processing under "+basis.Code+" ends")
	}
	s := "Ends " + strings.Join(ends, ", or ")
	if basis.Kind == BasisConsent && rec.Withdrawal != "" {
		s += ": " + rec.Withdrawal
	}
	return s
}

// kantaraID derives a UUID (version 8, RFC 9562 §5.8) from the record and the event's leaf
// in the evidence log, which no other event shares.
func kantaraID(r *Receipt) string {
	h := sha256.New()
	h.Write([]byte("dpi-consent-kantara/v1\x00"))
	h.Write([]byte(r.Record.ID))
	h.Write([]byte{0})
	h.Write([]byte(r.Event.Log.Origin))
	h.Write([]byte{0})
	h.Write(r.Event.Log.LeafHash[:])
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // the RFC 9562 variant
	x := hex.EncodeToString(u[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
