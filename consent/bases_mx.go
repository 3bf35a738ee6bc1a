package consent

// Mexico: two laws of 20 March 2025. Private parties follow the Ley Federal de Protección de
// Datos Personales en Posesión de los Particulares (LFPDPPP): treatment needs the titular's
// free, specific and informed consent unless the law exempts it, among other cases when a
// legal norm provides for the treatment and when a legal relationship with the titular
// needs it. Public bodies (sujetos obligados) follow the Ley General de Protección de Datos
// Personales en Posesión de Sujetos Obligados (LGPDPPSO), whose Art. 16 lists when consent
// need not be obtained. Sharing (transferencia) needs the titular's consent under both laws
// unless the law exempts the transfer; a legal relationship is left to consent here. Only
// article numbers confirmed against the 2025 texts are cited (which fraction of Art. 16 a
// basis rests on was not): the rest names the law alone.
var basesMX = []LegalBasis{
	{Code: "MX-LFPDPPP-CONSENTIMIENTO", Country: "MX", Kind: BasisConsent, Law: "Ley Federal de Protección de Datos Personales en Posesión de los Particulares (2025)", Sharing: true,
		Text: map[string]string{"es": "Consentimiento libre, específico e informado del titular", "en": "Free, specific and informed consent of the data subject"}},
	{Code: "MX-LFPDPPP-NORMA", Country: "MX", Kind: BasisLegalObligation, Law: "Ley Federal de Protección de Datos Personales en Posesión de los Particulares (2025)", Sharing: true,
		Text: map[string]string{"es": "Tratamiento previsto en una norma jurídica", "en": "Treatment a legal norm provides for"}},
	{Code: "MX-LFPDPPP-RELACION", Country: "MX", Kind: BasisContract, Law: "Ley Federal de Protección de Datos Personales en Posesión de los Particulares (2025)",
		Text: map[string]string{"es": "Obligaciones derivadas de una relación jurídica con el titular", "en": "Obligations arising from a legal relationship with the data subject"}},
	{Code: "MX-LGPDPPSO-CONSENTIMIENTO", Country: "MX", Kind: BasisConsent, Law: "Ley General de Protección de Datos Personales en Posesión de Sujetos Obligados (2025)", Sharing: true,
		Text: map[string]string{"es": "Consentimiento del titular ante un sujeto obligado", "en": "Consent of the data subject, given to a public body"}},
	{Code: "MX-LGPDPPSO-16", Country: "MX", Kind: BasisPublicTask, Law: "Ley General de Protección de Datos Personales en Posesión de Sujetos Obligados (2025)", Article: "Art. 16", Sharing: true,
		Text: map[string]string{"es": "Tratamiento por un sujeto obligado en los casos que la ley dispone", "en": "Treatment by a public body in the cases the law provides for"}},
}

func init() { registerBases(basesMX...) }
