package dpitest

import (
	"maps"
	"slices"
)

// BackChannelLogoutEvent is the events member that makes a JWT a logout token (OpenID
// Connect Back-Channel Logout 1.0 §2.4).
const BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// MintLogoutToken signs a back-channel logout token (OpenID Connect Back-Channel Logout
// 1.0 §2.4) with the current key and typ logout+jwt: iss, aud (the first client), iat, exp
// (the token lifetime), a fresh jti, the test subject as sub, a sid of "test-session" and
// the logout event. claims are applied on top as in MintIDToken: a value replaces a
// default, a nil value removes the claim.
func (p *IdP) MintLogoutToken(claims map[string]any) (string, error) {
	now := p.now()
	base := map[string]any{
		"iss":    p.issuer,
		"aud":    slices.Sorted(maps.Keys(p.clients))[0],
		"iat":    now.Unix(),
		"exp":    now.Add(p.lifetime).Unix(),
		"jti":    randomToken(),
		"sub":    p.subject,
		"sid":    "test-session",
		"events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	return p.MintToken(map[string]any{"typ": "logout+jwt"}, base)
}
