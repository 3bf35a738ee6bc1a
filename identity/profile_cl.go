package identity

// ClaveÚnica, Chile. Source: "Guía técnica para integración de ClaveÚnica",
// https://digital.gob.cl/transformacion-digital/estandares-y-guias/guia-tecnica-para-integracion-de-claveunica/
//
// The person's RUN comes from userinfo, which ClaveÚnica serves on POST, as
// {"RolUnico": {"numero": 44444444, "DV": "4", "tipo": "RUN"}, "name": {"nombres": [...],
// "apellidos": [...]}}. Accounts are activated with a code handed out in person or by a
// verified channel, then used with a password; ClaveÚnica asserts no acr.
var profileClaveUnica = &Profile{
	Name:       "claveunica",
	Country:    "CL",
	Issuer:     "https://accounts.claveunica.gob.cl/openid",
	Algorithms: []string{"RS256"},
	ClientAuth: ClientSecretPost,
	Scopes:     []string{"run", "name"},
	Claims:     ClaimNames{GivenName: "name.nombres", FamilyName: "name.apellidos"},
	NationalID: &NationalIDSource{
		Claims: []string{"RolUnico.numero", "RolUnico.DV"}, Join: "-",
		Country: "CL", Scheme: "rut",
	},
	UserInfo: UserInfoForm{Method: "POST"},
	Source:   "https://digital.gob.cl/transformacion-digital/estandares-y-guias/guia-tecnica-para-integracion-de-claveunica/",
}

func init() { registerProfile(profileClaveUnica) }
