package identity

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Config configures a Verifier. Its zero value is not usable (it names no issuer); every
// other zero field is the safe default.
type Config struct {
	// Issuers are the identity providers whose ID tokens are accepted. Required.
	Issuers []Issuer

	// Now is the clock (default time.Now).
	Now func() time.Time
	// ExpirySkew is the clock skew tolerated on exp and nbf; IssuedAtSkew on iat and
	// auth_time in the future. Both default to zero and are capped at limits.MaxClockSkew.
	ExpirySkew, IssuedAtSkew time.Duration

	// MinLoA refuses identities below this level of assurance (default: no minimum).
	// Expect.MinLoA can raise it per call.
	MinLoA LoA

	// InsecureSkipNonce accepts tokens without checking a nonce when the caller passes
	// none. A login that sent a nonce must always check it; this is for offline checks of a
	// token obtained elsewhere (the dpi eid verify command).
	InsecureSkipNonce bool

	// HTTPClient fetches discovery documents, key sets and userinfo (default: a client
	// with limits.IdentityHTTPTimeout). Responses are size-capped and redirects refused
	// whatever the client says.
	HTTPClient *http.Client
	// KeyRefreshInterval is the least time between two fetches of an issuer's keys (and
	// of its discovery document) forced by an unknown kid, between two attempts after a
	// failure, and the shortest a fetched key set is kept whatever Cache-Control says
	// (default limits.DefaultKeyRefreshInterval, at least limits.MinKeyRefreshInterval).
	KeyRefreshInterval time.Duration
	// KeyMaxAge is the longest a fetched key set is used before it is fetched again, even
	// if Cache-Control allowed longer (default limits.DefaultKeyMaxAge, at most
	// limits.MaxKeyMaxAge). Within [KeyRefreshInterval, KeyMaxAge] the cache follows the
	// IdP's Cache-Control max-age; a key set without one is kept
	// limits.DefaultKeyCacheAge.
	KeyMaxAge time.Duration
	// DiscoveryMaxAge is how long a discovery document (or credential issuer metadata)
	// is used before it is fetched again, so that an IdP that moves its endpoints is
	// followed without a restart (default limits.DefaultDiscoveryMaxAge, between
	// KeyRefreshInterval and limits.MaxKeyMaxAge).
	DiscoveryMaxAge time.Duration

	// Logger receives key-refresh warnings; nil logs nothing.
	Logger *slog.Logger
}

// Issuer is one trusted identity provider.
type Issuer struct {
	// URL is the issuer identifier, compared exactly with iss and with the issuer of the
	// discovery document. https, or http on a loopback host for tests. Default:
	// Profile.Issuer.
	URL string
	// ClientID is this relying party's client_id at the issuer: the audience. Required.
	ClientID string
	// TrustedAudiences are the audiences besides ClientID that this relying party accepts
	// in an ID token's aud (another client of the same service, say). Empty by default: a
	// token that names any audience beyond ClientID is rejected, whatever its azp says
	// (OpenID Connect Core §3.1.3.7 step 3).
	TrustedAudiences []string
	// Algorithms allowed for this issuer's ID tokens. Default: Profile.Algorithms, else
	// ES256, EdDSA, PS256 and RS256. HMAC and none are never allowed.
	Algorithms []string
	// JWKSURL overrides the discovery document's jwks_uri. With SkipDiscovery, discovery
	// is not fetched at all.
	JWKSURL       string
	SkipDiscovery bool
	// Profile describes the IdP's claims and levels; nil means plain OpenID Connect with
	// eIDAS acr values.
	Profile *Profile
	// DecryptionKey decrypts an encrypted userinfo (an *rsa.PrivateKey or
	// *ecdsa.PrivateKey, or a go-jose OpaqueKeyDecrypter for an HSM); nil refuses
	// encrypted responses.
	DecryptionKey any
}

// Expect is what the caller knows about the login a token must belong to. Its zero value
// demands a nonce (unless Config.InsecureSkipNonce), so it refuses by default.
type Expect struct {
	// Nonce sent in the authentication request; the token's nonce must equal it.
	Nonce string
	// AccessToken and Code, when given, are checked against at_hash and c_hash if the token
	// carries them (OpenID Connect Core §3.1.3.8, §3.3.2.11).
	AccessToken, Code string
	// MaxAge, when positive, requires auth_time no older than MaxAge (the max_age request
	// parameter, OpenID Connect Core §3.1.2.1).
	MaxAge time.Duration
	// MinLoA raises Config.MinLoA for this call.
	MinLoA LoA
}

// Verifier verifies ID tokens from configured issuers and turns them into an Identity. It
// is immutable after NewVerifier and safe for concurrent use. Keys and discovery documents
// are refreshed on the request path, when a token needs them; Close marks it closed.
type Verifier struct {
	issuers         map[string]*issuerState
	now             func() time.Time
	expSkew, iatSkw time.Duration
	minLoA          LoA
	skipNonce       bool
	client          *http.Client // userinfo, token, levels (size caps applied per call)
	discoveryClient *http.Client
	jwksClient      *http.Client
	keyRefresh      time.Duration
	keyMaxAge       time.Duration
	discMaxAge      time.Duration
	log             *slog.Logger
	closed          atomic.Bool
}

// NewVerifier validates cfg and returns a Verifier. It does not touch the network: each
// issuer's discovery document and keys are fetched on first use.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Issuers) == 0 {
		return nil, fmt.Errorf("%w: no issuer configured", ErrConfig)
	}
	for _, s := range []time.Duration{cfg.ExpirySkew, cfg.IssuedAtSkew} {
		if s < 0 || s > limits.MaxClockSkew {
			return nil, fmt.Errorf("%w: clock skew must be between 0 and %s", ErrConfig, limits.MaxClockSkew)
		}
	}
	if cfg.MinLoA < LoAUnknown || cfg.MinLoA > LoAHigh {
		return nil, fmt.Errorf("%w: unknown minimum level of assurance", ErrConfig)
	}
	v := &Verifier{
		issuers:    map[string]*issuerState{},
		now:        cfg.Now,
		expSkew:    cfg.ExpirySkew,
		iatSkw:     cfg.IssuedAtSkew,
		minLoA:     cfg.MinLoA,
		skipNonce:  cfg.InsecureSkipNonce,
		keyRefresh: cfg.KeyRefreshInterval,
		keyMaxAge:  cfg.KeyMaxAge,
		discMaxAge: cfg.DiscoveryMaxAge,
		log:        cfg.Logger,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.keyRefresh == 0 {
		v.keyRefresh = limits.DefaultKeyRefreshInterval
	}
	if v.keyMaxAge == 0 {
		v.keyMaxAge = max(limits.DefaultKeyMaxAge, v.keyRefresh)
	}
	if v.discMaxAge == 0 {
		v.discMaxAge = max(limits.DefaultDiscoveryMaxAge, v.keyRefresh)
	}
	if v.keyRefresh < limits.MinKeyRefreshInterval || v.keyMaxAge < v.keyRefresh || v.keyMaxAge > limits.MaxKeyMaxAge ||
		v.discMaxAge < v.keyRefresh || v.discMaxAge > limits.MaxKeyMaxAge {
		return nil, fmt.Errorf("%w: need %s <= KeyRefreshInterval <= KeyMaxAge, DiscoveryMaxAge <= %s",
			ErrConfig, limits.MinKeyRefreshInterval, limits.MaxKeyMaxAge)
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	v.client = boundedClient(base, limits.MaxUserInfoResponse)
	v.discoveryClient = boundedClient(base, limits.MaxDiscoveryDocument)
	v.jwksClient = boundedClient(base, limits.MaxJWKSDocument)
	for _, is := range cfg.Issuers {
		st, err := newIssuerState(is)
		if err != nil {
			return nil, err
		}
		if _, dup := v.issuers[st.cfg.URL]; dup {
			return nil, fmt.Errorf("%w: issuer %q configured twice", ErrConfig, st.cfg.URL)
		}
		v.issuers[st.cfg.URL] = st
	}
	return v, nil
}

func newIssuerState(is Issuer) (*issuerState, error) {
	prof := genericProfile
	if is.Profile != nil {
		if err := is.Profile.validate(); err != nil {
			return nil, err
		}
		prof = is.Profile.clone()
		if is.URL == "" {
			is.URL = prof.Issuer
		}
		if len(is.Algorithms) == 0 {
			is.Algorithms = prof.Algorithms
		}
	}
	if _, err := checkEndpoint("issuer", is.URL); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if is.ClientID == "" {
		return nil, fmt.Errorf("%w: issuer %q has no client id", ErrConfig, is.URL)
	}
	for _, a := range is.TrustedAudiences {
		if a == "" {
			return nil, fmt.Errorf("%w: issuer %q has an empty trusted audience", ErrConfig, is.URL)
		}
	}
	is.TrustedAudiences = slices.Clone(is.TrustedAudiences)
	if is.JWKSURL != "" {
		if _, err := checkEndpoint("jwks url", is.JWKSURL); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	} else if is.SkipDiscovery {
		return nil, fmt.Errorf("%w: SkipDiscovery needs a JWKSURL", ErrConfig)
	}
	algs := is.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	st := &issuerState{cfg: is, prof: prof, algs: map[string]bool{}, sem: make(chan struct{}, 1)}
	st.cfg.Algorithms = slices.Clone(algs)
	for _, a := range algs {
		if _, ok := algorithms[a]; !ok {
			return nil, fmt.Errorf("%w: algorithm %q is not allowed (HMAC and none never are)", ErrConfig, truncate(a, 16))
		}
		st.algs[a] = true
	}
	return st, nil
}

// Close stops key and discovery fetches: Verify keeps using the keys already fetched, and
// fails with ErrUnavailable for issuers whose keys were not fetched yet.
func (v *Verifier) Close() { v.closed.Store(true) }

// idClaims are the ID token claims this package reads (OpenID Connect Core §2, §5.1).
type idClaims struct {
	Iss        string      `json:"iss"`
	Sub        string      `json:"sub"`
	Aud        audience    `json:"aud"`
	Azp        string      `json:"azp"`
	Exp        numericDate `json:"exp"`
	Iat        numericDate `json:"iat"`
	Nbf        numericDate `json:"nbf"`
	AuthTime   numericDate `json:"auth_time"`
	Nonce      *string     `json:"nonce"`
	AtHash     string      `json:"at_hash"`
	CHash      string      `json:"c_hash"`
	Acr        string      `json:"acr"`
	Amr        []string    `json:"amr"`
	Name       string      `json:"name"`
	GivenName  string      `json:"given_name"`
	FamilyName string      `json:"family_name"`
	Birthdate  string      `json:"birthdate"`
}

// numericDate is a JWT NumericDate (RFC 7519 §2): a JSON number of seconds.
type numericDate struct {
	t  time.Time
	ok bool
}

func (n *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return errors.New("not a numeric date")
	}
	sec, frac := math.Modf(f)
	n.t, n.ok = time.Unix(int64(sec), int64(frac*1e9)), true
	return nil
}

// audience is aud: one string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// Verify checks rawIDToken and returns the person it identifies. Every failure is a
// *RejectedError (or a *LoAError) wrapping a sentinel of this package, except ErrUnavailable
// when the issuer's keys cannot be fetched.
func (v *Verifier) Verify(ctx context.Context, rawIDToken string, want Expect) (*Identity, error) {
	id, err := v.verifyNoLoA(ctx, rawIDToken, want)
	if err != nil {
		return nil, err
	}
	if err := v.checkLoA(id, want); err != nil {
		return nil, err
	}
	return id, nil
}

// verifyNoLoA is Verify without the level of assurance check, for the login, which may
// learn the level from a levels API afterwards.
func (v *Verifier) verifyNoLoA(ctx context.Context, rawIDToken string, want Expect) (*Identity, error) {
	j, err := splitJWS(rawIDToken)
	if err != nil {
		return nil, err
	}
	var c idClaims
	if err := decodeClaims(j.payload, &c); err != nil {
		return nil, err
	}
	st, ok := v.issuers[c.Iss]
	if !ok {
		return nil, reject(ErrIssuer, "iss", "issuer is not configured")
	}
	alg := algorithms[j.header.Alg]
	if !st.algs[alg.name] {
		return nil, reject(ErrAlgorithm, "alg", "%s is not allowed for this issuer", alg.name)
	}
	if err := v.verifyWithIssuerKeys(ctx, st, j, alg); err != nil {
		return nil, err
	}
	if err := v.checkClaims(st, alg, &c, want); err != nil {
		return nil, err
	}
	return v.identity(st, &c, j.payload)
}

func decodeClaims(payload []byte, c *idClaims) error {
	if err := strictUnmarshal(payload, c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return reject(ErrClaims, "claims", "claim %q has the wrong type", truncate(te.Field, 40))
		}
		if err.Error() == "not a numeric date" {
			return reject(ErrClaims, "claims", "a time claim is not a number of seconds")
		}
		return reject(ErrMalformed, "format", "claims are not a json object")
	}
	return nil
}

func (v *Verifier) verifyWithIssuerKeys(ctx context.Context, st *issuerState, j *parsedJWS, alg *algorithm) error {
	ks, err := v.keySet(ctx, st)
	if err != nil {
		return err
	}
	now := v.now()
	key, err := findKey(ks, j.header.Kid, alg, now)
	if errors.Is(err, ErrUnknownKey) {
		// The IdP may have rotated its keys: refresh, at most once per interval.
		if fresh, ferr := v.refreshKeys(ctx, st, true); ferr == nil && fresh != ks {
			key, err = findKey(fresh, j.header.Kid, alg, now)
		}
	}
	if err != nil {
		return err
	}
	if !verifySignature(alg, key, j.signingInput, j.signature) {
		return reject(ErrSignature, "signature", "signature does not verify with the issuer's key")
	}
	return nil
}

func (v *Verifier) checkClaims(st *issuerState, alg *algorithm, c *idClaims, want Expect) error {
	now := v.now()
	if c.Sub == "" || len(c.Sub) > 255 { // OpenID Connect Core §2: at most 255 ASCII characters
		return reject(ErrClaims, "sub", "sub is missing or longer than 255 characters")
	}
	if err := checkAudience(st, c.Aud, c.Azp); err != nil {
		return err
	}
	if !c.Exp.ok {
		return reject(ErrExpired, "exp", "token has no expiry")
	}
	if !now.Before(c.Exp.t.Add(v.expSkew)) {
		return reject(ErrExpired, "exp", "token expired")
	}
	if c.Nbf.ok && now.Add(v.expSkew).Before(c.Nbf.t) {
		return reject(ErrNotYetValid, "nbf", "token not valid yet")
	}
	if !c.Iat.ok {
		return reject(ErrIssuedAt, "iat", "token has no issue time")
	}
	if c.Iat.t.After(now.Add(v.iatSkw)) {
		return reject(ErrIssuedAt, "iat", "token issued in the future")
	}
	switch {
	case want.Nonce != "":
		if c.Nonce == nil || subtle.ConstantTimeCompare([]byte(*c.Nonce), []byte(want.Nonce)) != 1 {
			return reject(ErrNonce, "nonce", "nonce differs from the one sent")
		}
	case !v.skipNonce:
		return reject(ErrNonce, "nonce", "no expected nonce was given")
	}
	if want.AccessToken != "" && c.AtHash != "" &&
		subtle.ConstantTimeCompare([]byte(halfHash(alg, want.AccessToken)), []byte(c.AtHash)) != 1 {
		return reject(ErrHash, "at_hash", "at_hash does not match the access token")
	}
	if want.Code != "" && c.CHash != "" &&
		subtle.ConstantTimeCompare([]byte(halfHash(alg, want.Code)), []byte(c.CHash)) != 1 {
		return reject(ErrHash, "c_hash", "c_hash does not match the code")
	}
	if c.AuthTime.ok && c.AuthTime.t.After(now.Add(v.iatSkw)) {
		return reject(ErrAuthTime, "auth_time", "authentication time in the future")
	}
	if want.MaxAge > 0 {
		if !c.AuthTime.ok {
			return reject(ErrAuthTime, "auth_time", "max_age requested but auth_time missing")
		}
		if now.Sub(c.AuthTime.t) > want.MaxAge+v.expSkew {
			return reject(ErrAuthTime, "auth_time", "authentication older than max_age")
		}
	}
	return nil
}

// checkAudience applies OpenID Connect Core §3.1.3.7 steps 3 to 5 to aud and azp, for ID
// tokens and logout tokens alike (Back-Channel Logout 1.0 §2.6 step 4).
func checkAudience(st *issuerState, aud audience, azp string) error {
	if !slices.Contains(aud, st.cfg.ClientID) {
		return reject(ErrAudience, "aud", "token is not for this client")
	}
	// OpenID Connect Core §3.1.3.7 (3): a token with audiences the client does not trust
	// is rejected. azp naming us does not make the others trusted: they could replay the
	// token to us, or we to them.
	for _, a := range aud {
		if a != st.cfg.ClientID && !slices.Contains(st.cfg.TrustedAudiences, a) {
			return reject(ErrAudience, "aud", "token names an audience this client does not trust")
		}
	}
	// OpenID Connect Core §3.1.3.7 (4, 5): with several audiences azp must name us; when
	// present it must name us in any case.
	if (len(aud) > 1 || azp != "") && azp != st.cfg.ClientID {
		return reject(ErrAudience, "azp", "authorized party is another client")
	}
	return nil
}

func (v *Verifier) checkLoA(id *Identity, want Expect) error {
	min := max(v.minLoA, want.MinLoA)
	if min > LoAUnknown && id.Assurance.LoA < min {
		return &LoAError{Got: id.Assurance.LoA, Want: min, ACR: id.ACR}
	}
	return nil
}
