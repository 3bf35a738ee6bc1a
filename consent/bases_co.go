package consent

// Colombia: Ley Estatutaria 1581 de 2012. Treatment needs the titular's prior, express and
// informed authorisation (Art. 4, c; Art. 9); Art. 10 lists when it does not: information a
// public or administrative entity requires in the exercise of its legal functions or by
// court order (a), public data (b), medical or sanitary urgency (c), historical, statistical
// or scientific purposes the law authorises (d), and civil-registry data (e). Only a) and c)
// are bases of their own here; b), d) and e) describe data, not a reason to share it.
// Sharing: Art. 13 allows information to be given only to the titular, to public entities in
// the exercise of their legal functions or by court order, and to third parties the titular
// or the law authorised: a record names its recipients, and the law has no contract or
// legitimate-interest basis to share on.
var basesCO = []LegalBasis{
	{Code: "CO-L1581-9", Country: "CO", Kind: BasisConsent, Law: "Ley Estatutaria 1581 de 2012", Article: "Art. 4, c; Art. 9", Sharing: true,
		Text: map[string]string{"es": "Autorización previa, expresa e informada del titular", "en": "Prior, express and informed authorisation of the data subject"}},
	{Code: "CO-L1581-10-A", Country: "CO", Kind: BasisPublicTask, Law: "Ley Estatutaria 1581 de 2012", Article: "Art. 10, a", Sharing: true,
		Text: map[string]string{"es": "Información requerida por una entidad pública en ejercicio de sus funciones legales", "en": "Information a public entity requires in the exercise of its legal functions"}},
	{Code: "CO-L1581-10-A-ORDEN", Country: "CO", Kind: BasisLegalObligation, Law: "Ley Estatutaria 1581 de 2012", Article: "Art. 10, a", Sharing: true,
		Text: map[string]string{"es": "Información requerida por orden judicial", "en": "Information required by a court order"}},
	{Code: "CO-L1581-10-C", Country: "CO", Kind: BasisVitalInterest, Law: "Ley Estatutaria 1581 de 2012", Article: "Art. 10, c", Sharing: true,
		Text: map[string]string{"es": "Urgencia médica o sanitaria", "en": "Medical or sanitary urgency"}},
}

func init() { registerBases(basesCO...) }
