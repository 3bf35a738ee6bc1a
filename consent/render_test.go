package consent_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
)

// sampleReceipt is a receipt as Store.Withdraw signs it, written out by hand.
func sampleReceipt(status consent.Status) *consent.Receipt {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var leaf evidence.Hash
	for i := range leaf {
		leaf[i] = byte(i)
	}
	r := &consent.Receipt{
		Version: consent.ReceiptVersion,
		Record: consent.Record{
			ID:             "cr_mfrggzdfmztwq2lknnwg23tpoa",
			Person:         "pr1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			Controller:     "agency-b.example",
			Recipients:     []string{"agency-a.example", "agency-c.example"},
			Purposes:       []consent.Purpose{{Code: "benefits", Text: "Decide your application for housing benefit"}},
			DataCategories: []string{"income", "address"},
			LegalBasis:     "BR-LGPD-7-I",
			Jurisdiction:   "BR",
			Notice:         consent.Notice{URL: "https://agency-b.example/notice", Version: "3", SHA256: strings.Repeat("ab", 32)},
			Language:       "pt-BR",
			Method:         "web-form",
			Validity:       consent.Validity{Until: at.Add(90 * 24 * time.Hour), MaxUses: 5},
			Withdrawal:     "https://agency-b.example/my-data",
			Status:         status,
			Uses:           2,
			Created:        at,
			Updated:        at.Add(time.Hour),
		},
		Event: consent.Event{
			RecordID: "cr_mfrggzdfmztwq2lknnwg23tpoa",
			Status:   status,
			At:       at.Add(time.Hour),
			By:       "person",
			Log:      evidence.Receipt{Origin: "agency-b.example/consent", Seq: 41, Time: at.Add(time.Hour), LeafHash: leaf},
		},
	}
	if status == consent.BasisActive || status == consent.BasisEnded {
		r.Record.LegalBasis = "BR-LGPD-7-II"
		r.Event.By = "agency-b.example"
	}
	return r
}

const sampleLeaf = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func TestReceiptText(t *testing.T) {
	for _, c := range []struct {
		lang   string
		status consent.Status
		want   []string
	}{
		{"es", consent.Given, []string{
			"Recibo: Consentimiento dado",
			"El 1 de diciembre de 2026, 11:00 UTC, usted aceptó que agency-b.example comparta sus datos (income y address) con agency-a.example y agency-c.example, para: «Decide your application for housing benefit».",
			"Validez: hasta el 1 de marzo de 2027, 10:00 UTC y como máximo 5 usos",
			"Usos: 2 de 5",
			"Cómo retirarlo: https://agency-b.example/my-data",
			"Base legal: consentimiento («Consentimiento del titular», Lei nº 13.709/2018 (LGPD), Art. 7, I)",
			"Aviso que se le mostró: https://agency-b.example/notice, versión 3; SHA-256 del texto: " + strings.Repeat("ab", 32),
			"Registro de evidencias: agency-b.example/consent",
			"Entrada: 41",
			"Hash de la hoja (SHA-256, base64): " + sampleLeaf,
			"pida a agency-b.example una prueba de inclusión de la entrada 41 del registro de evidencias agency-b.example/consent.",
		}},
		{"pt-BR", consent.Withdrawn, []string{
			"Recibo: Consentimento retirado",
			"Em 1 de dezembro de 2026, 11:00 UTC, você retirou o seu consentimento para que agency-b.example compartilhe os seus dados (income e address) com agency-a.example e agency-c.example, para: “Decide your application for housing benefit”.",
			"Registro: cr_mfrggzdfmztwq2lknnwg23tpoa",
			"Entrada: 41",
		}},
		{"en", consent.Given, []string{
			"Receipt: Consent given",
			"On 1 December 2026, 11:00 UTC, you agreed that agency-b.example may share your data (income and address) with agency-a.example and agency-c.example, for: “Decide your application for housing benefit”.",
			"Valid: until 1 March 2027, 10:00 UTC and at most 5 uses",
			"How to withdraw: https://agency-b.example/my-data",
			"Leaf hash (SHA-256, base64): " + sampleLeaf,
			"ask agency-b.example for an inclusion proof of entry 41 of the evidence log agency-b.example/consent.",
		}},
		{"en", consent.BasisActive, []string{
			"Receipt: In force on a legal basis (not consent)",
			"on the basis of a legal obligation (“Compliance with a legal or regulatory obligation”, Lei nº 13.709/2018 (LGPD), Art. 7, II). This is not consent",
		}},
		// A language the page does not speak: the notice's (pt-BR).
		{"fr", consent.Given, []string{"Recibo: Consentimento dado", "você concordou"}},
	} {
		t.Run(c.lang+" "+string(c.status), func(t *testing.T) {
			text := sampleReceipt(c.status).Text(c.lang)
			for _, want := range c.want {
				assert.Contains(t, text, want)
			}
			assert.NotContains(t, text, "pr1:", "the person reference is not the person's business")
		})
	}
}

func TestReceiptTextNeverCallsABasisConsent(t *testing.T) {
	for _, lang := range []string{"es", "pt", "en"} {
		text := sampleReceipt(consent.BasisActive).Text(lang)
		assert.NotContains(t, text, map[string]string{"es": "usted aceptó", "pt": "você concordou", "en": "you agreed"}[lang])
		assert.NotContains(t, text, map[string]string{"es": "Cómo retirarlo", "pt": "Como retirar", "en": "How to withdraw"}[lang])
	}
}

func TestReceiptRendersEveryStatus(t *testing.T) {
	for _, s := range []consent.Status{consent.Requested, consent.Given, consent.Refused, consent.Renewed, consent.Withdrawn,
		consent.Revoked, consent.Expired, consent.Invalidated, consent.BasisActive, consent.BasisEnded} {
		for _, lang := range []string{"es", "pt", "en"} {
			r := sampleReceipt(s)
			r.Event.Reason = "expired"
			text, html := r.Text(lang), string(r.HTML(lang))
			for _, out := range []string{text, html} {
				assert.NotContains(t, out, "%!", "%s in %s", s, lang)
				assert.NotContains(t, out, string(s), "a status is said in words")
			}
			assert.Contains(t, text, map[string]string{"es": "Motivo: se cumplió su plazo", "pt": "Motivo: terminou o prazo", "en": "Reason: its time ran out"}[lang])
		}
	}
}

func TestReceiptHTML(t *testing.T) {
	r := sampleReceipt(consent.Given)
	r.Record.Purposes[0].Text = `<script>alert("x")</script>`
	r.Record.Notice.URL = "javascript:alert(1)"
	html := string(r.HTML("en"))
	assert.True(t, strings.HasPrefix(html, `<article class="receipt" lang="en">`))
	assert.Contains(t, html, "<h2>Receipt: Consent given</h2>")
	assert.Contains(t, html, "&lt;script&gt;")
	assert.NotContains(t, html, "<script")
	assert.NotContains(t, html, "href=\"javascript")
	assert.Contains(t, html, "<dt>Entry</dt><dd><code>41</code></dd>")

	r = sampleReceipt(consent.Given)
	assert.Contains(t, string(r.HTML("es")), `<a href="https://agency-b.example/notice">`)
}

func ExampleReceipt_Text() {
	r := sampleReceipt(consent.Withdrawn)
	fmt.Print(r.Text("en"))
	// Output:
	// Receipt: Consent withdrawn
	//
	// On 1 December 2026, 11:00 UTC, you withdrew your consent for agency-b.example to share your data (income and address) with agency-a.example and agency-c.example, for: “Decide your application for housing benefit”. Since then it may not share your data for that on the strength of this consent.
	//
	// Record: cr_mfrggzdfmztwq2lknnwg23tpoa
	// Status: Consent withdrawn
	// Controller: agency-b.example
	// Recipients: agency-a.example and agency-c.example
	// Purposes: “Decide your application for housing benefit”
	// Data: income and address
	// Legal basis: consent (“Consent of the data subject”, Lei nº 13.709/2018 (LGPD), Art. 7, I)
	// Valid: until 1 March 2027, 10:00 UTC and at most 5 uses
	// Uses: 2 of 5
	// Notice you were shown: https://agency-b.example/notice, version 3; SHA-256 of the text: abababababababababababababababababababababababababababababababab
	// How it was collected: web-form
	//
	// Evidence log: agency-b.example/consent
	// Entry: 41
	// Recorded: 1 December 2026, 11:00 UTC
	// Leaf hash (SHA-256, base64): AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
	// To check that this was recorded and has not been changed since, ask agency-b.example for an inclusion proof of entry 41 of the evidence log agency-b.example/consent.
}
