package identity

// Mi Argentina, Argentina. Source: https://github.com/argob/mi-argentina-docs
// (doc/permisos.md: scopes profile, email and optional; the optional scope carries
// dni_type and dni_number).
//
// Mi Argentina documents no acr values; an account whose identity was validated against
// RENAPER says so in verify_options, which a service reads from the raw claims.
var profileMiArgentina = &Profile{
	Name:       "miargentina",
	Country:    "AR",
	Issuer:     "https://id.argentina.gob.ar",
	Algorithms: []string{"RS256"},
	ClientAuth: ClientSecretBasic,
	Scopes:     []string{"profile", "email", "optional"},
	NationalID: &NationalIDSource{Claims: []string{"dni_number"}, Country: "AR", Scheme: "dni"},
	Source:     "https://github.com/argob/mi-argentina-docs",
}

func init() { registerProfile(profileMiArgentina) }
