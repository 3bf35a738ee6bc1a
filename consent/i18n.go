package consent

import (
	"fmt"
	"strings"
	"time"
)

// messages is every string the person's page and a receipt's plain-language rendering show,
// in one language. The record's own text (purposes, how to withdraw, names of parties)
// comes from the record; everything around it comes from here. Formats take their
// arguments by index (%[1]s), so a language may put them in its own order.
type messages struct {
	Lang     string // BCP 47 tag, as <html lang> takes it
	LangName string // the language's name in itself, for the language links

	// The page.
	SkipLink       string
	LanguageNav    string
	PageTitle      string
	Intro          string
	RecordsHeading string
	NoRecords      string
	UsesHeading    string
	UsesCaption    string
	NoUses         string
	ColWhen        string
	ColRecipient   string
	ColController  string
	ColPurpose     string
	ColData        string
	ChangesHeading string
	WithdrawButton string // %[1]s: the purposes, quoted
	WithdrawnDone  string // %[1]s: the purposes, quoted
	ReceiptLink    string
	NotConsent     string // %[1]s: controller, %[2]s: the basis, quoted and cited
	EventLine      string // %[1]s: when, %[2]s: status, %[3]s: by whom
	ReasonLine     string // %[1]s: the reason
	You            string // who acted, when it was the person

	// The receipt page.
	ReceiptHeading  string
	SignedReceipt   string
	SignedHelp      string // %[1]s: controller
	BackToList      string
	ReceiptTitle    string // %[1]s: status
	ProofHint       string // %[1]s: controller, %[2]d: entry, %[3]s: log origin
	EventSentence   map[Status]string
	NoticeValue     string // after the notice's URL: %[1]s: version, %[2]s: SHA-256
	ValidUntil      string // %[1]s: date
	MaxUses         string // %[1]d: uses allowed
	UsesOf          string // %[1]d: used, %[2]d: allowed
	LabelRecord     string
	LabelStatus     string
	LabelController string
	LabelRecipients string
	LabelPurposes   string
	LabelData       string
	LabelBasis      string
	LabelValidity   string
	LabelUses       string
	LabelNotice     string
	LabelMethod     string
	LabelWithdrawal string
	LabelLog        string
	LabelEntry      string
	LabelRecorded   string
	LabelLeafHash   string

	// Pages that say something went wrong.
	SignedOutTitle  string
	SignedOut       string
	SignIn          string
	ForbiddenTitle  string
	Forbidden       string
	NotFoundTitle   string
	NotFound        string
	ConflictTitle   string
	Conflict        string
	BadRequestTitle string
	BadRequest      string
	ErrorTitle      string
	Error           string

	Status  map[Status]string
	Reasons map[Reason]string
	Kinds   map[BasisKind]string

	And        string // the last separator of a list: "a, b and c"
	QuoteOpen  string
	QuoteClose string
	Months     [12]string
	Date       string // %[1]d day, %[2]s month, %[3]d year, %02[4]d hour, %02[5]d minute, %[6]s zone
}

// languages are the page's languages, by primary subtag.
var languages = map[string]*messages{"es": &spanish, "pt": &portuguese, "en": &english}

// defaultLanguages are PageConfig.Languages when it is empty: the first is the default.
var defaultLanguages = []string{"es", "pt", "en"}

// matchLanguage returns the language of langs that tag (a BCP 47 tag such as "pt-BR") names
// by its primary subtag, or "".
func matchLanguage(langs []string, tag string) string {
	primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	primary = strings.ToLower(primary)
	for _, l := range langs {
		if l == primary {
			return l
		}
	}
	return ""
}

// date writes t in loc, in the language's words: "1 de diciembre de 2026, 10:00 UTC".
func (m *messages) date(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return fmt.Sprintf(m.Date, t.Day(), m.Months[t.Month()-1], t.Year(), t.Hour(), t.Minute(), t.Format("MST"))
}

// list joins items as the language writes a list: "a, b y c".
func (m *messages) list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + m.And + " " + items[len(items)-1]
}

func (m *messages) quote(s string) string { return m.QuoteOpen + s + m.QuoteClose }

func (m *messages) status(s Status) string {
	if t, ok := m.Status[s]; ok {
		return t
	}
	return string(s)
}

// reason turns an event's reason into words when it is one of the Reason codes; a party's
// own reason is shown as they wrote it.
func (m *messages) reason(r string) string {
	if t, ok := m.Reasons[Reason(r)]; ok {
		return t
	}
	return r
}

func (m *messages) by(who string) string {
	if who == byPerson {
		return m.You
	}
	return who
}

var spanish = messages{
	Lang:     "es",
	LangName: "Español",

	SkipLink:       "Saltar al contenido principal",
	LanguageNav:    "Idioma",
	PageTitle:      "Mis consentimientos y el uso de mis datos",
	Intro:          "Aquí ve a quién autorizó a usar sus datos personales, con qué base legal, y quién los usó, cuándo y para qué. Puede retirar un consentimiento en cualquier momento, tan fácilmente como lo dio.",
	RecordsHeading: "Consentimientos y otras bases legales",
	NoRecords:      "No hay ningún registro a su nombre.",
	UsesHeading:    "Quién usó mis datos",
	UsesCaption:    "Cada uso autorizado de sus datos, del más antiguo al más reciente",
	NoUses:         "Nadie ha usado sus datos con estos registros.",
	ColWhen:        "Cuándo",
	ColRecipient:   "Quién los recibió",
	ColController:  "Quién los compartió",
	ColPurpose:     "Para qué",
	ColData:        "Qué datos",
	ChangesHeading: "Cambios",
	WithdrawButton: "Retirar el consentimiento para %[1]s",
	WithdrawnDone:  "Usted retiró su consentimiento para %[1]s. Quedó registrado: desde ahora no se puede usar para compartir sus datos.",
	ReceiptLink:    "Ver el recibo del último cambio",
	NotConsent:     "Esto no es un consentimiento: %[1]s trata sus datos por %[2]s. No depende de su acuerdo y no se puede retirar aquí, pero usted ve cada uso de sus datos.",
	EventLine:      "%[1]s: %[2]s, por %[3]s",
	ReasonLine:     "Motivo: %[1]s",
	You:            "usted",

	ReceiptHeading: "Recibo",
	SignedReceipt:  "Descargar el recibo firmado (JWS)",
	SignedHelp:     "Cualquiera puede verificar el recibo firmado, sin conexión, con la clave pública de %[1]s.",
	BackToList:     "Volver a mis consentimientos",
	ReceiptTitle:   "Recibo: %[1]s",
	ProofHint:      "Para comprobar que este hecho se registró y no se modificó desde entonces, pida a %[1]s una prueba de inclusión de la entrada %[2]d del registro de evidencias %[3]s.",
	EventSentence: map[Status]string{
		Requested:   "El %[1]s, %[2]s le pidió su consentimiento para compartir sus datos (%[3]s) con %[4]s, para: %[5]s. Usted aún no ha respondido.",
		Given:       "El %[1]s, usted aceptó que %[2]s comparta sus datos (%[3]s) con %[4]s, para: %[5]s.",
		Refused:     "El %[1]s, usted no aceptó que %[2]s comparta sus datos (%[3]s) con %[4]s, para: %[5]s.",
		Renewed:     "El %[1]s, usted volvió a aceptar que %[2]s comparta sus datos (%[3]s) con %[4]s, para: %[5]s.",
		Withdrawn:   "El %[1]s, usted retiró su consentimiento para que %[2]s comparta sus datos (%[3]s) con %[4]s, para: %[5]s. Desde entonces no puede compartirlos con ese fin en virtud de este consentimiento.",
		Revoked:     "El %[1]s, %[6]s puso fin a su consentimiento para que %[2]s comparta sus datos (%[3]s) con %[4]s, para: %[5]s.",
		Expired:     "El %[1]s venció su consentimiento para que %[2]s comparta sus datos (%[3]s) con %[4]s, para: %[5]s: se cumplió su plazo o su número de usos.",
		Invalidated: "El %[1]s, %[6]s determinó que su consentimiento para que %[2]s comparta sus datos (%[3]s) con %[4]s, para: %[5]s, no era válido: ya no cuenta.",
		BasisActive: "El %[1]s, %[2]s registró que trata sus datos (%[3]s) y puede compartirlos con %[4]s, para: %[5]s, por %[7]s. Esto no es un consentimiento: no depende de su acuerdo, pero usted ve cada uso de sus datos.",
		BasisEnded:  "El %[1]s, %[2]s registró que dejó de tratar sus datos (%[3]s) para: %[5]s, que trataba por %[7]s.",
	},
	NoticeValue:     ", versión %[1]s; SHA-256 del texto: %[2]s",
	ValidUntil:      "hasta el %[1]s",
	MaxUses:         "como máximo %[1]d usos",
	UsesOf:          "%[1]d de %[2]d",
	LabelRecord:     "Registro",
	LabelStatus:     "Estado",
	LabelController: "Responsable",
	LabelRecipients: "Destinatarios",
	LabelPurposes:   "Finalidades",
	LabelData:       "Datos",
	LabelBasis:      "Base legal",
	LabelValidity:   "Validez",
	LabelUses:       "Usos",
	LabelNotice:     "Aviso que se le mostró",
	LabelMethod:     "Cómo se obtuvo",
	LabelWithdrawal: "Cómo retirarlo",
	LabelLog:        "Registro de evidencias",
	LabelEntry:      "Entrada",
	LabelRecorded:   "Registrada",
	LabelLeafHash:   "Hash de la hoja (SHA-256, base64)",

	SignedOutTitle:  "Inicie sesión",
	SignedOut:       "Para ver sus consentimientos, primero inicie sesión.",
	SignIn:          "Iniciar sesión",
	ForbiddenTitle:  "La página estaba desactualizada",
	Forbidden:       "No se hizo ningún cambio. Vuelva a sus consentimientos e inténtelo de nuevo.",
	NotFoundTitle:   "No encontrado",
	NotFound:        "No hay ningún registro suyo en esta dirección.",
	ConflictTitle:   "No se puede retirar",
	Conflict:        "Este consentimiento ya no está vigente, así que no hay nada que retirar. No se hizo ningún cambio.",
	BadRequestTitle: "Solicitud no válida",
	BadRequest:      "La solicitud no era válida. No se hizo ningún cambio.",
	ErrorTitle:      "Algo salió mal",
	Error:           "No pudimos completar la operación. Inténtelo de nuevo más tarde.",

	Status: map[Status]string{
		Requested:   "Solicitado, sin respuesta",
		Given:       "Consentimiento dado",
		Refused:     "Consentimiento rechazado",
		Renewed:     "Consentimiento renovado",
		Withdrawn:   "Consentimiento retirado",
		Revoked:     "Consentimiento revocado por otra parte",
		Expired:     "Consentimiento vencido",
		Invalidated: "Consentimiento invalidado",
		BasisActive: "Vigente por base legal (no es consentimiento)",
		BasisEnded:  "Finalizado (base legal)",
	},
	Reasons: map[Reason]string{
		ReasonAllowed:   "autorizado",
		ReasonNoRecord:  "no hay registro",
		ReasonRecipient: "el destinatario no figura",
		ReasonPurpose:   "la finalidad no está cubierta",
		ReasonData:      "los datos no están cubiertos",
		ReasonExpired:   "se cumplió su plazo",
		ReasonUsedUp:    "se agotaron sus usos",
		ReasonWithdrawn: "usted lo retiró",
		ReasonRevoked:   "otra parte lo revocó",
		ReasonInactive:  "no está vigente",
		ReasonNotYet:    "antes de que existiera el registro",
		ReasonBasis:     "la base legal no permite compartir",
	},
	Kinds: map[BasisKind]string{
		BasisConsent:            "consentimiento",
		BasisLegalObligation:    "obligación legal",
		BasisPublicTask:         "misión pública",
		BasisVitalInterest:      "protección de la vida",
		BasisContract:           "contrato",
		BasisLegitimateInterest: "interés legítimo",
	},

	And:        "y",
	QuoteOpen:  "«",
	QuoteClose: "»",
	Months:     [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	Date:       "%[1]d de %[2]s de %[3]d, %02[4]d:%02[5]d %[6]s",
}

var portuguese = messages{
	Lang:     "pt",
	LangName: "Português",

	SkipLink:       "Pular para o conteúdo principal",
	LanguageNav:    "Idioma",
	PageTitle:      "Meus consentimentos e o uso dos meus dados",
	Intro:          "Aqui você vê a quem autorizou o uso dos seus dados pessoais, com qual base legal, e quem os usou, quando e para quê. Você pode retirar um consentimento a qualquer momento, tão facilmente quanto o deu.",
	RecordsHeading: "Consentimentos e outras bases legais",
	NoRecords:      "Não há nenhum registro em seu nome.",
	UsesHeading:    "Quem usou meus dados",
	UsesCaption:    "Cada uso autorizado dos seus dados, do mais antigo ao mais recente",
	NoUses:         "Ninguém usou seus dados com estes registros.",
	ColWhen:        "Quando",
	ColRecipient:   "Quem os recebeu",
	ColController:  "Quem os compartilhou",
	ColPurpose:     "Para quê",
	ColData:        "Quais dados",
	ChangesHeading: "Alterações",
	WithdrawButton: "Retirar o consentimento para %[1]s",
	WithdrawnDone:  "Você retirou o seu consentimento para %[1]s. Ficou registrado: a partir de agora ele não pode ser usado para compartilhar os seus dados.",
	ReceiptLink:    "Ver o recibo da última alteração",
	NotConsent:     "Isto não é um consentimento: %[1]s trata os seus dados com base em %[2]s. Não depende da sua concordância e não pode ser retirado aqui, mas você vê cada uso dos seus dados.",
	EventLine:      "%[1]s: %[2]s, por %[3]s",
	ReasonLine:     "Motivo: %[1]s",
	You:            "você",

	ReceiptHeading: "Recibo",
	SignedReceipt:  "Baixar o recibo assinado (JWS)",
	SignedHelp:     "Qualquer pessoa pode verificar o recibo assinado, sem conexão, com a chave pública de %[1]s.",
	BackToList:     "Voltar aos meus consentimentos",
	ReceiptTitle:   "Recibo: %[1]s",
	ProofHint:      "Para comprovar que este fato foi registrado e não foi alterado desde então, peça a %[1]s uma prova de inclusão da entrada %[2]d do registro de evidências %[3]s.",
	EventSentence: map[Status]string{
		Requested:   "Em %[1]s, %[2]s pediu o seu consentimento para compartilhar os seus dados (%[3]s) com %[4]s, para: %[5]s. Você ainda não respondeu.",
		Given:       "Em %[1]s, você concordou que %[2]s compartilhe os seus dados (%[3]s) com %[4]s, para: %[5]s.",
		Refused:     "Em %[1]s, você não concordou que %[2]s compartilhe os seus dados (%[3]s) com %[4]s, para: %[5]s.",
		Renewed:     "Em %[1]s, você concordou novamente que %[2]s compartilhe os seus dados (%[3]s) com %[4]s, para: %[5]s.",
		Withdrawn:   "Em %[1]s, você retirou o seu consentimento para que %[2]s compartilhe os seus dados (%[3]s) com %[4]s, para: %[5]s. Desde então, não pode compartilhá-los para esse fim com base neste consentimento.",
		Revoked:     "Em %[1]s, %[6]s encerrou o seu consentimento para que %[2]s compartilhe os seus dados (%[3]s) com %[4]s, para: %[5]s.",
		Expired:     "Em %[1]s, venceu o seu consentimento para que %[2]s compartilhe os seus dados (%[3]s) com %[4]s, para: %[5]s: terminou o prazo ou o número de usos.",
		Invalidated: "Em %[1]s, %[6]s constatou que o seu consentimento para que %[2]s compartilhe os seus dados (%[3]s) com %[4]s, para: %[5]s, não era válido: ele não vale mais.",
		BasisActive: "Em %[1]s, %[2]s registrou que trata os seus dados (%[3]s) e pode compartilhá-los com %[4]s, para: %[5]s, com base em %[7]s. Isto não é um consentimento: não depende da sua concordância, mas você vê cada uso dos seus dados.",
		BasisEnded:  "Em %[1]s, %[2]s registrou que deixou de tratar os seus dados (%[3]s) para: %[5]s, que tratava com base em %[7]s.",
	},
	NoticeValue:     ", versão %[1]s; SHA-256 do texto: %[2]s",
	ValidUntil:      "até %[1]s",
	MaxUses:         "no máximo %[1]d usos",
	UsesOf:          "%[1]d de %[2]d",
	LabelRecord:     "Registro",
	LabelStatus:     "Situação",
	LabelController: "Controlador",
	LabelRecipients: "Destinatários",
	LabelPurposes:   "Finalidades",
	LabelData:       "Dados",
	LabelBasis:      "Base legal",
	LabelValidity:   "Validade",
	LabelUses:       "Usos",
	LabelNotice:     "Aviso mostrado a você",
	LabelMethod:     "Como foi obtido",
	LabelWithdrawal: "Como retirar",
	LabelLog:        "Registro de evidências",
	LabelEntry:      "Entrada",
	LabelRecorded:   "Registrada",
	LabelLeafHash:   "Hash da folha (SHA-256, base64)",

	SignedOutTitle:  "Entre na sua conta",
	SignedOut:       "Para ver os seus consentimentos, primeiro entre na sua conta.",
	SignIn:          "Entrar",
	ForbiddenTitle:  "A página estava desatualizada",
	Forbidden:       "Nenhuma alteração foi feita. Volte aos seus consentimentos e tente de novo.",
	NotFoundTitle:   "Não encontrado",
	NotFound:        "Não há nenhum registro seu neste endereço.",
	ConflictTitle:   "Não é possível retirar",
	Conflict:        "Este consentimento não está mais em vigor, então não há nada a retirar. Nenhuma alteração foi feita.",
	BadRequestTitle: "Solicitação inválida",
	BadRequest:      "A solicitação não era válida. Nenhuma alteração foi feita.",
	ErrorTitle:      "Algo deu errado",
	Error:           "Não conseguimos concluir a operação. Tente de novo mais tarde.",

	Status: map[Status]string{
		Requested:   "Solicitado, sem resposta",
		Given:       "Consentimento dado",
		Refused:     "Consentimento recusado",
		Renewed:     "Consentimento renovado",
		Withdrawn:   "Consentimento retirado",
		Revoked:     "Consentimento revogado por outra parte",
		Expired:     "Consentimento vencido",
		Invalidated: "Consentimento invalidado",
		BasisActive: "Em vigor por base legal (não é consentimento)",
		BasisEnded:  "Encerrado (base legal)",
	},
	Reasons: map[Reason]string{
		ReasonAllowed:   "autorizado",
		ReasonNoRecord:  "não há registro",
		ReasonRecipient: "o destinatário não consta",
		ReasonPurpose:   "a finalidade não está coberta",
		ReasonData:      "os dados não estão cobertos",
		ReasonExpired:   "terminou o prazo",
		ReasonUsedUp:    "acabaram os usos",
		ReasonWithdrawn: "você o retirou",
		ReasonRevoked:   "outra parte o revogou",
		ReasonInactive:  "não está em vigor",
		ReasonNotYet:    "antes de o registro existir",
		ReasonBasis:     "a base legal não permite compartilhar",
	},
	Kinds: map[BasisKind]string{
		BasisConsent:            "consentimento",
		BasisLegalObligation:    "obrigação legal",
		BasisPublicTask:         "execução de políticas públicas",
		BasisVitalInterest:      "proteção da vida",
		BasisContract:           "contrato",
		BasisLegitimateInterest: "interesse legítimo",
	},

	And:        "e",
	QuoteOpen:  "“",
	QuoteClose: "”",
	Months:     [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
	Date:       "%[1]d de %[2]s de %[3]d, %02[4]d:%02[5]d %[6]s",
}

var english = messages{
	Lang:     "en",
	LangName: "English",

	SkipLink:       "Skip to main content",
	LanguageNav:    "Language",
	PageTitle:      "My consents and the use of my data",
	Intro:          "Here you see whom you allowed to use your personal data, on what legal basis, and who used it, when and for what. You can withdraw a consent at any time, as easily as you gave it.",
	RecordsHeading: "Consents and other legal bases",
	NoRecords:      "There are no records in your name.",
	UsesHeading:    "Who used my data",
	UsesCaption:    "Each allowed use of your data, oldest first",
	NoUses:         "Nobody has used your data under these records.",
	ColWhen:        "When",
	ColRecipient:   "Who received it",
	ColController:  "Who shared it",
	ColPurpose:     "What for",
	ColData:        "Which data",
	ChangesHeading: "Changes",
	WithdrawButton: "Withdraw consent for %[1]s",
	WithdrawnDone:  "You withdrew your consent for %[1]s. It is recorded: from now on it cannot be used to share your data.",
	ReceiptLink:    "See the receipt of the latest change",
	NotConsent:     "This is not consent: %[1]s processes your data on the basis of %[2]s. It does not depend on your agreement and cannot be withdrawn here, but you see every use of your data.",
	EventLine:      "%[1]s: %[2]s, by %[3]s",
	ReasonLine:     "Reason: %[1]s",
	You:            "you",

	ReceiptHeading: "Receipt",
	SignedReceipt:  "Download the signed receipt (JWS)",
	SignedHelp:     "Anyone can check the signed receipt, offline, with the public key of %[1]s.",
	BackToList:     "Back to my consents",
	ReceiptTitle:   "Receipt: %[1]s",
	ProofHint:      "To check that this was recorded and has not been changed since, ask %[1]s for an inclusion proof of entry %[2]d of the evidence log %[3]s.",
	EventSentence: map[Status]string{
		Requested:   "On %[1]s, %[2]s asked for your consent to share your data (%[3]s) with %[4]s, for: %[5]s. You have not answered yet.",
		Given:       "On %[1]s, you agreed that %[2]s may share your data (%[3]s) with %[4]s, for: %[5]s.",
		Refused:     "On %[1]s, you did not agree that %[2]s may share your data (%[3]s) with %[4]s, for: %[5]s.",
		Renewed:     "On %[1]s, you agreed again that %[2]s may share your data (%[3]s) with %[4]s, for: %[5]s.",
		Withdrawn:   "On %[1]s, you withdrew your consent for %[2]s to share your data (%[3]s) with %[4]s, for: %[5]s. Since then it may not share your data for that on the strength of this consent.",
		Revoked:     "On %[1]s, %[6]s ended your consent for %[2]s to share your data (%[3]s) with %[4]s, for: %[5]s.",
		Expired:     "On %[1]s, your consent for %[2]s to share your data (%[3]s) with %[4]s, for: %[5]s, ended: its time or its number of uses ran out.",
		Invalidated: "On %[1]s, %[6]s found that your consent for %[2]s to share your data (%[3]s) with %[4]s, for: %[5]s, was not valid: it no longer counts.",
		BasisActive: "On %[1]s, %[2]s recorded that it processes your data (%[3]s) and may share it with %[4]s, for: %[5]s, on the basis of %[7]s. This is not consent: it does not depend on your agreement, but you see every use of your data.",
		BasisEnded:  "On %[1]s, %[2]s recorded that it stopped processing your data (%[3]s) for: %[5]s, which it did on the basis of %[7]s.",
	},
	NoticeValue:     ", version %[1]s; SHA-256 of the text: %[2]s",
	ValidUntil:      "until %[1]s",
	MaxUses:         "at most %[1]d uses",
	UsesOf:          "%[1]d of %[2]d",
	LabelRecord:     "Record",
	LabelStatus:     "Status",
	LabelController: "Controller",
	LabelRecipients: "Recipients",
	LabelPurposes:   "Purposes",
	LabelData:       "Data",
	LabelBasis:      "Legal basis",
	LabelValidity:   "Valid",
	LabelUses:       "Uses",
	LabelNotice:     "Notice you were shown",
	LabelMethod:     "How it was collected",
	LabelWithdrawal: "How to withdraw",
	LabelLog:        "Evidence log",
	LabelEntry:      "Entry",
	LabelRecorded:   "Recorded",
	LabelLeafHash:   "Leaf hash (SHA-256, base64)",

	SignedOutTitle:  "Sign in",
	SignedOut:       "To see your consents, sign in first.",
	SignIn:          "Sign in",
	ForbiddenTitle:  "The page was out of date",
	Forbidden:       "Nothing was changed. Go back to your consents and try again.",
	NotFoundTitle:   "Not found",
	NotFound:        "There is no record of yours at this address.",
	ConflictTitle:   "Cannot withdraw",
	Conflict:        "This consent is no longer in force, so there is nothing to withdraw. Nothing was changed.",
	BadRequestTitle: "Request not valid",
	BadRequest:      "The request was not valid. Nothing was changed.",
	ErrorTitle:      "Something went wrong",
	Error:           "We could not finish. Please try again later.",

	Status: map[Status]string{
		Requested:   "Requested, not answered",
		Given:       "Consent given",
		Refused:     "Consent refused",
		Renewed:     "Consent renewed",
		Withdrawn:   "Consent withdrawn",
		Revoked:     "Consent revoked by another party",
		Expired:     "Consent expired",
		Invalidated: "Consent invalidated",
		BasisActive: "In force on a legal basis (not consent)",
		BasisEnded:  "Ended (legal basis)",
	},
	Reasons: map[Reason]string{
		ReasonAllowed:   "allowed",
		ReasonNoRecord:  "there is no record",
		ReasonRecipient: "the recipient is not named",
		ReasonPurpose:   "the purpose is not covered",
		ReasonData:      "the data is not covered",
		ReasonExpired:   "its time ran out",
		ReasonUsedUp:    "its uses ran out",
		ReasonWithdrawn: "you withdrew it",
		ReasonRevoked:   "another party revoked it",
		ReasonInactive:  "it is not in force",
		ReasonNotYet:    "before the record existed",
		ReasonBasis:     "the legal basis does not allow sharing",
	},
	Kinds: map[BasisKind]string{
		BasisConsent:            "consent",
		BasisLegalObligation:    "a legal obligation",
		BasisPublicTask:         "a public task",
		BasisVitalInterest:      "protection of life",
		BasisContract:           "a contract",
		BasisLegitimateInterest: "a legitimate interest",
	},

	And:        "and",
	QuoteOpen:  "“",
	QuoteClose: "”",
	Months:     [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	Date:       "%[1]d %[2]s %[3]d, %02[4]d:%02[5]d %[6]s",
}
