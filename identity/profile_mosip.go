package identity

// MOSIP eSignet, used by several national ID programmes (each deployment has its own
// issuer: set Issuer.URL). Source: eSignet documentation, https://docs.esignet.io/
// (integration guide: authorization request acr_values, private_key_jwt client assertion,
// userinfo response as a signed and optionally encrypted JWT; "Supported ACRs":
// generated-code for OTP, biometrics with an SBI 2.0 device, linked-wallet with a bound
// wallet key).
//
// eSignet's acr names an authentication method, not a level: the mapping below is the
// method's strength with an identity already verified by the national registry. Its ID
// token carries no personal claims: names come from userinfo. The national number (UIN or
// VID) is not released as a claim by default, so no NationalID source is set.
var profileESignet = &Profile{
	Name:        "esignet",
	Algorithms:  []string{"RS256", "PS256", "ES256"},
	ClientAuth:  PrivateKeyJWT,
	Scopes:      []string{"profile"},
	BareIDToken: true,
	UserInfo:    UserInfoForm{Signed: true},
	ACR: map[string]Assurance{
		"mosip:idp:acr:static-code":    {LoA: LoALow, IAL: 2, AAL: 1},
		"mosip:idp:acr:password":       {LoA: LoALow, IAL: 2, AAL: 1},
		"mosip:idp:acr:generated-code": {LoA: LoALow, IAL: 2, AAL: 1},
		"mosip:idp:acr:knowledge":      {LoA: LoALow, IAL: 2, AAL: 1},
		"mosip:idp:acr:linked-wallet":  assureSubstantial,
		"mosip:idp:acr:biometrics":     assureSubstantial,
	},
	Source: "https://docs.esignet.io/",
}

func init() { registerProfile(profileESignet) }
