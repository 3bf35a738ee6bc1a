// Package identity verifies national eID logins: OpenID Connect ID tokens from national
// identity providers, their levels of assurance, the national number they carry, and the
// relying-party login that obtains them.
//
// # Which type to use
//
// A [Verifier], built by [NewVerifier] from a [Config] that names every trusted [Issuer],
// checks an ID token and returns an [Identity]: issuer, subject, names, birth date, a
// [NationalID] validated by package identity/nationalid, and an [Assurance] on the eIDAS
// scale (with NIST IAL/AAL). A [Login] is an http.Handler pair (start and callback) for the
// authorization code flow that hands the verified Identity to the service. A
// [CredentialVerifier] verifies SD-JWT verifiable credentials presented by a wallet
// (selective disclosure with key binding), as the EUDI wallet and OpenID4VP use them. A
// [LogoutHandler] is a back-channel logout URI: it verifies the IdP's logout tokens
// ([Verifier.VerifyLogoutToken]) and hands the session to end to the service, so that a
// person who signs out at the IdP is signed out of the service too.
//
// National IdPs differ in ways plain OpenID Connect leaves to every agency; a [Profile]
// holds those differences as data: gov.br (CPF in sub, reliability levels from a separate
// API), ClaveÚnica (RolUnico from a POST userinfo), ID Uruguay (acr urn:iduruguay:nid:0..3),
// Mi Argentina, MOSIP eSignet (acr names a method, bare ID token, signed userinfo,
// private_key_jwt) and Estonia's TARA (eIDAS short names, country prefix in sub). See
// [Profiles] and [LookupProfile]; a fork adds a country with one profile file.
//
// # Standards
//
//   - OpenID Connect Core 1.0: ID token validation §3.1.3.7 (an aud naming anyone but the
//     client and [Issuer.TrustedAudiences] is rejected, whatever azp says), at_hash §3.1.3.8, c_hash
//     §3.3.2.11, claims §5.1, userinfo §5.3 (JSON, signed or encrypted JWT), client
//     authentication §9.
//   - OpenID Connect Discovery 1.0 §4 (issuer must match exactly).
//   - OpenID Connect Back-Channel Logout 1.0: logout token §2.4, request §2.5, validation
//     §2.6 (with jti replay refused while the token is valid), response §2.8.
//   - RFC 7515 JWS (crit §4.1.11), RFC 7518 algorithms, RFC 7519 JWT, RFC 7516 JWE.
//   - RFC 7636 PKCE (S256 only), RFC 7523 private_key_jwt, RFC 9207 iss in responses.
//   - eIDAS levels of assurance (Implementing Regulation (EU) 2015/1502), NIST SP 800-63-3.
//   - RFC 9901 SD-JWT (disclosures §4.2, key binding §4.3, verification §7) and the IETF
//     SD-JWT VC draft (typ dc+sd-jwt, vct, JWT VC Issuer Metadata §5).
//   - IETF OAuth Token Status List draft: a credential's status claim is checked against
//     the issuer's signed status list (typ statuslist+jwt), cached for its ttl; revoked is
//     [ErrRevoked], suspended [ErrSuspended] ([CredentialConfig.InsecureSkipStatus] opts
//     out). JWT lists only, no CWT, no aggregation.
//
// # What is refused by construction
//
// There is no code path that accepts alg none, an HMAC (so no key confusion with a public
// key), a key from the token (jwk, jku, x5u headers, or an x5c chain that does not verify
// to trust anchors the caller configured for that credential issuer), a crit extension, a kid that
// names a key of another type or curve, an RSA key under 2048 bits, an expired key, or a
// token without exp. Issuers must be https; plain http is accepted only on loopback hosts,
// for tests with package dpitest. A nonce is required unless the configuration opts out.
//
// Keys are fetched from the issuer's jwks_uri and cached for the IdP's Cache-Control
// max-age within [Config.KeyRefreshInterval, Config.KeyMaxAge]; an unknown kid forces at
// most one refresh per KeyRefreshInterval (with the discovery document, in case the IdP
// moved its keys), so a flood of made-up kids cannot hammer the IdP. The discovery document
// is fetched again every [Config.DiscoveryMaxAge], so an IdP that rotates its keys and
// endpoints is followed without a restart. Refreshes happen on the request path, by the
// Verifier's clock; while one caller refreshes, the others use the keys they have.
// Discovery, key set and userinfo responses are size-capped (internal/limits) and time
// out; a slow, huge or garbage key set makes Verify fail with [ErrUnavailable], never hang.
// When a refresh fails, the keys last fetched stay in use, so that an IdP's key endpoint
// being down does not lock citizens out of services; a key the IdP has withdrawn is
// therefore trusted until a refresh succeeds. Each failed refresh is logged to
// [Config.Logger]; watch for them.
//
// # Errors
//
// A rejected token yields a [*RejectedError] whose Check names the failed check and which
// wraps a sentinel ([ErrSignature], [ErrExpired], [ErrNonce], ...); a level below the
// minimum is a [*LoAError] wrapping [ErrLoA]. Messages never contain the token, a key or
// a personal number.
//
// # Example
//
//	v, err := identity.NewVerifier(identity.Config{
//		Issuers: []identity.Issuer{{URL: "https://tara.ria.ee", ClientID: "my-service", Profile: tara}},
//		MinLoA:  identity.LoASubstantial,
//	})
//	...
//	id, err := v.Verify(ctx, rawIDToken, identity.Expect{Nonce: nonceSentAtLogin})
//
// # What it does not do
//
// It is not an identity provider, does not keep sessions beyond the login handshake (the
// service does), and does not implement the implicit or hybrid flows, front-channel
// logout, or dynamic client registration. For SD-JWT VCs it does not read keys inline in
// issuer metadata (configure a JWKS URL, or trust anchors for x5c), and supports the
// sha-256 digest only.
package identity
