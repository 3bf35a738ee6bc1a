package consent

// Peru: Ley N° 29733 de Protección de Datos Personales. Treatment needs the titular's
// consent (Art. 5), which must be free, prior, informed, express and unequivocal (Art. 13.5);
// Art. 14 lists when it is not needed, among them data collected for the functions of public
// entities within their competence (14.1), data needed for a contractual relationship to
// which the titular is a party, and health data needed, in circumstances of risk, for the
// titular's prevention, diagnosis and treatment (14.6). Sharing (transferencia) is treatment
// too and needs consent unless one of those limits applies; a contract is left to consent
// here. The contract's numeral of Art. 14 is not cited: it could not be confirmed.
var basesPE = []LegalBasis{
	{Code: "PE-L29733-5", Country: "PE", Kind: BasisConsent, Law: "Ley N° 29733", Article: "Art. 5; Art. 13.5", Sharing: true,
		Text: map[string]string{"es": "Consentimiento libre, previo, informado, expreso e inequívoco del titular", "en": "Free, prior, informed, express and unequivocal consent of the data subject"}},
	{Code: "PE-L29733-14-1", Country: "PE", Kind: BasisPublicTask, Law: "Ley N° 29733", Article: "Art. 14.1", Sharing: true,
		Text: map[string]string{"es": "Ejercicio de las funciones de una entidad pública, en el ámbito de sus competencias", "en": "Exercise of a public entity's functions, within its competence"}},
	{Code: "PE-L29733-14-CONTRATO", Country: "PE", Kind: BasisContract, Law: "Ley N° 29733", Article: "Art. 14",
		Text: map[string]string{"es": "Relación contractual en la que el titular es parte", "en": "A contractual relationship to which the data subject is a party"}},
	{Code: "PE-L29733-14-6", Country: "PE", Kind: BasisVitalInterest, Law: "Ley N° 29733", Article: "Art. 14.6", Sharing: true,
		Text: map[string]string{"es": "Datos de salud necesarios, en circunstancia de riesgo, para la prevención, diagnóstico y tratamiento del titular", "en": "Health data needed, in circumstances of risk, for the data subject's prevention, diagnosis and treatment"}},
}

func init() { registerBases(basesPE...) }
