package notify_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/notify"
)

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name    string
		typ     notify.TemplateType
		src     string
		values  map[string]any
		subject string
		text    string
		html    string
	}{
		{
			name:   "placeholder",
			typ:    notify.TextTemplate,
			src:    "Hello ((name)).",
			values: map[string]any{"name": "Ana"},
			text:   "Hello Ana.",
		},
		{
			name:   "names ignore case, spaces, hyphens and underscores",
			typ:    notify.TextTemplate,
			src:    "((First name)) ((first-name)) ((FIRST_NAME))",
			values: map[string]any{"firstname": "Ana"},
			text:   "Ana Ana Ana",
		},
		{
			name:   "conditional shown",
			typ:    notify.TextTemplate,
			src:    "Your visa is ready.((urgent?? Collect it today.))",
			values: map[string]any{"urgent": "Yes"},
			text:   "Your visa is ready. Collect it today.",
		},
		{
			name:   "conditional hidden",
			typ:    notify.TextTemplate,
			src:    "Your visa is ready.((urgent?? Collect it today.))",
			values: map[string]any{"urgent": "no"},
			text:   "Your visa is ready.",
		},
		{
			name:   "every truthy value of str2bool",
			typ:    notify.TextTemplate,
			src:    "((a??A))((b??B))((c??C))((d??D))((e??E))((f??F))((g??G))((h??H))",
			values: map[string]any{"a": "yes", "b": "Y", "c": "true", "d": "t", "e": "1", "f": "include", "g": "SHOW", "h": "0"},
			text:   "ABCDEFG",
		},
		{
			name:   "conditional text may hold ?? and line breaks",
			typ:    notify.TextTemplate,
			src:    "A((x??b??c\nd))",
			values: map[string]any{"x": "yes"},
			text:   "Ab??c\nd",
		},
		{
			name:   "not placeholders: nested, empty, unclosed",
			typ:    notify.TextTemplate,
			src:    "(((name))) (()) ((a(b)) ((open",
			values: map[string]any{"name": "Ana"},
			text:   "(Ana) (()) ((a(b)) ((open",
		},
		{
			name:   "list as bullets",
			typ:    notify.TextTemplate,
			src:    "Bring:((docs))\n\nThank you.",
			values: map[string]any{"docs": []string{"passport", " ", "  photo  ", "birth certificate"}},
			text:   "Bring:\n\n• passport\n• photo\n• birth certificate\n\nThank you.",
		},
		{
			name:   "list from JSON",
			typ:    notify.TextTemplate,
			src:    "((docs))",
			values: map[string]any{"docs": []any{"passport", "photo"}},
			text:   "• passport\n• photo",
		},
		{
			name:   "empty list",
			typ:    notify.TextTemplate,
			src:    "Nothing to bring((docs)).",
			values: map[string]any{"docs": []string{}},
			text:   "Nothing to bring.",
		},
		{
			name:   "list in a text message uses dashes",
			typ:    notify.SMSTemplate,
			src:    "Bring: ((docs))",
			values: map[string]any{"docs": []string{"passport", "photo"}},
			text:   "Bring:\n\n- passport\n- photo",
		},
		{
			name:    "email with subject, list and escaping",
			typ:     notify.EmailTemplate,
			src:     "Subject: Your application ((ref)) for ((docs))\r\nDear ((name)),\n\nPlease bring:((docs))\nSee <https://gov.example/a?x=1&y=2>.",
			values:  map[string]any{"ref": "A-42", "name": "<script>alert('x')</script>", "docs": []string{"passport", "Tom & Jerry's <b>"}},
			subject: "Your application A-42 for passport, Tom & Jerry's <b>",
			text:    "Dear <script>alert('x')</script>,\n\nPlease bring:\n\n• passport\n• Tom & Jerry's <b>\nSee <https://gov.example/a?x=1&y=2>.",
			html: "<p>Dear &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;,</p>\n" +
				"<p>Please bring:</p>\n" +
				"<ul>\n<li>passport</li>\n<li>Tom &amp; Jerry&#39;s &lt;b&gt;</li>\n</ul>\n" +
				"<p>See &lt;https://gov.example/a?x=1&amp;y=2&gt;.</p>\n",
		},
		{
			name:    "subject on one line",
			typ:     notify.EmailTemplate,
			src:     "subject:   Hello ((name))  \nBody",
			values:  map[string]any{"name": "Ana\r\nBcc: someone@example.org"},
			subject: "Hello Ana Bcc: someone@example.org",
			text:    "Body",
			html:    "<p>Body</p>\n",
		},
		{
			name:   "email without a subject line",
			typ:    notify.EmailTemplate,
			src:    "Line one\nline two\n\n\n\n* item\n- other",
			text:   "Line one\nline two\n\n* item\n- other",
			html:   "<p>Line one<br>\nline two</p>\n<ul>\n<li>item</li>\n<li>other</li>\n</ul>\n",
			values: map[string]any{},
		},
		{
			name:   "a Subject: line is body text outside email",
			typ:    notify.TextTemplate,
			src:    "Subject: hello",
			values: nil,
			text:   "Subject: hello",
		},
		{
			name:   "spaces tidied",
			typ:    notify.TextTemplate,
			src:    "\n\n  Hello ((name))   \n\n\n\nBye  \n",
			values: map[string]any{"name": ""},
			text:   "Hello\n\nBye",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := notify.ParseTemplate(tc.typ, tc.src)
			require.NoError(t, err)
			assert.Equal(t, tc.typ, tmpl.Type())
			c, err := tmpl.Render(tc.values)
			require.NoError(t, err)
			assert.Equal(t, tc.subject, c.Subject)
			assert.Equal(t, tc.text, c.Text)
			assert.Equal(t, tc.html, c.HTML)
		})
	}
}

func TestTemplateFields(t *testing.T) {
	tmpl, err := notify.ParseTemplate(notify.EmailTemplate, "Subject: ((Ref)) ready\n((first name)), ((ref)) ((urgent??now)) ((First_Name))")
	require.NoError(t, err)
	assert.Equal(t, []string{"Ref", "first name", "urgent"}, tmpl.Fields())
	f := tmpl.Fields()
	f[0] = "changed"
	assert.Equal(t, "Ref", tmpl.Fields()[0], "Fields returns a copy")
}

// A field missing, or a value for a field the template does not have, is an error when the
// message is created.
func TestPersonalisationRefused(t *testing.T) {
	tmpl, err := notify.ParseTemplate(notify.TextTemplate, "((name)) ((ref)) ((urgent??now))")
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		values map[string]any
		reason string
	}{
		{"nothing", nil, `missing "name", "ref", "urgent"`},
		{"one missing", map[string]any{"name": "a", "ref": "b"}, `missing "urgent"`},
		{"extra", map[string]any{"name": "a", "ref": "b", "urgent": "no", "zip": "1", "age": "2"}, `not in the template "age", "zip"`},
		{"both", map[string]any{"name": "a", "urgent": "no", "zip": "1"}, `missing "ref"; not in the template "zip"`},
		{"same field twice", map[string]any{"name": "a", "Name": "b", "ref": "c", "urgent": "no"}, `"Name" and "name" name the same field`},
		{"a number", map[string]any{"name": 7, "ref": "b", "urgent": "no"}, `the value of "name" is neither a string nor a list of strings`},
		{"a list of numbers", map[string]any{"name": []any{"a", 1}, "ref": "b", "urgent": "no"}, `an item of "name" is not a string`},
		{"not UTF-8", map[string]any{"name": "\xff", "ref": "b", "urgent": "no"}, `the value of "name" is not valid UTF-8`},
		{"too long", map[string]any{"name": strings.Repeat("a", 64<<10+1), "ref": "b", "urgent": "no"}, `the value of "name" is longer than 65536 bytes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tmpl.Render(tc.values)
			require.ErrorIs(t, err, notify.ErrInput)
			var e *notify.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "personalisation", e.Check)
			assert.Equal(t, tc.reason, e.Reason)
		})
	}
	_, err = tmpl.Render(map[string]any{"name": "", "ref": "b", "urgent": ""})
	assert.NoError(t, err, "an empty value is a value, as in GOV.UK Notify")
}

func TestParseTemplateRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   notify.TemplateType
		src   string
		check string
	}{
		{"unknown type", "letter", "x", "type"},
		{"not UTF-8", notify.TextTemplate, "a \xff", "encoding"},
		{"too long", notify.TextTemplate, strings.Repeat("a", 64<<10+1), "size"},
		{"empty subject", notify.EmailTemplate, "Subject:  \nbody", "subject"},
		{"a name of spaces", notify.TextTemplate, "((  ))", "field name"},
		{"a name with a line break", notify.TextTemplate, "((first\nname))", "field name"},
		{"a name too long", notify.TextTemplate, "((" + strings.Repeat("n", 129) + "))", "field name"},
		{"too many fields", notify.TextTemplate, manyFields(257), "fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.ParseTemplate(tc.typ, tc.src)
			require.ErrorIs(t, err, notify.ErrTemplate)
			var e *notify.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.check, e.Check)
		})
	}
	_, err := notify.ParseTemplate(notify.TextTemplate, manyFields(256))
	assert.NoError(t, err)
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("((f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "))")
	}
	return b.String()
}

func TestRenderRefused(t *testing.T) {
	empty, err := notify.ParseTemplate(notify.TextTemplate, "  ((x))  ")
	require.NoError(t, err)
	_, err = empty.Render(map[string]any{"x": " \n "})
	var e *notify.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "body", e.Check)

	sms, err := notify.ParseTemplate(notify.SMSTemplate, "((x))")
	require.NoError(t, err)
	_, err = sms.Render(map[string]any{"x": strings.Repeat("a", 918)})
	require.NoError(t, err, "918 characters is GOV.UK Notify's limit")
	_, err = sms.Render(map[string]any{"x": strings.Repeat("a", 917) + "€"})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "sms length", e.Check)

	subject, err := notify.ParseTemplate(notify.EmailTemplate, "Subject: ((s))\nbody")
	require.NoError(t, err)
	_, err = subject.Render(map[string]any{"s": strings.Repeat("s", 999)})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "subject", e.Check)
}

func TestCountSMS(t *testing.T) {
	for _, tc := range []struct {
		name      string
		text      string
		enc       notify.SMSEncoding
		chars     int
		fragments int
	}{
		{"empty", "", notify.GSM7, 0, 0},
		{"one character", "a", notify.GSM7, 1, 1},
		{"160 GSM-7", strings.Repeat("a", 160), notify.GSM7, 160, 1},
		{"161 GSM-7", strings.Repeat("a", 161), notify.GSM7, 161, 2},
		{"306 GSM-7", strings.Repeat("a", 306), notify.GSM7, 306, 2},
		{"307 GSM-7", strings.Repeat("a", 307), notify.GSM7, 307, 3},
		{"918 GSM-7", strings.Repeat("a", 918), notify.GSM7, 918, 6},
		{"GSM-7 accents and Greek", "àèéìòùÄÖÑÜäöñü¿¡ÇØøÅåÆæßÉΔΦΓΛΩΠΨΣΘΞ£¥§¤@$_", notify.GSM7, 42, 1},
		{"extension characters count twice", "€[]{}|^~\\", notify.GSM7, 18, 1},
		{"80 euro signs fill one message", strings.Repeat("€", 80), notify.GSM7, 160, 1},
		{"81 euro signs", strings.Repeat("€", 81), notify.GSM7, 162, 2},
		{"an escape pair is not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), notify.GSM7, 164, 2},
		{"an escape pair at a part's end moves", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152) + "€", notify.GSM7, 308, 3},
		{"Spanish á needs UCS-2", "Su cita está confirmada", notify.UCS2, 23, 1},
		{"70 UCS-2", strings.Repeat("á", 70), notify.UCS2, 70, 1},
		{"71 UCS-2", strings.Repeat("á", 71), notify.UCS2, 71, 2},
		{"134 UCS-2", strings.Repeat("á", 134), notify.UCS2, 134, 2},
		{"135 UCS-2", strings.Repeat("á", 135), notify.UCS2, 135, 3},
		{"GSM extension in UCS-2 counts once", "á€", notify.UCS2, 2, 1},
		{"emoji takes a surrogate pair", "ok 👍", notify.UCS2, 5, 1},
		{"a surrogate pair is not split", strings.Repeat("a", 66) + "👍" + "a", notify.UCS2, 69, 1},
		{"a surrogate pair is not split over parts", strings.Repeat("a", 66) + "👍" + strings.Repeat("a", 5), notify.UCS2, 73, 2},
		{"backquote is not GSM-7", "`", notify.UCS2, 1, 1},
		{"bullet is not GSM-7", "• a", notify.UCS2, 3, 1},
		{"Welsh ŵ is not GSM-7", "ŵ", notify.UCS2, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := notify.CountSMS(tc.text)
			assert.Equal(t, notify.SMSLength{Encoding: tc.enc, Characters: tc.chars, Fragments: tc.fragments}, got)
		})
	}
	// The arithmetic of GOV.UK Notify's get_sms_fragment_count, where no pair straddles a part.
	for n := 1; n <= 918; n++ {
		want := 1
		if n > 160 {
			want = (n + 152) / 153
		}
		require.Equal(t, want, notify.CountSMS(strings.Repeat("a", n)).Fragments, "%d GSM-7 characters", n)
		want = 1
		if n > 70 {
			want = (n + 66) / 67
		}
		require.Equal(t, want, notify.CountSMS(strings.Repeat("á", n)).Fragments, "%d UCS-2 characters", n)
	}
}
