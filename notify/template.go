package notify

import (
	"html"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dpiblocks/dpi/internal/limits"
)

// TemplateType says what a template is rendered for, which decides how its first line, its
// lists and its length are read.
type TemplateType string

// The template types. GOV.UK Notify has email, sms and letter; text is the plain form that
// webhooks carry.
const (
	// EmailTemplate renders a subject, plain text and HTML. An optional first line
	// "Subject: …" holds the subject.
	EmailTemplate TemplateType = "email"
	// SMSTemplate renders plain text and refuses a message longer than
	// limits.MaxSMSCharacters (918, GOV.UK Notify's limit).
	SMSTemplate TemplateType = "sms"
	// TextTemplate renders plain text, for webhooks.
	TextTemplate TemplateType = "text"
)

// Template is a parsed message template in the GOV.UK Notify style: ((name)) is replaced by
// the personalisation value of that name, ((name??text)) shows text only when the value
// is yes, and a list value renders as bullet lines. It is immutable and safe for
// concurrent use.
//
// Field names match as GOV.UK Notify matches them: ignoring case, spaces, hyphens and
// underscores, so ((First name)) takes the value given as "first_name".
type Template struct {
	typ     TemplateType
	subject []part
	body    []part
	fields  []string // names as first written, in order
	keys    map[string]bool
}

// part is literal text, or a placeholder (key set) that is conditional when cond is.
type part struct {
	text string // the literal, or a conditional placeholder's text
	key  string // the normalised field name of a placeholder
	cond bool
}

// ParseTemplate parses src as a template of type typ. For an email template a first line
// "Subject: …" (the prefix in any case) holds the subject, which may have placeholders
// too; the body is the rest. Text in (( )) that is not a placeholder (it holds a parenthesis,
// or nothing) stays as it is, as GOV.UK Notify leaves it.
func ParseTemplate(typ TemplateType, src string) (*Template, error) {
	switch typ {
	case EmailTemplate, SMSTemplate, TextTemplate:
	default:
		return nil, fail(ErrTemplate, "type", "unknown template type %q", string(typ))
	}
	if len(src) > limits.MaxNotifyTemplate {
		return nil, fail(ErrTemplate, "size", "longer than %d bytes", limits.MaxNotifyTemplate)
	}
	if !utf8.ValidString(src) {
		return nil, fail(ErrTemplate, "encoding", "not valid UTF-8")
	}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	t := &Template{typ: typ, keys: map[string]bool{}}
	body := src
	if typ == EmailTemplate {
		first, rest, _ := strings.Cut(src, "\n")
		if len(first) >= len(subjectPrefix) && strings.EqualFold(first[:len(subjectPrefix)], subjectPrefix) {
			subject := strings.TrimSpace(first[len(subjectPrefix):])
			if subject == "" {
				return nil, fail(ErrTemplate, "subject", "the Subject: line is empty")
			}
			var err error
			if t.subject, err = t.parse(subject); err != nil {
				return nil, err
			}
			body = rest
		}
	}
	var err error
	if t.body, err = t.parse(body); err != nil {
		return nil, err
	}
	return t, nil
}

const subjectPrefix = "Subject:"

// parse splits s into literals and placeholders. A placeholder is "((" then one or more
// characters that are neither '(' nor ')' then "))", found leftmost first: the pattern
// \({2}([^()]+)\){2} of GOV.UK Notify's notifications_utils/field.py.
func (t *Template) parse(s string) ([]part, error) {
	var parts []part
	lit := 0
	for i := 0; i+1 < len(s); {
		if s[i] != '(' || s[i+1] != '(' {
			i++
			continue
		}
		j := i + 2
		for j < len(s) && s[j] != '(' && s[j] != ')' {
			j++
		}
		if j == i+2 || j+1 >= len(s) || s[j] != ')' || s[j+1] != ')' {
			i++
			continue
		}
		p, err := t.placeholder(s[i+2 : j])
		if err != nil {
			return nil, err
		}
		if lit < i {
			parts = append(parts, part{text: s[lit:i]})
		}
		parts = append(parts, p)
		i = j + 2
		lit = i
	}
	if lit < len(s) {
		parts = append(parts, part{text: s[lit:]})
	}
	return parts, nil
}

// placeholder reads the inside of (( )): a name, or a name, "??" and the text shown when the
// value is yes (notifications_utils' ConditionalPlaceholder).
func (t *Template) placeholder(inner string) (part, error) {
	name, text, cond := strings.Cut(inner, "??")
	if len(name) > limits.MaxNotifyFieldName {
		return part{}, fail(ErrTemplate, "field name", "longer than %d bytes", limits.MaxNotifyFieldName)
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return part{}, fail(ErrTemplate, "field name", "a field name holds a control character or a line break")
	}
	key := fieldKey(name)
	if key == "" {
		return part{}, fail(ErrTemplate, "field name", "((%s)) names no field", name)
	}
	if !t.keys[key] {
		if len(t.fields) == limits.MaxNotifyFields {
			return part{}, fail(ErrTemplate, "fields", "more than %d fields", limits.MaxNotifyFields)
		}
		t.keys[key] = true
		t.fields = append(t.fields, strings.TrimSpace(name))
	}
	return part{key: key, text: text, cond: cond}, nil
}

// fieldKey normalises a field name as notifications_utils' InsensitiveDict does: without
// spaces, hyphens and underscores, in lower case.
func fieldKey(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch r {
		case ' ', '-', '_':
			continue
		}
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Type returns the template's type.
func (t *Template) Type() TemplateType { return t.typ }

// Fields returns the names of the personalisation fields the template needs, each once, as
// first written, subject first.
func (t *Template) Fields() []string { return slices.Clone(t.fields) }

// Content is a rendered message.
type Content struct {
	// Subject is the email subject, on one line; empty for other types and for an email
	// template without a Subject: line.
	Subject string `json:"subject,omitempty"`
	// Text is the plain-text body.
	Text string `json:"text"`
	// HTML is the email body as HTML (paragraphs, line breaks and bullet lists, every
	// value escaped); empty for other types.
	HTML string `json:"html,omitempty"`
}

// Render fills the template with personalisation values and returns the message. Each
// value is a string, or a list ([]string, or []any of strings) that renders as bullet
// lines in a body ("• item"; "- item" in a text message, as GSM-7 has no bullet) and as
// "a, b, c" in a subject. A conditional ((name??text)) shows text when the value is yes,
// y, true, t, 1, include or show, in any case (GOV.UK Notify's str2bool), and nothing
// otherwise.
//
// Every field of the template must have a value and every value must be a field of the
// template: Render names the missing and the extra ones in an *Error matching ErrInput,
// so a message is refused when it is created, never when it is sent.
func (t *Template) Render(values map[string]any) (*Content, error) {
	vals, err := t.values(values)
	if err != nil {
		return nil, err
	}
	c := &Content{}
	if t.subject != nil {
		c.Subject = strings.Join(strings.Fields(t.fill(t.subject, vals, listInline)), " ")
		if len(c.Subject) > limits.MaxNotifySubject {
			return nil, fail(ErrInput, "subject", "longer than %d bytes", limits.MaxNotifySubject)
		}
	}
	list := listBullets
	if t.typ == SMSTemplate {
		list = listDashes
	}
	c.Text = tidy(t.fill(t.body, vals, list))
	if c.Text == "" {
		return nil, fail(ErrInput, "body", "the message is empty")
	}
	switch t.typ {
	case EmailTemplate:
		c.HTML = htmlBody(c.Text)
	case SMSTemplate:
		if n := CountSMS(c.Text); n.Characters > limits.MaxSMSCharacters {
			return nil, fail(ErrInput, "sms length", "%d characters, more than %d", n.Characters, limits.MaxSMSCharacters)
		}
	}
	if len(c.Subject)+len(c.Text)+len(c.HTML) > limits.MaxNotifyContent {
		return nil, fail(ErrInput, "size", "the rendered message is longer than %d bytes", limits.MaxNotifyContent)
	}
	return c, nil
}

// value is a personalisation value: a string, or a list.
type value struct {
	s      string
	list   []string
	isList bool
}

// values checks the personalisation against the template's fields and normalises it.
func (t *Template) values(in map[string]any) (map[string]value, error) {
	if len(in) > limits.MaxNotifyFields {
		return nil, fail(ErrInput, "personalisation", "more than %d values", limits.MaxNotifyFields)
	}
	out := make(map[string]value, len(in))
	given := make(map[string]string, len(in))
	var extra []string
	for name, v := range in {
		key := fieldKey(name)
		if prev, dup := given[key]; dup {
			a, b := min(prev, name), max(prev, name)
			return nil, fail(ErrInput, "personalisation", "%q and %q name the same field", a, b)
		}
		given[key] = name
		if !t.keys[key] {
			extra = append(extra, name)
			continue
		}
		val, err := toValue(name, v)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	var missing []string
	for _, f := range t.fields {
		if _, ok := given[fieldKey(f)]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		slices.Sort(extra)
		var reason []string
		if len(missing) > 0 {
			reason = append(reason, "missing "+quoteList(missing))
		}
		if len(extra) > 0 {
			reason = append(reason, "not in the template "+quoteList(extra))
		}
		return nil, fail(ErrInput, "personalisation", "%s", strings.Join(reason, "; "))
	}
	return out, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		if len(n) > limits.MaxNotifyFieldName {
			n = n[:limits.MaxNotifyFieldName] + "…"
		}
		q[i] = `"` + strings.ToValidUTF8(n, "?") + `"`
	}
	return strings.Join(q, ", ")
}

func toValue(name string, v any) (value, error) {
	check := func(s string) error {
		if len(s) > limits.MaxNotifyValue {
			return fail(ErrInput, "personalisation", "the value of %q is longer than %d bytes", name, limits.MaxNotifyValue)
		}
		if !utf8.ValidString(s) {
			return fail(ErrInput, "personalisation", "the value of %q is not valid UTF-8", name)
		}
		return nil
	}
	var items []string
	switch v := v.(type) {
	case string:
		if err := check(v); err != nil {
			return value{}, err
		}
		return value{s: v}, nil
	case []string:
		items = v
	case []any:
		items = make([]string, len(v))
		for i, it := range v {
			s, ok := it.(string)
			if !ok {
				return value{}, fail(ErrInput, "personalisation", "an item of %q is not a string", name)
			}
			items[i] = s
		}
	default:
		return value{}, fail(ErrInput, "personalisation", "the value of %q is neither a string nor a list of strings", name)
	}
	if len(items) > limits.MaxNotifyListItems {
		return value{}, fail(ErrInput, "personalisation", "%q has more than %d items", name, limits.MaxNotifyListItems)
	}
	list := make([]string, 0, len(items))
	for _, it := range items {
		if err := check(it); err != nil {
			return value{}, err
		}
		// As notifications_utils' Field.get_replacement: items are trimmed, empty ones left out.
		if it = strings.TrimSpace(it); it != "" {
			list = append(list, it)
		}
	}
	return value{list: list, isList: true}, nil
}

// listStyle renders a list value.
type listStyle int

const (
	listInline  listStyle = iota // "a, b, c": subjects
	listBullets                  // a paragraph of "• item" lines
	listDashes                   // a paragraph of "- item" lines: text messages
)

func (t *Template) fill(parts []part, vals map[string]value, style listStyle) string {
	var b strings.Builder
	for _, p := range parts {
		if p.key == "" {
			b.WriteString(p.text)
			continue
		}
		v := vals[p.key]
		if p.cond {
			if !v.isList && truthy(v.s) {
				b.WriteString(p.text)
			}
			continue
		}
		if !v.isList {
			b.WriteString(v.s)
			continue
		}
		if len(v.list) == 0 {
			continue
		}
		switch style {
		case listInline:
			b.WriteString(strings.Join(v.list, ", "))
		default:
			bullet := "• "
			if style == listDashes {
				bullet = "- "
			}
			// As notifications_utils renders a list in a body: a paragraph of its own.
			b.WriteString("\n\n")
			for i, it := range v.list {
				if i > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(bullet)
				b.WriteString(strings.Join(strings.Fields(it), " "))
			}
		}
	}
	return b.String()
}

// truthy is notifications_utils' str2bool.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "true", "t", "1", "include", "show":
		return true
	}
	return false
}

// tidy normalises a rendered body: line ends without trailing spaces, at most one blank
// line in a row, no blank lines or spaces around the whole.
func tidy(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// htmlBody renders a tidied plain-text body as HTML: a paragraph per block of lines, line
// breaks within one, and runs of lines starting with "• ", "* " or "- " as a bullet list.
// Everything is escaped: the template's own text as much as the values.
func htmlBody(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		lines := strings.Split(para, "\n")
		for i := 0; i < len(lines); {
			j := i
			if bulletItem(lines[i]) != "" {
				b.WriteString("<ul>\n")
				for ; j < len(lines) && bulletItem(lines[j]) != ""; j++ {
					b.WriteString("<li>" + html.EscapeString(bulletItem(lines[j])) + "</li>\n")
				}
				b.WriteString("</ul>\n")
			} else {
				b.WriteString("<p>")
				for ; j < len(lines) && bulletItem(lines[j]) == ""; j++ {
					if j > i {
						b.WriteString("<br>\n")
					}
					b.WriteString(html.EscapeString(lines[j]))
				}
				b.WriteString("</p>\n")
			}
			i = j
		}
	}
	return b.String()
}

// bulletItem returns the item of a bullet line, or "".
func bulletItem(line string) string {
	for _, p := range []string{"• ", "* ", "- "} {
		if rest, ok := strings.CutPrefix(line, p); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}
