package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/notify"
)

func TestTextLetter(t *testing.T) {
	r := &notify.TextLetter{From: []string{"Agencia Ejemplo", "Calle Mayor 1"}, Location: cet}
	d := &notify.Delivery{ID: "ntf_x", To: "Ana Souza\n  Calle Falsa 123 \n28001 Madrid", Reference: "EXP-7",
		Created: time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC), Content: notify.Content{Subject: "Resolución", Text: "Texto."}}
	doc, err := r.RenderLetter(d)
	require.NoError(t, err)
	want := "Agencia Ejemplo\nCalle Mayor 1\n\nAna Souza\nCalle Falsa 123\n28001 Madrid\n\n2026-03-03\nRef.: EXP-7\nID: ntf_x\n\nResolución\n\nTexto.\n\nSHA-256: " +
		d.Content.Hash() + "\n"
	assert.Equal(t, want, string(doc.Document))
	assert.Equal(t, "text/plain; charset=utf-8", doc.ContentType)
	assert.Equal(t, []string{"Ana Souza", "Calle Falsa 123", "28001 Madrid"}, doc.Address)

	for name, to := range map[string]string{"empty": "", "blank line": "a\n\nb", "control": "a\tb", "too many lines": "1\n2\n3\n4\n5\n6\n7\n8\n9"} {
		d.To = to
		_, err := r.RenderLetter(d)
		assert.ErrorIs(t, err, notify.ErrInput, name)
	}
}

// failingPrinter refuses every letter for now.
type failingPrinter struct{}

func (failingPrinter) Print(context.Context, *notify.LetterDocument) error {
	return &notify.Error{Check: "printer", Reason: "queue full", Err: notify.ErrTemporary}
}

func TestLetterChannel(t *testing.T) {
	c, err := notify.NewLetterChannel(notify.LetterConfig{Printer: failingPrinter{}})
	require.NoError(t, err)
	assert.Equal(t, "letter", c.Name())
	assert.NoError(t, c.CheckAddress("Ana\nCalle 1"))
	assert.ErrorIs(t, c.CheckAddress(""), notify.ErrInput)
	err = c.Deliver(context.Background(), &notify.Delivery{ID: "ntf_x", To: "Ana\nCalle 1", Content: notify.Content{Text: "x"}})
	assert.ErrorIs(t, err, notify.ErrTemporary, "the printer's error decides the retry")
	err = c.Deliver(context.Background(), &notify.Delivery{ID: "ntf_x", To: "", Content: notify.Content{Text: "x"}})
	assert.ErrorIs(t, err, notify.ErrPermanent, "a letter that cannot be rendered is not tried again")
	assert.False(t, errors.Is(err, notify.ErrTemporary))
}

func TestContentHash(t *testing.T) {
	// Checked with an independent tool: printf '{"subject":"S","text":"T"}' | sha256sum.
	assert.Equal(t, "f644d05a2dc74c1d687648411df7854e065a2c2337235b882e75d098789edee3", notify.Content{Subject: "S", Text: "T"}.Hash())
	assert.Equal(t, "6a467c554e5b0879399429bdfc3a7f1521b5cf78b8a10e642a02d2f4ee977281", notify.Content{Text: "T"}.Hash(), "no subject, no subject member")
	assert.Equal(t, notify.Content{Subject: "S", Text: "T"}.Hash(), notify.Content{Subject: "S", Text: "T", HTML: "<p>T</p>"}.Hash(), "HTML is not part of it")
}
