package limits

import "time"

// Caps of package identity on what an identity provider, a browser or a token may make it
// read or hold. An IdP is trusted for the identities it asserts, not for its resource use: a
// compromised or broken IdP must not exhaust a relying party's memory or goroutines.
const (
	// MaxIDTokenSize caps a compact JWS or JWE (ID token, userinfo JWT). Real ID tokens are
	// a few kilobytes; gov.br's are under 4 KiB.
	MaxIDTokenSize = 64 << 10

	// MaxDiscoveryDocument caps an OpenID Provider Configuration document.
	MaxDiscoveryDocument = 256 << 10

	// MaxJWKSDocument caps a JWK set document.
	MaxJWKSDocument = 256 << 10

	// MaxJWKSKeys caps the number of keys kept from one JWK set; a larger set is refused.
	MaxJWKSKeys = 100

	// MaxUserInfoResponse caps a userinfo response (JSON, JWT or JWE).
	MaxUserInfoResponse = 256 << 10

	// MaxTokenResponse caps a token endpoint response.
	MaxTokenResponse = 256 << 10

	// MaxClockSkew caps each configurable clock skew.
	MaxClockSkew = 10 * time.Minute

	// IdentityHTTPTimeout is the default timeout of one request to an IdP (discovery, JWKS,
	// token, userinfo) when the caller's http.Client has none.
	IdentityHTTPTimeout = 10 * time.Second

	// DefaultKeyRefreshInterval is identity.Config.KeyRefreshInterval's default: the least
	// time between two key-set fetches forced by unknown kids (so a flood of tokens with
	// made-up kids costs the IdP one request per interval), and the shortest a key set is
	// kept whatever its Cache-Control says. MinKeyRefreshInterval is the least allowed.
	DefaultKeyRefreshInterval = time.Minute
	MinKeyRefreshInterval     = time.Second

	// DefaultKeyMaxAge is identity.Config.KeyMaxAge's default: the longest a key set is
	// used before it is fetched again, whatever its Cache-Control max-age allowed.
	// MaxKeyMaxAge is the longest allowed, for key sets and discovery documents alike: a
	// key the IdP withdrew is trusted at most that long.
	DefaultKeyMaxAge = 24 * time.Hour
	MaxKeyMaxAge     = 7 * 24 * time.Hour

	// DefaultKeyCacheAge is how long a key set whose response has no Cache-Control
	// max-age is kept (within the bounds above).
	DefaultKeyCacheAge = time.Hour

	// DefaultDiscoveryMaxAge is identity.Config.DiscoveryMaxAge's default: how long an
	// IdP's discovery document is used before it is fetched again.
	DefaultDiscoveryMaxAge = time.Hour

	// MinRSABits is the smallest RSA modulus accepted for a signature.
	MinRSABits = 2048

	// MaxLoginStateCookie caps the login state cookie read back from a browser.
	MaxLoginStateCookie = 4 << 10

	// MaxSDJWT caps an SD-JWT presentation (issuer-signed JWT, disclosures and key binding).
	MaxSDJWT = 256 << 10

	// MaxDisclosures caps the disclosures of one SD-JWT.
	MaxDisclosures = 512

	// MaxSDJWTDepth caps the nesting of objects and arrays walked to resolve disclosures.
	MaxSDJWTDepth = 32

	// MaxX5CCertificates caps the certificates of an x5c header.
	MaxX5CCertificates = 10

	// LoginStateLifetime is how long a started login may take before its callback is refused.
	LoginStateLifetime = 10 * time.Minute
)

// Caps of package identity's back-channel logout handler.
const (
	// MaxLogoutRequest caps the form body of a back-channel logout request (one
	// logout_token, itself capped by MaxIDTokenSize).
	MaxLogoutRequest = MaxIDTokenSize + 4<<10

	// MaxLogoutReplayEntries caps the logout token jtis a LogoutHandler remembers to refuse
	// replays; when full, the entry closest to expiry is forgotten first.
	MaxLogoutReplayEntries = 100_000
)

// Caps of package identity on IETF Token Status Lists (credential revocation).
const (
	// MaxStatusListToken caps a fetched status list token (a compact JWS).
	MaxStatusListToken = 1 << 20

	// MaxStatusListBytes caps a status list once decompressed: a zlib bomb stops here.
	// 16 MiB holds 134 million one-bit statuses.
	MaxStatusListBytes = 16 << 20

	// MaxStatusListsCached caps the status lists a CredentialVerifier keeps.
	MaxStatusListsCached = 256

	// DefaultStatusListCacheAge is how long a status list token without a ttl claim is
	// kept; MaxStatusListCacheAge bounds its ttl (and exp bounds both): a revocation is
	// seen at most that late.
	DefaultStatusListCacheAge = 5 * time.Minute
	MaxStatusListCacheAge     = time.Hour
)
