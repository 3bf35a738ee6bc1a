package identity

// TARA, Estonia's authentication service. Source: "TARA technical specification",
// https://e-gov.github.io/TARA-Doku/TechnicalSpecification (§4.3.1 identity token; §8
// eIDAS levels of assurance).
//
// acr holds the eIDAS level by its short name (low, substantial, high); amr the method
// (idcard, mID, smartid, eidas). sub is the personal code prefixed with the issuing
// country ("EE38001085718"); cross-border logins carry other EU countries' prefixes. The
// names and birth date are under profile_attributes.
var profileTARA = &Profile{
	Name:       "tara",
	Country:    "EE",
	Issuer:     "https://tara.ria.ee",
	Staging:    "https://tara-test.ria.ee",
	Algorithms: []string{"RS256"},
	ClientAuth: ClientSecretBasic,
	Claims: ClaimNames{
		GivenName:  "profile_attributes.given_name",
		FamilyName: "profile_attributes.family_name",
		BirthDate:  "profile_attributes.date_of_birth",
	},
	NationalID: &NationalIDSource{Claims: []string{"sub"}, Country: "EE", Scheme: "ik", CountryPrefix: true},
	ACR: map[string]Assurance{
		"low": assureLow, "substantial": assureSubstantial, "high": assureHigh,
	},
	Source: "https://e-gov.github.io/TARA-Doku/TechnicalSpecification",
}

func init() { registerProfile(profileTARA) }
