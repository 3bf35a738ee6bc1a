package identity

// ID Uruguay (Usuario gub.uy), Uruguay. Source: AGESIC, "ID Uruguay - Integración con
// OpenID Connect", https://centroderecursos.agesic.gub.uy/web/seguridad/wiki/-/wiki/Main/ID+Uruguay+-+Integraci%C3%B3n+con+OpenID+Connect
//
// acr is urn:iduruguay:nid:0..3: 0 a self-registered, unverified account; 1 basic
// verification; 2 identity verified (in person or remotely against the civil registry);
// 3 verified with the chip of the electronic identity card or an advanced certificate.
// The document number is in numero_documento (with tipo_documento and pais_documento).
var profileIDUruguay = &Profile{
	Name:       "iduruguay",
	Country:    "UY",
	Issuer:     "https://auth.iduruguay.gub.uy/oidc/v1",
	Staging:    "https://auth-testing.iduruguay.gub.uy/oidc/v1",
	Algorithms: []string{"RS256"},
	ClientAuth: ClientSecretBasic,
	Scopes:     []string{"personal_info", "document"},
	Claims:     ClaimNames{Name: "nombre_completo", GivenName: "primer_nombre", FamilyName: "primer_apellido"},
	NationalID: &NationalIDSource{Claims: []string{"numero_documento"}, Country: "UY", Scheme: "ci"},
	ACR: map[string]Assurance{
		"urn:iduruguay:nid:0": {LoA: LoAUnknown},
		"urn:iduruguay:nid:1": assureLow,
		"urn:iduruguay:nid:2": assureSubstantial,
		"urn:iduruguay:nid:3": assureHigh,
	},
	Source: "https://centroderecursos.agesic.gub.uy/web/seguridad/wiki/-/wiki/Main/ID+Uruguay+-+Integraci%C3%B3n+con+OpenID+Connect",
}

func init() { registerProfile(profileIDUruguay) }
