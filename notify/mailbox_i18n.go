package notify

import (
	"fmt"
	"strings"
	"time"
)

// mailboxMessages is every string the mailbox page shows, in one language; the notices
// themselves come from the sending service. Formats take their arguments by index.
type mailboxMessages struct {
	Lang     string
	LangName string

	SkipLink    string
	LanguageNav string
	PageTitle   string
	Intro       string
	NoNotices   string
	Available   string // %[1]s: when it was made available
	New         string
	OpenedOn    string // %[1]s: when it was opened
	OpenWarning string
	OpenButton  string
	HashLabel   string
	BackToList  string
	Untitled    string

	SignedOutTitle  string
	SignedOut       string
	SignIn          string
	ForbiddenTitle  string
	Forbidden       string
	NotFoundTitle   string
	NotFound        string
	BadRequestTitle string
	BadRequest      string
	ErrorTitle      string
	Error           string

	Months [12]string
	Date   string // %[1]d day, %[2]s month, %[3]d year, %02[4]d hour, %02[5]d minute, %[6]s zone
}

var mailboxLanguages = map[string]*mailboxMessages{"es": &mailboxES, "pt": &mailboxPT, "en": &mailboxEN}

var defaultMailboxLanguages = []string{"es", "pt", "en"}

func (m *mailboxMessages) date(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return fmt.Sprintf(m.Date, t.Day(), m.Months[t.Month()-1], t.Year(), t.Hour(), t.Minute(), t.Format("MST"))
}

// matchMailboxLanguage returns the language of langs that a BCP 47 tag names by its
// primary subtag, or "".
func matchMailboxLanguage(langs []string, tag string) string {
	primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	primary = strings.ToLower(primary)
	for _, l := range langs {
		if l == primary {
			return l
		}
	}
	return ""
}

var mailboxES = mailboxMessages{
	Lang: "es", LangName: "Español",
	SkipLink: "Saltar al contenido principal", LanguageNav: "Idioma",
	PageTitle:   "Sus notificaciones",
	Intro:       "Aquí están las notificaciones que la administración le envió. Abrir una notificación queda registrado, con la fecha y la hora, y puede tener efectos legales.",
	NoNotices:   "No tiene notificaciones.",
	Available:   "Puesta a su disposición el %[1]s",
	New:         "Sin abrir",
	OpenedOn:    "Abierta el %[1]s",
	OpenWarning: "Al abrir esta notificación, quedará registrado que usted accedió a su contenido en este momento. Según la ley, eso puede contar como notificación practicada.",
	OpenButton:  "Abrir la notificación",
	HashLabel:   "Huella SHA-256 del contenido",
	BackToList:  "Volver a sus notificaciones",
	Untitled:    "Notificación",

	SignedOutTitle: "Inicie sesión", SignedOut: "Para ver sus notificaciones, primero inicie sesión.", SignIn: "Iniciar sesión",
	ForbiddenTitle: "No se pudo completar", Forbidden: "La solicitud no es válida o ha caducado. Vuelva a la lista e inténtelo de nuevo.",
	NotFoundTitle: "No encontrada", NotFound: "No encontramos esa notificación entre las suyas.",
	BadRequestTitle: "Solicitud no válida", BadRequest: "No pudimos leer la solicitud.",
	ErrorTitle: "Algo salió mal", Error: "No pudimos mostrar esta página. Inténtelo de nuevo más tarde.",

	Months: [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	Date:   "%[1]d de %[2]s de %[3]d, %02[4]d:%02[5]d %[6]s",
}

var mailboxPT = mailboxMessages{
	Lang: "pt", LangName: "Português",
	SkipLink: "Ir para o conteúdo principal", LanguageNav: "Idioma",
	PageTitle:   "Suas notificações",
	Intro:       "Aqui estão as notificações que a administração lhe enviou. Abrir uma notificação fica registrado, com data e hora, e pode ter efeitos legais.",
	NoNotices:   "Você não tem notificações.",
	Available:   "Disponibilizada em %[1]s",
	New:         "Não aberta",
	OpenedOn:    "Aberta em %[1]s",
	OpenWarning: "Ao abrir esta notificação, ficará registrado que você acessou o seu conteúdo neste momento. Pela lei, isso pode valer como intimação feita.",
	OpenButton:  "Abrir a notificação",
	HashLabel:   "Impressão SHA-256 do conteúdo",
	BackToList:  "Voltar às suas notificações",
	Untitled:    "Notificação",

	SignedOutTitle: "Entre na sua conta", SignedOut: "Para ver suas notificações, entre primeiro na sua conta.", SignIn: "Entrar",
	ForbiddenTitle: "Não foi possível concluir", Forbidden: "O pedido não é válido ou expirou. Volte à lista e tente de novo.",
	NotFoundTitle: "Não encontrada", NotFound: "Não encontramos essa notificação entre as suas.",
	BadRequestTitle: "Pedido inválido", BadRequest: "Não conseguimos ler o pedido.",
	ErrorTitle: "Algo deu errado", Error: "Não conseguimos mostrar esta página. Tente de novo mais tarde.",

	Months: [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
	Date:   "%[1]d de %[2]s de %[3]d, %02[4]d:%02[5]d %[6]s",
}

var mailboxEN = mailboxMessages{
	Lang: "en", LangName: "English",
	SkipLink: "Skip to main content", LanguageNav: "Language",
	PageTitle:   "Your notices",
	Intro:       "These are the notices the administration sent you. Opening a notice is recorded, with the date and time, and may have legal effect.",
	NoNotices:   "You have no notices.",
	Available:   "Made available on %[1]s",
	New:         "Not opened",
	OpenedOn:    "Opened on %[1]s",
	OpenWarning: "When you open this notice, it is recorded that you read it now. By law, that may count as the notice being served.",
	OpenButton:  "Open the notice",
	HashLabel:   "SHA-256 fingerprint of the content",
	BackToList:  "Back to your notices",
	Untitled:    "Notice",

	SignedOutTitle: "Sign in", SignedOut: "To see your notices, sign in first.", SignIn: "Sign in",
	ForbiddenTitle: "That did not work", Forbidden: "The request is not valid or has expired. Go back to the list and try again.",
	NotFoundTitle: "Not found", NotFound: "We did not find that notice among yours.",
	BadRequestTitle: "Bad request", BadRequest: "We could not read the request.",
	ErrorTitle: "Something went wrong", Error: "We could not show this page. Please try again later.",

	Months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	Date:   "%[2]s %[1]d, %[3]d, %02[4]d:%02[5]d %[6]s",
}
