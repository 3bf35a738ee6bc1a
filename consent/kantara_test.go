package consent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/store"
)

var updateKantara = flag.Bool("update-kantara", false, "rewrite testdata/kantara-receipt.json")

// kantaraReceipt is a receipt whose every field is fixed, so that its export is a vector.
func kantaraReceipt() *consent.Receipt {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var leaf evidence.Hash
	for i := range leaf {
		leaf[i] = byte(i)
	}
	return &consent.Receipt{
		Version: consent.ReceiptVersion,
		Record: consent.Record{
			ID:             "cr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
			Person:         "pr1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			Controller:     "agency-b.example",
			Recipients:     []string{"agency-a.example", "agency-b.example"},
			Purposes:       []consent.Purpose{{Code: "benefits", Text: "Decidir su solicitud de subsidio de vivienda"}, {Code: "audit", Text: "Auditar la decisión"}},
			DataCategories: []string{"income", "address", "health"},
			LegalBasis:     "CO-L1581-9",
			Jurisdiction:   "CO",
			Notice:         consent.Notice{URL: "https://agency-b.example/aviso", Version: "3", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
			Language:       "es-CO",
			Method:         "web-form",
			Validity:       consent.Validity{Until: at.Add(90 * 24 * time.Hour), MaxUses: 5},
			Withdrawal:     "https://agency-b.example/mis-datos",
			Status:         consent.Given,
			Created:        at,
			Updated:        at,
		},
		Event: consent.Event{
			RecordID: "cr_aaaaaaaaaaaaaaaaaaaaaaaaaa", Status: consent.Given, At: at, By: "person",
			Log: evidence.Receipt{Origin: "agency-b.example/consent", Seq: 7, Time: at, LeafHash: leaf, Salt: make([]byte, evidence.SaltSize)},
		},
	}
}

func kantaraController() consent.KantaraController {
	return consent.KantaraController{
		Name: "Agencia B", Contact: "Oficial de protección de datos",
		Address: consent.KantaraAddress{StreetAddress: "Calle 1 # 2-3", AddressLocality: "Bogotá", AddressCountry: "CO"},
		Email:   "datos@agency-b.example", Phone: "+57 601 000 0000", URL: "https://agency-b.example",
		Service: "Subsidio de vivienda", Sensitive: []string{"health", "biometric"},
	}
}

// TestKantaraGolden pins the export of a fixed receipt: testdata/kantara-receipt.json is a
// Kantara Consent Receipt v1.1 document any tool for that format can read.
func TestKantaraGolden(t *testing.T) {
	c := kantaraController()
	c.PublicKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()
	out, err := kantaraReceipt().Kantara(c)
	require.NoError(t, err)
	if *updateKantara {
		require.NoError(t, os.WriteFile("testdata/kantara-receipt.json", out, 0o644))
	}
	want, err := os.ReadFile("testdata/kantara-receipt.json")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out), "run go test -run TestKantaraGolden -update-kantara after a deliberate change")
}

// The names the Kantara v1.1 JSON schema requires, and those it allows, at each level
// (CR_v1_1/kantara-consent-receipt-v1_1-schema.json, KantaraInitiative/consent-receipt-v-next).
var (
	kantaraTop        = []string{"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "piiPrincipalId", "piiControllers", "services", "policyUrl", "sensitive", "spiCat"}
	kantaraTopAllowed = append([]string{"publicKey", "language"}, kantaraTop...)
	kantaraCtl        = []string{"piiController", "contact", "address", "email", "phone"}
	kantaraCtlAllowed = append([]string{"onBehalf", "piiControllerUrl"}, kantaraCtl...)
	kantaraPur        = []string{"consentType", "purposeCategory", "piiCategory", "termination", "thirdPartyDisclosure"}
	kantaraPurAllowed = append([]string{"purpose", "primaryPurpose", "thirdPartyName"}, kantaraPur...)
)

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkKantaraNames checks that m has every name required and none not allowed.
func checkKantaraNames(t *testing.T, where string, m map[string]any, required, allowed []string) {
	t.Helper()
	for _, k := range required {
		assert.Contains(t, m, k, "%s: required %s", where, k)
	}
	for _, k := range keys(m) {
		assert.Contains(t, allowed, k, "%s: %s is not a Kantara v1.1 name", where, k)
	}
}

func TestKantaraFieldsAndTypes(t *testing.T) {
	rc := kantaraReceipt()
	c := kantaraController()
	c.PublicKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()
	out, err := rc.Kantara(c)
	require.NoError(t, err)

	var doc map[string]any
	require.NoError(t, json.Unmarshal(out, &doc))
	checkKantaraNames(t, "receipt", doc, kantaraTop, kantaraTopAllowed)
	assert.Equal(t, "KI-CR-v1.1.0", doc["version"])
	assert.Equal(t, "CO", doc["jurisdiction"])
	assert.Equal(t, float64(rc.Event.At.Unix()), doc["consentTimestamp"], "epoch seconds")
	assert.Equal(t, "web-form", doc["collectionMethod"])
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), doc["consentReceiptID"])
	der, err := x509.MarshalPKIXPublicKey(c.PublicKey)
	require.NoError(t, err)
	assert.Equal(t, base64.StdEncoding.EncodeToString(der), doc["publicKey"], "base64 of the PKIX DER")
	assert.Equal(t, "es-CO", doc["language"])
	assert.Equal(t, string(rc.Record.Person), doc["piiPrincipalId"], "the pseudonym, never a national number")
	assert.Equal(t, "https://agency-b.example/aviso", doc["policyUrl"])
	assert.Equal(t, true, doc["sensitive"])
	assert.Equal(t, []any{"health"}, doc["spiCat"])

	ctls, ok := doc["piiControllers"].([]any)
	require.True(t, ok)
	require.Len(t, ctls, 1)
	ctl := ctls[0].(map[string]any)
	checkKantaraNames(t, "piiControllers[0]", ctl, kantaraCtl, kantaraCtlAllowed)
	assert.Equal(t, "Agencia B", ctl["piiController"])
	assert.Equal(t, false, ctl["onBehalf"])
	assert.Equal(t, map[string]any{"streetAddress": "Calle 1 # 2-3", "addressLocality": "Bogotá", "addressCountry": "CO"}, ctl["address"])
	assert.Equal(t, "https://agency-b.example", ctl["piiControllerUrl"])

	svcs := doc["services"].([]any)
	require.Len(t, svcs, 1)
	svc := svcs[0].(map[string]any)
	assert.Equal(t, []string{"purposes", "service"}, keys(svc))
	assert.Equal(t, "Subsidio de vivienda", svc["service"])
	purposes := svc["purposes"].([]any)
	require.Len(t, purposes, 2)
	for i, p := range purposes {
		p := p.(map[string]any)
		checkKantaraNames(t, "purposes", p, kantaraPur, kantaraPurAllowed)
		assert.Equal(t, rc.Record.Purposes[i].Text, p["purpose"])
		assert.Equal(t, []any{rc.Record.Purposes[i].Code}, p["purposeCategory"])
		assert.Equal(t, "EXPLICIT", p["consentType"])
		assert.Equal(t, []any{"income", "address", "health"}, p["piiCategory"])
		assert.Equal(t, "Ends on 2027-03-01T10:00:00Z, or after 5 uses, or when withdrawn: https://agency-b.example/mis-datos", p["termination"])
		assert.Equal(t, true, p["thirdPartyDisclosure"])
		assert.Equal(t, "agency-a.example", p["thirdPartyName"], "the controller itself is no third party")
	}

	// The document round-trips: what a reader decodes encodes to the same document.
	again, err := json.Marshal(doc)
	require.NoError(t, err)
	var doc2 map[string]any
	require.NoError(t, json.Unmarshal(again, &doc2))
	assert.Equal(t, doc, doc2)

	// One receipt exports to one ID; another event to another.
	out2, err := rc.Kantara(c)
	require.NoError(t, err)
	assert.Equal(t, out, out2)
	other := kantaraReceipt()
	other.Event.Log.LeafHash[0] ^= 1
	out3, err := other.Kantara(c)
	require.NoError(t, err)
	var doc3 map[string]any
	require.NoError(t, json.Unmarshal(out3, &doc3))
	assert.NotEqual(t, doc["consentReceiptID"], doc3["consentReceiptID"])
}

func TestKantaraOtherBases(t *testing.T) {
	for _, c := range []struct {
		basis, consentType string
		disclosed          bool
	}{
		{"CO-L1581-10-A", "N/A", true},            // a public body's mandate: shared, not consent
		{"AR-L25326-5-2-D", "N/A", false},         // a contract: not shared
		{"CL-L19628-13-D", "N/A", false},          // a legitimate interest: not shared
		{"BR-LGPD-7-I", "EXPLICIT", true},         // consent
		{"MX-LGPDPPSO-16", "N/A", true},           // a public body's mandate
		{"UY-L18331-9-B-OBLIGACION", "N/A", true}, // a legal obligation
	} {
		t.Run(c.basis, func(t *testing.T) {
			rc := kantaraReceipt()
			rc.Record.LegalBasis = c.basis
			rc.Record.Status, rc.Event.Status = consent.Given, consent.Given
			if c.consentType == "N/A" {
				rc.Record.Status, rc.Event.Status = consent.BasisActive, consent.BasisActive
			}
			out, err := rc.Kantara(kantaraController())
			require.NoError(t, err)
			var doc struct {
				PublicKey *string `json:"publicKey"`
				Services  []struct {
					Purposes []map[string]any `json:"purposes"`
				} `json:"services"`
			}
			require.NoError(t, json.Unmarshal(out, &doc))
			assert.Nil(t, doc.PublicKey, "publicKey is optional and left out without a key")
			p := doc.Services[0].Purposes[0]
			assert.Equal(t, c.consentType, p["consentType"])
			assert.Equal(t, c.disclosed, p["thirdPartyDisclosure"])
			_, named := p["thirdPartyName"]
			assert.Equal(t, c.disclosed, named, "a name exactly when disclosed, as the schema's oneOf asks")
			if c.consentType == "N/A" {
				assert.NotContains(t, p["termination"], "withdrawn")
			}
		})
	}
}

func TestKantaraRefuses(t *testing.T) {
	for name, edit := range map[string]func(*consent.Receipt, *consent.KantaraController){
		"withdrawn":     func(r *consent.Receipt, _ *consent.KantaraController) { r.Record.Status = consent.Withdrawn },
		"requested":     func(r *consent.Receipt, _ *consent.KantaraController) { r.Record.Status = consent.Requested },
		"ended basis":   func(r *consent.Receipt, _ *consent.KantaraController) { r.Record.Status = consent.BasisEnded },
		"unknown basis": func(r *consent.Receipt, _ *consent.KantaraController) { r.Record.LegalBasis = "XX-NONE" },
		"no notice URL": func(r *consent.Receipt, _ *consent.KantaraController) { r.Record.Notice.URL = "" },
		"no name":       func(_ *consent.Receipt, c *consent.KantaraController) { c.Name = "" },
		"no contact":    func(_ *consent.Receipt, c *consent.KantaraController) { c.Contact = "" },
		"no email":      func(_ *consent.Receipt, c *consent.KantaraController) { c.Email = "" },
		"no phone":      func(_ *consent.Receipt, c *consent.KantaraController) { c.Phone = "" },
		"unknown key":   func(_ *consent.Receipt, c *consent.KantaraController) { c.PublicKey = struct{}{} },
	} {
		t.Run(name, func(t *testing.T) {
			rc, c := kantaraReceipt(), kantaraController()
			edit(rc, &c)
			_, err := rc.Kantara(c)
			assert.ErrorIs(t, err, consent.ErrInput)
		})
	}
}

// A receipt the store signed, verified offline, exports.
func TestKantaraFromStore(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	f := newFixture(t, db)
	ch, err := f.store.Give(ctx, grant(f.pseudo.Person("BR", "cpf", "39053344705")))
	require.NoError(t, err)
	rc, err := consent.VerifyReceipt(ch.Receipt, f.key.Public())
	require.NoError(t, err)
	c := kantaraController()
	c.PublicKey = f.key.Public()
	out, err := rc.Kantara(c)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(out, &doc))
	checkKantaraNames(t, "receipt", doc, kantaraTop, kantaraTopAllowed)
	assert.Equal(t, "BR", doc["jurisdiction"])
	assert.Equal(t, float64(ch.Event.At.Unix()), doc["consentTimestamp"])
	assert.Equal(t, false, doc["sensitive"])
	assert.Equal(t, []any{}, doc["spiCat"], "an empty array, which the schema requires")
}
