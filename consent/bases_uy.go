package consent

// Uruguay: Ley 18.331 de Protección de Datos Personales. Treatment is lawful when the
// titular gave free, prior, express and informed consent, documented (Art. 9); Art. 9 waives
// it for public sources (A), the functions proper to the powers of the State or a legal
// obligation (B), basic listings (C), a contractual, scientific or professional relationship
// (D), and personal or household use (E); A, C and E are not bases here. Sharing
// (comunicación, Art. 17) needs the titular's prior, revocable consent, told the purpose and
// the recipient; it is not needed when a law of general interest provides so (A), in the
// cases of Art. 9 (B), or for health data needed for sanitary reasons, an emergency or
// epidemiological studies (C). Art. 17, B would reach a contract too, but the contract basis
// does not share here: sharing on it is left to consent.
var basesUY = []LegalBasis{
	{Code: "UY-L18331-9", Country: "UY", Kind: BasisConsent, Law: "Ley 18.331", Article: "Art. 9", Sharing: true,
		Text: map[string]string{"es": "Consentimiento previo, libre, expreso e informado del titular", "en": "Prior, free, express and informed consent of the data subject"}},
	{Code: "UY-L18331-9-B-FUNCIONES", Country: "UY", Kind: BasisPublicTask, Law: "Ley 18.331", Article: "Art. 9, B; Art. 17, B", Sharing: true,
		Text: map[string]string{"es": "Ejercicio de funciones propias de los poderes del Estado", "en": "Exercise of the functions proper to the powers of the State"}},
	{Code: "UY-L18331-9-B-OBLIGACION", Country: "UY", Kind: BasisLegalObligation, Law: "Ley 18.331", Article: "Art. 9, B; Art. 17, B", Sharing: true,
		Text: map[string]string{"es": "Cumplimiento de una obligación legal", "en": "Compliance with a legal obligation"}},
	{Code: "UY-L18331-9-D", Country: "UY", Kind: BasisContract, Law: "Ley 18.331", Article: "Art. 9, D",
		Text: map[string]string{"es": "Relación contractual, científica o profesional del titular", "en": "A contractual, scientific or professional relationship of the data subject"}},
}

func init() { registerBases(basesUY...) }
