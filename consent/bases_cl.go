package consent

// Chile: Ley N° 19.628 sobre protección de la vida privada, as Ley N° 21.719 rewrote it (in
// force from 1 December 2026). Consent must be free, informed, specific, prior and
// unequivocal (Art. 12); Art. 13 lists the other sources of lawfulness: financial and
// commercial obligations under Title III (a), a legal obligation (b), a contract with the
// titular (c), legitimate interests that do not override the titular's rights (d), and
// claims before courts or public bodies (e); a) and e) are not bases here. Public bodies
// treat data without consent to fulfil their legal functions within their competence
// (Art. 20). Life and health are no basis of Art. 13 (the law reaches them through its rules
// on sensitive data), so Chile has no vital-interest basis here. Sharing (comunicación o
// cesión) is treatment and needs a source of lawfulness of its own: consent that names the
// recipient, a law, or a public body's function; a contract or a legitimate interest is left
// to consent.
var basesCL = []LegalBasis{
	{Code: "CL-L19628-12", Country: "CL", Kind: BasisConsent, Law: "Ley N° 19.628, modificada por la Ley N° 21.719", Article: "Art. 12", Sharing: true,
		Text: map[string]string{"es": "Consentimiento libre, informado, específico, previo e inequívoco del titular", "en": "Free, informed, specific, prior and unequivocal consent of the data subject"}},
	{Code: "CL-L19628-13-B", Country: "CL", Kind: BasisLegalObligation, Law: "Ley N° 19.628, modificada por la Ley N° 21.719", Article: "Art. 13, b", Sharing: true,
		Text: map[string]string{"es": "Cumplimiento de una obligación legal o lo dispuesto por la ley", "en": "Compliance with a legal obligation, or what the law provides"}},
	{Code: "CL-L19628-13-C", Country: "CL", Kind: BasisContract, Law: "Ley N° 19.628, modificada por la Ley N° 21.719", Article: "Art. 13, c",
		Text: map[string]string{"es": "Celebración o ejecución de un contrato con el titular", "en": "Entering into or performing a contract with the data subject"}},
	{Code: "CL-L19628-13-D", Country: "CL", Kind: BasisLegitimateInterest, Law: "Ley N° 19.628, modificada por la Ley N° 21.719", Article: "Art. 13, d",
		Text: map[string]string{"es": "Interés legítimo del responsable o de un tercero", "en": "Legitimate interest of the controller or a third party"}},
	{Code: "CL-L19628-20", Country: "CL", Kind: BasisPublicTask, Law: "Ley N° 19.628, modificada por la Ley N° 21.719", Article: "Art. 20", Sharing: true,
		Text: map[string]string{"es": "Funciones legales de un órgano público, dentro de su competencia", "en": "Legal functions of a public body, within its competence"}},
}

func init() { registerBases(basesCL...) }
