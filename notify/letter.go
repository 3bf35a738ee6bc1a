package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/dpiblocks/dpi/internal/limits"
)

// LetterDocument is a letter ready to print: the document and where it goes.
type LetterDocument struct {
	// ID is the notification's ID: the same on every attempt, so that a print provider
	// prints each letter once.
	ID string
	// Reference is the sending service's reference.
	Reference string
	// Address is the postal address, one line per line.
	Address []string
	// ContentType is the document's media type, such as "text/plain; charset=utf-8".
	ContentType string
	// Document is the letter as it is printed.
	Document []byte
}

// LetterRenderer renders a notification as a letter document.
type LetterRenderer interface {
	RenderLetter(d *Delivery) (*LetterDocument, error)
}

// PrintProvider hands letters to a printing and posting service. Print returns nil once
// the provider has accepted the letter; its errors mean what a Channel's do (ErrPermanent,
// ErrTemporary, or another error to try again).
type PrintProvider interface {
	Print(ctx context.Context, doc *LetterDocument) error
}

// LetterConfig configures a LetterChannel. Printer is required.
type LetterConfig struct {
	// Name is the channel's name in Message.Channel; empty means "letter".
	Name string
	// Printer takes the rendered letters.
	Printer PrintProvider
	// Renderer renders each letter; nil means a PDFLetter with From and Location.
	Renderer LetterRenderer
	// From is the sender's name and return address, one line per line, printed at the top
	// of the default renderer's letters.
	From []string
	// Location is the time zone the default renderer dates letters in; nil means UTC.
	Location *time.Location
}

// LetterChannel is the paper channel: it renders each notification as a letter and hands
// it to a print provider, so that a person without a digital address, or who did not open
// a notice in time, still gets it. Message.To is the postal address, one line per line.
// It is immutable and safe for concurrent use.
type LetterChannel struct {
	name    string
	printer PrintProvider
	render  LetterRenderer
}

var (
	_ Channel        = (*LetterChannel)(nil)
	_ AddressChecker = (*LetterChannel)(nil)
	_ ContentChecker = (*LetterChannel)(nil)
	_ LetterRenderer = (*TextLetter)(nil)
)

// NewLetterChannel returns a letter channel.
func NewLetterChannel(cfg LetterConfig) (*LetterChannel, error) {
	if cfg.Printer == nil {
		return nil, fmt.Errorf("%w: a letter channel needs a print provider", ErrConfig)
	}
	c := &LetterChannel{name: cfg.Name, printer: cfg.Printer, render: cfg.Renderer}
	if c.name == "" {
		c.name = "letter"
	}
	if err := checkChannelName(c.name); err != nil {
		return nil, err
	}
	if c.render == nil {
		if len(cfg.From) > limits.MaxLetterAddressLines {
			return nil, fmt.Errorf("%w: at most %d lines of return address", ErrConfig, limits.MaxLetterAddressLines)
		}
		for _, l := range cfg.From {
			if err := checkLetterText("return address", l); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrConfig, err)
			}
		}
		c.render = &PDFLetter{From: append([]string(nil), cfg.From...), Location: cfg.Location}
	}
	return c, nil
}

// Name returns the channel's name.
func (c *LetterChannel) Name() string { return c.name }

// CheckAddress accepts a postal address of 1 to limits.MaxLetterAddressLines non-empty
// lines without other control characters, that the renderer can print when it is an
// AddressChecker (a PDFLetter is).
func (c *LetterChannel) CheckAddress(to string) error {
	if _, err := addressLines(to); err != nil {
		return err
	}
	if ac, ok := c.render.(AddressChecker); ok {
		return ac.CheckAddress(to)
	}
	return nil
}

func addressLines(to string) ([]string, error) {
	lines := strings.Split(strings.TrimSpace(to), "\n")
	if to == "" || len(lines) > limits.MaxLetterAddressLines {
		return nil, fail(ErrInput, "postal address", "1 to %d lines", limits.MaxLetterAddressLines)
	}
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
		if lines[i] == "" || strings.ContainsFunc(l, unicode.IsControl) {
			return nil, fail(ErrInput, "postal address", "empty lines or control characters")
		}
	}
	return lines, nil
}

// CheckContent accepts content the channel's renderer can print, when the renderer is a
// ContentChecker (a PDFLetter is).
func (c *LetterChannel) CheckContent(content *Content) error {
	if cc, ok := c.render.(ContentChecker); ok {
		return cc.CheckContent(content)
	}
	return nil
}

// Deliver renders the letter and hands it to the print provider.
func (c *LetterChannel) Deliver(ctx context.Context, d *Delivery) error {
	doc, err := c.render.RenderLetter(d)
	if err != nil {
		return &Error{Check: "letter", Reason: "cannot be rendered", Err: ErrPermanent}
	}
	return c.printer.Print(ctx, doc)
}

// TextLetter renders a letter as plain text (UTF-8), laid out for a windowed envelope: the
// return address, the recipient's address, the date, the references, the notice, and the
// notice's SHA-256 so that the person can match the letter with the notice in their
// mailbox and with a proof of delivery.
type TextLetter struct {
	// From is the sender's name and return address, one line per line.
	From []string
	// Location is the time zone the letter is dated in; nil means UTC.
	Location *time.Location
}

// RenderLetter renders d.
func (t *TextLetter) RenderLetter(d *Delivery) (*LetterDocument, error) {
	addr, err := addressLines(d.To)
	if err != nil {
		return nil, err
	}
	loc := t.Location
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	for _, l := range t.From {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	for _, l := range addr {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "\n%s\n", d.Created.In(loc).Format(time.DateOnly))
	if d.Reference != "" {
		fmt.Fprintf(&b, "Ref.: %s\n", d.Reference)
	}
	fmt.Fprintf(&b, "ID: %s\n\n", d.ID)
	if d.Content.Subject != "" {
		b.WriteString(d.Content.Subject + "\n\n")
	}
	b.WriteString(d.Content.Text + "\n\n")
	fmt.Fprintf(&b, "SHA-256: %s\n", d.Content.Hash())
	return &LetterDocument{ID: d.ID, Reference: d.Reference, Address: addr, ContentType: "text/plain; charset=utf-8", Document: []byte(b.String())}, nil
}
