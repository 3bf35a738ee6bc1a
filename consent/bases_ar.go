package consent

// Argentina: Ley 25.326 de Protección de los Datos Personales. Treatment is unlawful without
// the titular's free, express and informed consent, in writing or its equivalent (Art. 5.1).
// Art. 5.2 lists when it is not needed: sources of unrestricted public access (a), the
// functions proper to the powers of the State or a legal obligation (b), basic listings (c),
// a contractual, scientific or professional relationship (d), and banking operations (e);
// a), c) and e) describe data or a sector, not a basis here. Sharing (cesión, Art. 11) needs
// the titular's prior consent and an interest of both parties; Art. 11.3 waives it when a
// law provides so, in the cases of Art. 5.2, between State bodies within their competence,
// and for health data needed for public health or an emergency, dissociated. Art. 11.3, b
// would reach a contract too, but the contract basis does not share here: a record of it
// keeps the data with the controller, and sharing on it is left to consent.
var basesAR = []LegalBasis{
	{Code: "AR-L25326-5-1", Country: "AR", Kind: BasisConsent, Law: "Ley 25.326", Article: "Art. 5, inc. 1", Sharing: true,
		Text: map[string]string{"es": "Consentimiento libre, expreso e informado del titular", "en": "Free, express and informed consent of the data subject"}},
	{Code: "AR-L25326-5-2-B-FUNCIONES", Country: "AR", Kind: BasisPublicTask, Law: "Ley 25.326", Article: "Art. 5, inc. 2, b; Art. 11, inc. 3, c", Sharing: true,
		Text: map[string]string{"es": "Ejercicio de funciones propias de los poderes del Estado", "en": "Exercise of the functions proper to the powers of the State"}},
	{Code: "AR-L25326-5-2-B-OBLIGACION", Country: "AR", Kind: BasisLegalObligation, Law: "Ley 25.326", Article: "Art. 5, inc. 2, b; Art. 11, inc. 3, a", Sharing: true,
		Text: map[string]string{"es": "Cumplimiento de una obligación legal", "en": "Compliance with a legal obligation"}},
	{Code: "AR-L25326-5-2-D", Country: "AR", Kind: BasisContract, Law: "Ley 25.326", Article: "Art. 5, inc. 2, d",
		Text: map[string]string{"es": "Relación contractual, científica o profesional del titular", "en": "A contractual, scientific or professional relationship of the data subject"}},
}

func init() { registerBases(basesAR...) }
