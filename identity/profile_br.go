package identity

// gov.br (Login Único), Brazil. Source: "Roteiro de Integração do Login Único",
// https://acesso.gov.br/roteiro-tecnico/ (iniciarintegracao.html: authorize parameters,
// scopes; the reliability levels section for "confiabilidades").
//
// The ID token's sub is the person's CPF. gov.br puts no level in acr: the account's
// reliability levels (bronze, prata, ouro: 1, 2, 3) come from a separate REST API called
// with the access token under the govbr_confiabilidades scope. Without that call the level
// is unknown, so a service that asks for a minimum level must use the login handler (which
// makes the call) rather than verify an ID token alone. The API answers
// [{"id": "3", "dataAtualizacao": ...}, ...] with id 1 bronze, 2 prata, 3 ouro. (gov.br also
// offers the levels inside the ID token as reliability_info under the
// govbr_confiabilidades_idtoken scope; this profile uses the API, which every account has.)
var profileGovBR = &Profile{
	Name:       "gov.br",
	Country:    "BR",
	Issuer:     "https://sso.acesso.gov.br/",
	Staging:    "https://sso.staging.acesso.gov.br/",
	Algorithms: []string{"RS256"},
	ClientAuth: ClientSecretBasic,
	Scopes:     []string{"email", "profile", "govbr_confiabilidades"},
	NationalID: &NationalIDSource{Claims: []string{"sub"}, Country: "BR", Scheme: "cpf"},
	Levels: &LevelsAPI{
		URL:   "https://api.acesso.gov.br/confiabilidades/v3/contas/{sub}/niveis?response-type=ids",
		Field: "id",
		Levels: map[string]Assurance{
			"1": assureLow, "bronze": assureLow,
			"2": assureSubstantial, "prata": assureSubstantial,
			"3": assureHigh, "ouro": assureHigh,
		},
	},
	Source: "https://acesso.gov.br/roteiro-tecnico/",
}

func init() { registerProfile(profileGovBR) }
