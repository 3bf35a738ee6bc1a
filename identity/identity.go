package identity

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Identity is a verified person, normalised across IdPs.
type Identity struct {
	// Issuer is the iss of the ID token, one of the configured issuers; Subject its sub,
	// the person's stable identifier at that issuer (issuer and subject together identify
	// the person); Profile the name of the issuer's Profile ("oidc" without one).
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	Profile string `json:"profile"`
	// Name, GivenName and FamilyName are the person's names as the IdP gives them (from
	// the profile's claims, else the OpenID Connect Core §5.1 ones), empty when absent.
	Name       string `json:"name,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	// BirthDate as the IdP gives it, normally YYYY-MM-DD (OpenID Connect Core §5.1).
	BirthDate string `json:"birth_date,omitempty"`
	// NationalID is the national number the profile locates, validated; nil when the IdP
	// gave none.
	NationalID *NationalID `json:"national_id,omitempty"`
	// Assurance is the level of assurance of this login.
	Assurance Assurance `json:"assurance"`
	// ACR, AMR and AssuranceSource ("acr", "amr", "levels" or "none") say where the level
	// came from.
	ACR             string   `json:"acr,omitempty"`
	AMR             []string `json:"amr,omitempty"`
	AssuranceSource string   `json:"assurance_source"`
	// AuthTime is when the person authenticated at the IdP (auth_time), zero when the
	// token does not say; Expiry is the ID token's exp.
	AuthTime time.Time `json:"auth_time,omitzero"`
	Expiry   time.Time `json:"expiry"`
	// Claims are the ID token's claims as signed, for anything the normalised fields do
	// not carry. UserInfo holds the verified userinfo claims once fetched.
	Claims   json.RawMessage `json:"claims"`
	UserInfo json.RawMessage `json:"userinfo,omitempty"`
}

// claimSource looks claims up by dotted path in a JSON object, decoding it only if asked.
type claimSource struct {
	raw []byte
	m   map[string]json.RawMessage
	err bool
}

// get returns the string form of the claim at path: a string, a number, or an array of
// strings joined with spaces (ClaveÚnica's name lists).
func (s *claimSource) get(path string) (string, bool) {
	if s.m == nil && !s.err {
		if json.Unmarshal(s.raw, &s.m) != nil {
			s.err = true
		}
	}
	if s.err {
		return "", false
	}
	cur := s.m
	parts := strings.Split(path, ".")
	for i, p := range parts {
		raw, ok := cur[p]
		if !ok {
			return "", false
		}
		if i == len(parts)-1 {
			return scalar(raw)
		}
		cur = nil
		if json.Unmarshal(raw, &cur) != nil {
			return "", false
		}
	}
	return "", false
}

func scalar(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return n.String(), true
		}
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, " "), true
	}
	return "", false
}

func (v *Verifier) identity(st *issuerState, c *idClaims, payload []byte) (*Identity, error) {
	p := st.prof
	id := &Identity{
		Issuer: c.Iss, Subject: c.Sub, Profile: p.Name,
		Name: c.Name, GivenName: c.GivenName, FamilyName: c.FamilyName, BirthDate: c.Birthdate,
		ACR: c.Acr, AMR: c.Amr, Claims: payload,
	}
	if c.AuthTime.ok {
		id.AuthTime = c.AuthTime.t
	}
	id.Expiry = c.Exp.t
	id.Assurance, id.AssuranceSource = assess(p, c.Acr, c.Amr)
	if p.Claims == (ClaimNames{}) && p.NationalID == nil {
		return id, nil // nothing beyond the standard claims, already decoded
	}
	src := &claimSource{raw: payload}
	if err := applyProfileClaims(p, id, src.get); err != nil {
		return nil, err
	}
	return id, nil
}

// applyProfileClaims fills the names and national number from claims by the profile's
// names. get reads a claim by dotted path.
func applyProfileClaims(p *Profile, id *Identity, get func(string) (string, bool)) error {
	for _, f := range []struct {
		path string
		dst  *string
	}{
		{p.Claims.Name, &id.Name}, {p.Claims.GivenName, &id.GivenName},
		{p.Claims.FamilyName, &id.FamilyName}, {p.Claims.BirthDate, &id.BirthDate},
	} {
		if f.path == "" {
			continue
		}
		if s, ok := get(f.path); ok {
			*f.dst = s
		}
	}
	if p.NationalID == nil {
		return nil
	}
	get2 := func(path string) (string, bool) {
		if path == "sub" {
			return id.Subject, true
		}
		return get(path)
	}
	n, err := nationalNumber(p.NationalID, get2)
	if err != nil {
		return err
	}
	if n != nil {
		id.NationalID = n
	}
	return nil
}
