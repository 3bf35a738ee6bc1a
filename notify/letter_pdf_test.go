package notify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// pdfText checks a PDF with qpdf and returns its text as pdftotext reads it, and its
// number of pages.
func pdfText(t *testing.T, doc []byte) (string, int) {
	t.Helper()
	qpdf := testenv.Tool(t, "qpdf")
	pdftotext := testenv.Tool(t, "pdftotext")
	f := filepath.Join(t.TempDir(), "letter.pdf")
	require.NoError(t, os.WriteFile(f, doc, 0o600))
	out, err := exec.Command(qpdf, "--check", f).CombinedOutput()
	require.NoError(t, err, "qpdf --check: %s", out)
	assert.Contains(t, string(out), "No syntax or stream encoding errors found")
	out, err = exec.Command(qpdf, "--show-npages", f).Output()
	require.NoError(t, err)
	pages, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err)
	text, err := exec.Command(pdftotext, "-enc", "UTF-8", f, "-").Output()
	require.NoError(t, err)
	return string(text), pages
}

func TestPDFLetter(t *testing.T) {
	r := &notify.PDFLetter{From: []string{"Agência Exemplo", "Rua da Conceição 1"}, Location: cet}
	content := notify.Content{Subject: "Resolución sobre su expediente",
		Text: "Señora Muñoz: la solicitud de Conceição, François y Zoë fue aprobada.\n\n" +
			"• Importe: 1.234,56 € («reducción» del 50%)\n• Placeholders stay as written: %p %P %t %v %%p.\n\n" +
			"Un enlace largo: https://sede.example.gob.es/" + strings.Repeat("x", 150)}
	d := &notify.Delivery{ID: "ntf_abc", To: "Ana Souza\nCalle Falsa 123\n28001 Madrid", Reference: "EXP-7",
		Created: time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC), Content: content}
	doc, err := r.RenderLetter(d)
	require.NoError(t, err)
	assert.Equal(t, "application/pdf", doc.ContentType)
	assert.Equal(t, []string{"Ana Souza", "Calle Falsa 123", "28001 Madrid"}, doc.Address)
	assert.Equal(t, "ntf_abc", doc.ID)
	assert.True(t, strings.HasPrefix(string(doc.Document), "%PDF-"))

	text, pages := pdfText(t, doc.Document)
	assert.Equal(t, 1, pages)
	for _, want := range []string{
		"Agência Exemplo", "Rua da Conceição 1", "Ana Souza", "Calle Falsa 123", "28001 Madrid",
		"2026-03-03", "Ref.: EXP-7", "ID: ntf_abc", "Resolución sobre su expediente",
		"Señora Muñoz: la solicitud de Conceição, François y Zoë fue aprobada.",
		"1.234,56 € («reducción» del 50%)", "%p %P %t %v %%p.",
		"SHA-256: " + content.Hash(), "1/1",
	} {
		assert.Contains(t, text, want)
	}
	assert.Contains(t, strings.ReplaceAll(text, "\n", ""), "https://sede.example.gob.es/"+strings.Repeat("x", 150), "a long word is broken, not cut off")

	// A long notice runs over pages, each with the verification line.
	d.Content = notify.Content{Text: strings.Repeat("Párrafo de prueba con acentos: ñ ç ã é.\n", 120)}
	doc, err = r.RenderLetter(d)
	require.NoError(t, err)
	text, pages = pdfText(t, doc.Document)
	assert.Equal(t, 3, pages)
	assert.Equal(t, 120, strings.Count(text, "Párrafo de prueba con acentos: ñ ç ã é."))
	assert.Equal(t, 3, strings.Count(text, "SHA-256: "+d.Content.Hash()))
	assert.Contains(t, text, "3/3")
}

func TestPDFLetterRefuses(t *testing.T) {
	r := &notify.PDFLetter{}
	ok := notify.Content{Text: "ok"}
	for _, tc := range []struct {
		name    string
		to      string
		content notify.Content
	}{
		{"a character outside Windows-1252", "Ana", notify.Content{Text: "Łódź"}},
		{"CJK", "Ana", notify.Content{Subject: "通知", Text: "x"}},
		{"an emoji", "Ana", notify.Content{Text: "ok 🙂"}},
		{"a control character", "Ana", notify.Content{Text: "a\x00b"}},
		{"a C1 control character", "Ana", notify.Content{Text: "a\u0085b"}},
		{"too many pages", "Ana", notify.Content{Text: strings.Repeat("line\n", 50*60)}},
		{"an address outside Windows-1252", "Ана\nМосква", ok},
		{"an empty address", "", ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.RenderLetter(&notify.Delivery{ID: "ntf_x", To: tc.to, Content: tc.content})
			assert.ErrorIs(t, err, notify.ErrInput)
		})
	}
}

func TestLetterChannelRefusesAtCreation(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	spool, err := notify.NewPrintSpool(t.TempDir())
	require.NoError(t, err)
	letter, err := notify.NewLetterChannel(notify.LetterConfig{Printer: spool, From: []string{"Agencia"}})
	require.NoError(t, err)
	o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db), Channels: []notify.Channel{letter}})
	require.NoError(t, err)
	tmpl, err := notify.ParseTemplate(notify.TextTemplate, "Estimada ((name)):")
	require.NoError(t, err)
	_, err = o.Send(ctx, notify.Message{Channel: "letter", To: "Ana\nCalle 1", Template: tmpl, Personalisation: map[string]any{"name": "Łucja"}})
	assert.ErrorIs(t, err, notify.ErrInput, "the letter's font cannot print it: refused now, not when printed")
	_, err = o.Send(ctx, notify.Message{Channel: "letter", To: "Łucja\nCalle 1", Template: tmpl, Personalisation: map[string]any{"name": "Ana"}})
	assert.ErrorIs(t, err, notify.ErrInput)

	_, err = notify.NewLetterChannel(notify.LetterConfig{Printer: spool, From: []string{"Агентство"}})
	assert.ErrorIs(t, err, notify.ErrConfig)
}

func TestPrintSpool(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	spool, err := notify.NewPrintSpool(dir)
	require.NoError(t, err)
	letter, err := notify.NewLetterChannel(notify.LetterConfig{Printer: spool, From: []string{"Prefeitura Exemplo"}})
	require.NoError(t, err)
	o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db), Channels: []notify.Channel{letter}})
	require.NoError(t, err)
	tmpl, err := notify.ParseTemplate(notify.TextTemplate, "Prezada ((name)), sua solicitação foi aprovada.")
	require.NoError(t, err)
	id, err := o.Send(ctx, notify.Message{Channel: "letter", To: "João Conceição\nRua Direita 10\n01000-000 São Paulo",
		Template: tmpl, Personalisation: map[string]any{"name": "Sra. Conceição"}, Reference: "P-1"})
	require.NoError(t, err)
	require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
	n, err := o.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, notify.Delivered, n.Status)

	raw, err := os.ReadFile(filepath.Join(dir, id+".json"))
	require.NoError(t, err)
	var entry notify.SpoolEntry
	require.NoError(t, json.Unmarshal(raw, &entry))
	assert.Equal(t, notify.SpoolEntry{ID: id, Reference: "P-1", Address: []string{"João Conceição", "Rua Direita 10", "01000-000 São Paulo"},
		ContentType: "application/pdf", Document: id + ".pdf", DocumentSHA256: entry.DocumentSHA256}, entry)
	doc, err := os.ReadFile(filepath.Join(dir, entry.Document))
	require.NoError(t, err)
	sum := sha256.Sum256(doc)
	assert.Equal(t, hex.EncodeToString(sum[:]), entry.DocumentSHA256)
	text, _ := pdfText(t, doc)
	assert.Contains(t, text, "Prezada Sra. Conceição, sua solicitação foi aprovada.")
	assert.Contains(t, text, "São Paulo")
	left, err := filepath.Glob(filepath.Join(dir, ".spool-*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file is left behind")

	for _, bad := range []string{"", "../x", "a/b", "ntf_X", strings.Repeat("a", 65)} {
		err := spool.Print(ctx, &notify.LetterDocument{ID: bad, Document: []byte("x")})
		assert.ErrorIs(t, err, notify.ErrPermanent, bad)
	}
	_, err = notify.NewPrintSpool(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, notify.ErrConfig)
}
