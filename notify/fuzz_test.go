package notify_test

import (
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/notify"
)

// Parsing and rendering any template neither panics nor lets markup through into the HTML.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"Dear ((name)), ((urgent??Act now.)) ((docs))",
		"Subject: ((ref)) ready\n<b>((name))</b>\n\n* a\n- b\n• c",
		"(((x))) (()) ((a(b)) ((open ((a??b??c)) ((  ))",
		"((First name)) ((first_name)) ((FIRST-NAME))",
		"€{}[]^~|\\ `• á 👍",
	} {
		for typ := range 3 {
			f.Add(s, uint8(typ), "Ana <script>", "yes")
		}
	}
	f.Fuzz(func(t *testing.T, src string, typ uint8, value, cond string) {
		types := []notify.TemplateType{notify.EmailTemplate, notify.SMSTemplate, notify.TextTemplate}
		tmpl, err := notify.ParseTemplate(types[int(typ)%len(types)], src)
		if err != nil {
			require.ErrorIs(t, err, notify.ErrTemplate)
			return
		}
		values := map[string]any{}
		for i, name := range tmpl.Fields() {
			switch i % 3 {
			case 0:
				values[name] = value
			case 1:
				values[name] = []string{value, cond}
			default:
				values[name] = cond
			}
		}
		c, err := tmpl.Render(values)
		if err != nil {
			require.ErrorIs(t, err, notify.ErrInput)
			return
		}
		require.True(t, utf8.ValidString(c.Subject+c.Text+c.HTML))
		require.NotContains(t, c.Subject, "\n")
		html := c.HTML
		for _, tag := range []string{"<p>", "</p>", "<br>", "<ul>", "</ul>", "<li>", "</li>"} {
			html = strings.ReplaceAll(html, tag, "")
		}
		require.NotContains(t, html, "<", "HTML holds markup the renderer did not write")
		n := notify.CountSMS(c.Text)
		require.GreaterOrEqual(t, n.Characters, utf8.RuneCountInString(c.Text))
		if n.Fragments > 1 {
			part := 153
			if n.Encoding == notify.UCS2 {
				part = 67
			}
			require.LessOrEqual(t, n.Characters, n.Fragments*part)
			require.Greater(t, n.Characters+n.Fragments, (n.Fragments-1)*part)
		}
	})
}

// A webhook-signature header verifies exactly when it holds the true signature among at
// most limits.MaxWebhookSignatures entries, whatever else it holds.
func FuzzWebhookSignatureHeader(f *testing.F) {
	const (
		id   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts   = "1614265330"
		body = `{"test": 2432232314}`
		good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{
		Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Now:     func() time.Time { return time.Unix(1614265330, 0) },
	})
	require.NoError(f, err)
	for _, s := range []string{good, "v1a,AAAA " + good, "v1," + good[3:] + "=", "v2,x", "v1,", ",,,", good + " " + good, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="} {
		f.Add(s, ts)
	}
	f.Fuzz(func(t *testing.T, sig, stamp string) {
		h := http.Header{}
		h.Set(notify.HeaderWebhookID, id)
		h.Set(notify.HeaderWebhookTimestamp, stamp)
		h.Set(notify.HeaderWebhookSignature, sig)
		err := v.Verify(h, []byte(body))
		fields := strings.Fields(h.Get(notify.HeaderWebhookSignature))
		holds := false
		for _, f := range fields {
			holds = holds || f == good
		}
		want := stamp == ts && holds && len(fields) <= 16 && len(h.Get(notify.HeaderWebhookSignature)) <= 8<<10
		if want {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, notify.ErrSignature)
		}
	})
}

// FuzzPDFLetter checks that any notice and address either is refused as input or renders
// as a letter, and never panics: the text comes from the sending service's
// personalisation.
func FuzzPDFLetter(f *testing.F) {
	f.Add("Resolución", "Señora Muñoz: 50% %p %t\n• ñ ç ã é €", "Ana\nCalle 1")
	f.Add("", strings.Repeat("x", 500), "A")
	f.Add("通知", "\x00", "")
	r := &notify.PDFLetter{From: []string{"Agencia"}}
	f.Fuzz(func(t *testing.T, subject, text, to string) {
		if len(subject)+len(text) > 8<<10 {
			return
		}
		c := notify.Content{Subject: subject, Text: text}
		cerr := r.CheckContent(&c)
		aerr := r.CheckAddress(to)
		doc, err := r.RenderLetter(&notify.Delivery{ID: "ntf_x", To: to, Content: c})
		if cerr != nil || aerr != nil {
			if err == nil {
				t.Fatalf("checks refused (%v, %v) what renders", cerr, aerr)
			}
			return
		}
		if err != nil {
			t.Fatalf("checked content does not render: %v", err)
		}
		if !strings.HasPrefix(string(doc.Document), "%PDF-") {
			t.Fatal("not a PDF")
		}
	})
}

// FuzzEmailAddress checks the email channel's address check, which reads the address a
// sending service passes in: whatever it accepts is one bare address that Go's net/mail
// reads back as itself, fits RFC 5321's sizes, and holds nothing that could end a header
// line or a command; whatever it refuses is ErrInput.
func FuzzEmailAddress(f *testing.F) {
	for _, s := range []string{"ana@example.org", "josé@correo.gob.uy", "ñandú@ejemplo.com.py", "a@b",
		"ana@example.org\r\nBcc: eve@example.org", `"a b"@example.org`, "jose\u0301@x.example", "a\u202e@x.example",
		"Ana <ana@example.org>", "a..b@x", "a@[1.2.3.4]", "a@-x.example", "\xff@x"} {
		f.Add(s)
	}
	ch, err := notify.NewEmail(notify.EmailConfig{Host: "smtp.agency.example", From: "noreply@agency.example"})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, a string) {
		err := ch.CheckAddress(a)
		if err != nil {
			require.ErrorIs(t, err, notify.ErrInput)
			return
		}
		require.True(t, utf8.ValidString(a))
		require.LessOrEqual(t, len(a), 254)
		require.False(t, strings.ContainsFunc(a, func(r rune) bool {
			return r <= ' ' || r == 0x7f || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
		}), "%q", a)
		require.NotContains(t, a, ">")
		require.NotContains(t, a, ",")
		require.Equal(t, 1, strings.Count(a, "@"))
		local, _, _ := strings.Cut(a, "@")
		require.LessOrEqual(t, len(local), 64)
		addr, err := mail.ParseAddress(a)
		require.NoError(t, err)
		require.Equal(t, a, addr.Address)
		require.Empty(t, addr.Name)
		list, err := mail.ParseAddressList(a)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})
}
