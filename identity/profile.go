package identity

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Profile is what a relying party must know about one national IdP, as data: where it is,
// which claims carry what, how its acr (or amr, or a separate API) maps to a level of
// assurance, and how clients authenticate. The built-in profiles live one per file
// (profile_br.go, ...); a fork adds its country the same way, without touching code.
type Profile struct {
	// Name identifies the profile ("gov.br", "claveunica", ...).
	Name string
	// Country is the ISO 3166-1 alpha-2 code of the IdP's country.
	Country string
	// Issuer is the production issuer identifier; Staging the test environment's.
	Issuer, Staging string
	// Algorithms the IdP signs ID tokens with; they become the issuer's allow-list when the
	// Issuer configuration names none.
	Algorithms []string
	// ClientAuth is how the IdP wants clients to authenticate at its token endpoint.
	ClientAuth ClientAuth
	// Scopes to request besides openid.
	Scopes []string
	// Claims names the claims that carry the person's names and birth date; empty fields
	// mean the OpenID Connect Core §5.1 standard names.
	Claims ClaimNames
	// NationalID says where the national identity number is and which scheme validates it;
	// nil when the IdP gives none.
	NationalID *NationalIDSource
	// ACR maps acr values to assurance; eIDAS URIs and short names are always understood.
	ACR map[string]Assurance
	// AMR maps amr values to assurance, used when no acr value is mapped.
	AMR map[string]Assurance
	// Levels, when set, is a REST API that reports the person's level (gov.br's
	// "confiabilidades"), queried with the access token after login.
	Levels *LevelsAPI
	// UserInfo describes the IdP's userinfo endpoint.
	UserInfo UserInfoForm
	// BareIDToken is true when the ID token carries no personal claims, so the names and the
	// national number come from userinfo (MOSIP eSignet).
	BareIDToken bool
	// Source cites the documentation the profile was written from.
	Source string
}

// ClientAuth is a token endpoint client authentication method (OpenID Connect Core §9).
type ClientAuth string

// Client authentication methods.
const (
	ClientSecretBasic ClientAuth = "client_secret_basic"
	ClientSecretPost  ClientAuth = "client_secret_post"
	PrivateKeyJWT     ClientAuth = "private_key_jwt" // RFC 7523 §2.2
)

// ClaimNames names the claims for a person's names and birth date. A name may be a dotted
// path into nested objects ("persona.nombres").
type ClaimNames struct {
	Name, GivenName, FamilyName, BirthDate string
}

// NationalIDSource locates the national identity number among the claims.
type NationalIDSource struct {
	// Claims are dotted paths whose string (or number) values are joined with Join to form
	// the number: {"RolUnico.numero", "RolUnico.DV"} with "-" gives a Chilean RUN.
	Claims []string
	Join   string
	// Country and Scheme select the identity/nationalid validator.
	Country, Scheme string
	// CountryPrefix is set when the value starts with the ISO 3166-1 alpha-2 code of the
	// issuing country ("EE38001085718" from TARA); then Country is only the default and
	// Scheme applies when the prefix equals Country.
	CountryPrefix bool
}

// LevelsAPI is a REST endpoint that lists the person's assurance levels, such as gov.br's
// reliability levels (bronze, prata, ouro), which are not carried in acr.
type LevelsAPI struct {
	// URL with {sub} replaced by the subject (path-escaped).
	URL string
	// Field is the member of each element of the returned JSON array that names a level.
	Field string
	// Levels maps a level name to assurance; the highest listed level wins.
	Levels map[string]Assurance
}

// UserInfoForm describes a userinfo endpoint: the HTTP method and what comes back.
type UserInfoForm struct {
	Method string // "GET" (default) or "POST"
	// Signed is true when the response is a JWT (application/jwt), possibly encrypted.
	Signed bool
}

var profiles = map[string]*Profile{}

// registerProfile adds a built-in profile; each profile file calls it from init.
func registerProfile(p *Profile) {
	if _, dup := profiles[p.Name]; dup {
		panic("identity: duplicate profile " + p.Name) // programmer error in a profile file
	}
	profiles[p.Name] = p
}

// Profiles lists the names of the built-in profiles.
func Profiles() []string {
	names := slices.Collect(maps.Keys(profiles))
	sort.Strings(names)
	return names
}

// LookupProfile returns a copy of the built-in profile with that name, to use as is or to
// adjust (a staging issuer, say).
func LookupProfile(name string) (*Profile, error) {
	p, ok := profiles[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w: unknown profile %q", ErrConfig, truncate(name, 40))
	}
	return p.clone(), nil
}

func (p *Profile) clone() *Profile {
	c := *p
	c.Algorithms = slices.Clone(p.Algorithms)
	c.Scopes = slices.Clone(p.Scopes)
	c.ACR = maps.Clone(p.ACR)
	c.AMR = maps.Clone(p.AMR)
	if p.NationalID != nil {
		n := *p.NationalID
		n.Claims = slices.Clone(n.Claims)
		c.NationalID = &n
	}
	if p.Levels != nil {
		l := *p.Levels
		l.Levels = maps.Clone(l.Levels)
		c.Levels = &l
	}
	return &c
}

// genericProfile is used for an issuer configured without a profile: standard claims and
// eIDAS acr values only.
var genericProfile = &Profile{Name: "oidc"}

func (p *Profile) validate() error {
	for v, a := range p.ACR {
		if a.LoA < LoAUnknown || a.LoA > LoAHigh {
			return fmt.Errorf("%w: profile %s: acr %q maps to no level", ErrConfig, p.Name, v)
		}
	}
	switch p.ClientAuth {
	case "", ClientSecretBasic, ClientSecretPost, PrivateKeyJWT:
	default:
		return fmt.Errorf("%w: profile %s: unknown client auth %q", ErrConfig, p.Name, p.ClientAuth)
	}
	if n := p.NationalID; n != nil {
		if len(n.Claims) == 0 || n.Country == "" || n.Scheme == "" {
			return fmt.Errorf("%w: profile %s: national id needs claims, country and scheme", ErrConfig, p.Name)
		}
		// A cross-border profile (TARA) may name a scheme nationalid does not know yet:
		// those numbers are kept but marked not validated.
		if err := checkScheme(n.Country, n.Scheme); err != nil && !n.CountryPrefix {
			return fmt.Errorf("%w: profile %s: %v", ErrConfig, p.Name, err)
		}
	}
	if l := p.Levels; l != nil {
		if _, err := checkEndpoint("levels url", strings.ReplaceAll(l.URL, "{sub}", "x")); err != nil {
			return fmt.Errorf("%w: profile %s: %v", ErrConfig, p.Name, err)
		}
	}
	return nil
}
