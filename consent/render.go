package consent

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// receiptView is a receipt in plain words, in one language: what the text and HTML
// renderings say, and what a service's own receipt template may use.
type receiptView struct {
	Lang     string
	Title    string
	Summary  string // what happened, in one or two sentences
	Reason   string // why, when a party ended or invalidated it
	Facts    []fact
	Log      []fact // where the event is in the evidence log
	Proof    string // how to ask for a proof of it
	RecordID string
}

// fact is one labelled line of a rendering. Link, when set, is a web address the line
// begins with, and Value what follows it.
type fact struct {
	Label, Link, Value string
}

// linked returns the fact of a value that may be a web address: a link when it is an
// http or https URL, plain text otherwise.
func linked(label, address, rest string) fact {
	if u, err := url.Parse(address); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return fact{Label: label, Link: address, Value: rest}
	}
	return fact{Label: label, Value: address + rest}
}

// Text renders the receipt in plain words, in the person's language: what they agreed to or
// withdrew, with whom, for what, until when, how to withdraw, and where the event is in
// the evidence log, so that they can ask for a proof. lang is a BCP 47 tag; Spanish,
// Portuguese and English are known (by the primary subtag), and another language is the
// notice's language when known, else Spanish. Times are in UTC.
func (r *Receipt) Text(lang string) string {
	return receiptText(r.view(receiptLanguage(lang, r.Record.Language), time.UTC))
}

func receiptText(v receiptView) string {
	var b strings.Builder
	b.WriteString(v.Title + "\n\n" + v.Summary + "\n")
	if v.Reason != "" {
		b.WriteString(v.Reason + "\n")
	}
	b.WriteString("\n")
	for _, f := range v.Facts {
		b.WriteString(f.Label + ": " + f.Link + f.Value + "\n")
	}
	b.WriteString("\n")
	for _, f := range v.Log {
		b.WriteString(f.Label + ": " + f.Value + "\n")
	}
	b.WriteString(v.Proof + "\n")
	return b.String()
}

// HTML renders what Text says as an HTML fragment (an <article> with the language's lang
// attribute, headed by an <h2>), to put inside a page. Every value from the record is
// escaped.
func (r *Receipt) HTML(lang string) template.HTML {
	return renderReceiptHTML(r.view(receiptLanguage(lang, r.Record.Language), time.UTC))
}

func renderReceiptHTML(v receiptView) template.HTML {
	var b bytes.Buffer
	if err := receiptTemplate.Execute(&b, v); err != nil {
		// The template is this package's own: failing to execute it is a bug, and the
		// person still gets the receipt as text.
		return template.HTML("<pre>" + template.HTMLEscapeString(receiptText(v)) + "</pre>")
	}
	return template.HTML(b.String())
}

// receiptTemplate is the HTML fragment of a receipt. It is not one of the page's templates
// a service overrides: a service restyles it with its stylesheet, or renders the receipt
// itself in its own receipt.html from the same view.
var receiptTemplate = template.Must(template.New("receipt").Parse(`<article class="receipt" lang="{{.Lang}}">
<h2>{{.Title}}</h2>
<p>{{.Summary}}</p>
{{- if .Reason}}
<p>{{.Reason}}</p>
{{- end}}
<dl>
{{- range .Facts}}
<dt>{{.Label}}</dt><dd>{{if .Link}}<a href="{{.Link}}">{{.Link}}</a>{{end}}{{.Value}}</dd>
{{- end}}
</dl>
<dl class="log">
{{- range .Log}}
<dt>{{.Label}}</dt><dd><code>{{.Value}}</code></dd>
{{- end}}
</dl>
<p>{{.Proof}}</p>
</article>`))

// receiptLanguage picks the known language lang names, else the notice's, else Spanish.
func receiptLanguage(lang, notice string) *messages {
	known := defaultLanguages
	for _, l := range []string{matchLanguage(known, lang), matchLanguage(known, notice)} {
		if l != "" {
			return languages[l]
		}
	}
	return languages[known[0]]
}

// view says the receipt in m's words, with times in loc.
func (r *Receipt) view(m *messages, loc *time.Location) receiptView {
	rec, ev := &r.Record, &r.Event
	v := receiptView{Lang: m.Lang, RecordID: rec.ID, Title: fmt.Sprintf(m.ReceiptTitle, m.status(ev.Status))}
	basis := basisWords(m, rec.LegalBasis)
	sentence, ok := m.EventSentence[ev.Status]
	if !ok {
		sentence = "%[1]s: " + string(ev.Status)
	}
	v.Summary = fmt.Sprintf(sentence, m.date(ev.At, loc), rec.Controller, m.list(rec.DataCategories),
		m.list(rec.Recipients), purposeWords(m, rec.Purposes), m.by(ev.By), basis)
	if ev.Reason != "" {
		v.Reason = fmt.Sprintf(m.ReasonLine, m.reason(ev.Reason))
	}
	v.Facts = recordFacts(m, rec, loc)
	v.Log = []fact{
		{Label: m.LabelLog, Value: ev.Log.Origin},
		{Label: m.LabelEntry, Value: strconv.FormatUint(ev.Log.Seq, 10)},
		{Label: m.LabelRecorded, Value: m.date(ev.Log.Time, loc)},
		{Label: m.LabelLeafHash, Value: leafHash(r)},
	}
	v.Proof = fmt.Sprintf(m.ProofHint, rec.Controller, ev.Log.Seq, ev.Log.Origin)
	return v
}

func leafHash(r *Receipt) string {
	b, _ := r.Event.Log.LeafHash.MarshalText()
	return string(b)
}

// recordFacts are the labelled facts of a record, as a receipt and the page show them.
func recordFacts(m *messages, rec *Record, loc *time.Location) []fact {
	facts := []fact{
		{Label: m.LabelRecord, Value: rec.ID},
		{Label: m.LabelStatus, Value: m.status(rec.Status)},
		{Label: m.LabelController, Value: rec.Controller},
		{Label: m.LabelRecipients, Value: m.list(rec.Recipients)},
		{Label: m.LabelPurposes, Value: purposeWords(m, rec.Purposes)},
		{Label: m.LabelData, Value: m.list(rec.DataCategories)},
		{Label: m.LabelBasis, Value: basisWords(m, rec.LegalBasis)},
	}
	if validity := validityWords(m, rec, loc); validity != "" {
		facts = append(facts, fact{Label: m.LabelValidity, Value: validity})
	}
	facts = append(facts, fact{Label: m.LabelUses, Value: usesWords(m, rec)})
	if rec.Notice.URL != "" {
		facts = append(facts, linked(m.LabelNotice, rec.Notice.URL, fmt.Sprintf(m.NoticeValue, rec.Notice.Version, rec.Notice.SHA256)))
	}
	if rec.Method != "" {
		facts = append(facts, fact{Label: m.LabelMethod, Value: rec.Method})
	}
	if withdrawable(rec.Status) && rec.Withdrawal != "" {
		facts = append(facts, linked(m.LabelWithdrawal, rec.Withdrawal, ""))
	}
	return facts
}

// withdrawable reports whether the person may withdraw a record in status s: a consent in
// force. A record under another legal basis is not withdrawn by the person.
func withdrawable(s Status) bool { return s.CanBecome(Withdrawn) }

// purposeWords lists the texts the person was shown for the purposes, each quoted.
func purposeWords(m *messages, ps []Purpose) string {
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = m.quote(p.Text)
	}
	return m.list(texts)
}

// basisWords names a legal basis by its kind, its text and where the law says it:
// "obligación legal («Cumplimiento de una obligación legal o regulatoria», Lei nº
// 13.709/2018 (LGPD), Art. 7, II)". An unknown code is shown as it is.
func basisWords(m *messages, code string) string {
	b, err := LookupBasis(code)
	if err != nil {
		return code
	}
	text := b.Text[m.Lang]
	if text == "" {
		text = b.Text["en"]
	}
	kind := m.Kinds[b.Kind]
	if kind == "" {
		kind = string(b.Kind)
	}
	return fmt.Sprintf("%s (%s, %s, %s)", kind, m.quote(text), b.Law, b.Article)
}

// isConsent reports whether the record's legal basis is consent.
func isConsent(rec *Record) bool {
	b, err := LookupBasis(rec.LegalBasis)
	return err == nil && b.Kind == BasisConsent
}

func validityWords(m *messages, rec *Record, loc *time.Location) string {
	var parts []string
	if !rec.Validity.Until.IsZero() {
		parts = append(parts, fmt.Sprintf(m.ValidUntil, m.date(rec.Validity.Until, loc)))
	}
	if rec.Validity.MaxUses > 0 {
		parts = append(parts, fmt.Sprintf(m.MaxUses, rec.Validity.MaxUses))
	}
	return m.list(parts)
}

func usesWords(m *messages, rec *Record) string {
	if rec.Validity.MaxUses > 0 {
		return fmt.Sprintf(m.UsesOf, rec.Uses, rec.Validity.MaxUses)
	}
	return strconv.Itoa(rec.Uses)
}
