package consent

// Brazil: Lei Geral de Proteção de Dados Pessoais (Lei nº 13.709/2018), Art. 7. Sharing
// with another controller on consent needs specific consent for it (Art. 7 §5), which a
// record gives by naming its recipients; the public administration shares for public
// policies under Art. 7, III with Art. 26.
var basesBR = []LegalBasis{
	{Code: "BR-LGPD-7-I", Country: "BR", Kind: BasisConsent, Law: "Lei nº 13.709/2018 (LGPD)", Article: "Art. 7, I", Sharing: true,
		Text: map[string]string{"pt": "Consentimento do titular", "es": "Consentimiento del titular", "en": "Consent of the data subject"}},
	{Code: "BR-LGPD-7-II", Country: "BR", Kind: BasisLegalObligation, Law: "Lei nº 13.709/2018 (LGPD)", Article: "Art. 7, II", Sharing: true,
		Text: map[string]string{"pt": "Cumprimento de obrigação legal ou regulatória", "es": "Cumplimiento de una obligación legal o regulatoria", "en": "Compliance with a legal or regulatory obligation"}},
	{Code: "BR-LGPD-7-III", Country: "BR", Kind: BasisPublicTask, Law: "Lei nº 13.709/2018 (LGPD)", Article: "Art. 7, III; Art. 26", Sharing: true,
		Text: map[string]string{"pt": "Execução de políticas públicas pela administração pública", "es": "Ejecución de políticas públicas por la administración pública", "en": "Carrying out public policies by the public administration"}},
	{Code: "BR-LGPD-7-V", Country: "BR", Kind: BasisContract, Law: "Lei nº 13.709/2018 (LGPD)", Article: "Art. 7, V",
		Text: map[string]string{"pt": "Execução de contrato a pedido do titular", "es": "Ejecución de un contrato a pedido del titular", "en": "Performance of a contract at the data subject's request"}},
	{Code: "BR-LGPD-7-VII", Country: "BR", Kind: BasisVitalInterest, Law: "Lei nº 13.709/2018 (LGPD)", Article: "Art. 7, VII", Sharing: true,
		Text: map[string]string{"pt": "Proteção da vida ou da incolumidade física", "es": "Protección de la vida o de la integridad física", "en": "Protection of life or physical safety"}},
	{Code: "BR-LGPD-7-IX", Country: "BR", Kind: BasisLegitimateInterest, Law: "Lei nº 13.709/2018 (LGPD)", Article: "Art. 7, IX",
		Text: map[string]string{"pt": "Interesse legítimo do controlador", "es": "Interés legítimo del responsable", "en": "Legitimate interest of the controller"}},
}

func init() { registerBases(basesBR...) }
