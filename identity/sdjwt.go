package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dpiblocks/dpi/internal/limits"
)

// CredentialConfig configures a CredentialVerifier. Its zero value names no issuer and is
// refused.
type CredentialConfig struct {
	// Issuers are the credential issuers trusted, each for the credential types it names.
	Issuers []CredentialIssuer
	// Now is the clock (default time.Now); ExpirySkew applies to exp and nbf, IssuedAtSkew
	// to iat in the future. Both default to zero, capped at limits.MaxClockSkew.
	Now                      func() time.Time
	ExpirySkew, IssuedAtSkew time.Duration
	// KeyBindingMaxAge is how old a key binding JWT may be (default 5 minutes).
	KeyBindingMaxAge time.Duration
	// InsecureSkipKeyBinding accepts presentations without a key binding JWT. Without key
	// binding anyone who saw the credential can replay it.
	InsecureSkipKeyBinding bool
	// InsecureSkipStatus accepts credentials without checking the status list their
	// status claim points to (IETF Token Status List): a revoked credential is accepted.
	// By default the list is fetched, verified with the issuer's keys and cached for its
	// ttl (within limits.MaxStatusListCacheAge and its exp).
	InsecureSkipStatus bool
	// HTTPClient, KeyRefreshInterval, KeyMaxAge, DiscoveryMaxAge (for the issuer
	// metadata) and Logger are as in Config.
	HTTPClient         *http.Client
	KeyRefreshInterval time.Duration
	KeyMaxAge          time.Duration
	DiscoveryMaxAge    time.Duration
	Logger             *slog.Logger
}

// CredentialIssuer is one trusted issuer of SD-JWT VCs.
type CredentialIssuer struct {
	// URL is the issuer identifier, compared exactly with iss. https, or http on loopback.
	URL string
	// Types are the vct values accepted from this issuer. Required: trusting an issuer
	// for one credential type is not trusting it for every type.
	Types []string
	// JWKSURL is where the issuer's keys are; default: the jwks_uri of its JWT VC Issuer
	// Metadata (SD-JWT VC §5, /.well-known/jwt-vc-issuer).
	JWKSURL string
	// Algorithms allowed for the issuer's signature (default as for Issuer).
	Algorithms []string
	// Roots, when set, makes the issuer's key come from the x5c header of each credential
	// instead of a JWKS (as EUDI PID providers sign): the chain must verify to Roots at the
	// current time and its leaf must name the issuer, by a URI SAN equal to iss or a DNS
	// (or IP) SAN matching iss's host (SD-JWT VC §3.5). Without Roots an x5c header is
	// refused.
	Roots *x509.CertPool
}

// Presentation is what the verifier asked the holder for: the key binding JWT must name
// this audience and nonce (RFC 9901 §7.3).
type Presentation struct {
	// Audience is this verifier's identifier (the key binding JWT's aud); Nonce the fresh
	// value it sent the wallet. Both are required unless key binding is skipped.
	Audience, Nonce string
}

// Credential is a verified SD-JWT VC with the disclosures the holder chose to reveal.
type Credential struct {
	// Issuer is the credential's iss, a configured credential issuer; Type its vct, one of
	// the types trusted from that issuer; Subject its sub in the clear, if any.
	Issuer  string `json:"issuer"`
	Type    string `json:"vct"`
	Subject string `json:"subject,omitempty"`
	// IssuedAt and Expiry are the credential's iat and exp, zero when absent.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	Expiry   time.Time `json:"expiry,omitzero"`
	// Claims are the issuer-signed claims with the disclosed ones in place and the
	// digests (_sd, _sd_alg, "..." elements) removed.
	Claims json.RawMessage `json:"claims"`
	// Disclosed lists the paths of the disclosed claims ("address.locality", "nationalities[1]").
	Disclosed []string `json:"disclosed"`
	// KeyBound is true when a key binding JWT proved the holder has the credential's key.
	KeyBound bool `json:"key_bound"`
}

// CredentialVerifier verifies SD-JWT verifiable credentials (RFC 9901 SD-JWT and the IETF
// SD-JWT VC draft) as the EUDI wallet and OpenID4VP present them: the issuer's signature
// with keys fetched and cached like ID token keys, every disclosure's digest, and the
// holder's key binding. It is immutable and safe for concurrent use; Close it when done.
type CredentialVerifier struct {
	v       *Verifier
	types   map[string][]string
	roots   map[string]*x509.CertPool
	kbAge   time.Duration
	skipKB  bool
	closeFn func()

	skipStatus bool
	statuses   *statusCache
}

// sdJWTTypes are the typ values of an issuer-signed SD-JWT VC: dc+sd-jwt, and vc+sd-jwt
// which earlier drafts used and wallets still send.
var sdJWTTypes = []string{"dc+sd-jwt", "vc+sd-jwt"}

// NewCredentialVerifier validates cfg and returns a CredentialVerifier.
func NewCredentialVerifier(cfg CredentialConfig) (*CredentialVerifier, error) {
	if len(cfg.Issuers) == 0 {
		return nil, fmt.Errorf("%w: no credential issuer configured", ErrConfig)
	}
	vcfg := Config{
		Now: cfg.Now, ExpirySkew: cfg.ExpirySkew, IssuedAtSkew: cfg.IssuedAtSkew,
		HTTPClient: cfg.HTTPClient, KeyRefreshInterval: cfg.KeyRefreshInterval, KeyMaxAge: cfg.KeyMaxAge,
		DiscoveryMaxAge: cfg.DiscoveryMaxAge, Logger: cfg.Logger, InsecureSkipNonce: true,
	}
	types := map[string][]string{}
	roots := map[string]*x509.CertPool{}
	for _, is := range cfg.Issuers {
		if is.Roots != nil {
			if is.JWKSURL != "" {
				return nil, fmt.Errorf("%w: credential issuer %q has both Roots and a JWKSURL", ErrConfig, truncate(is.URL, 100))
			}
			roots[is.URL] = is.Roots
		}
		if len(is.Types) == 0 {
			return nil, fmt.Errorf("%w: credential issuer %q names no credential type", ErrConfig, truncate(is.URL, 100))
		}
		// The issuer's keys come from its metadata, not from OpenID discovery: the
		// metadata is fetched as the "discovery document" of a credential issuer.
		vcfg.Issuers = append(vcfg.Issuers, Issuer{URL: is.URL, ClientID: "-", Algorithms: is.Algorithms, JWKSURL: is.JWKSURL})
		types[is.URL] = slices.Clone(is.Types)
	}
	v, err := NewVerifier(vcfg)
	if err != nil {
		return nil, err
	}
	for _, st := range v.issuers {
		st.credential = true
		if st.cfg.JWKSURL != "" {
			st.cfg.SkipDiscovery = true
		}
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	cv := &CredentialVerifier{v: v, types: types, roots: roots, kbAge: cfg.KeyBindingMaxAge, skipKB: cfg.InsecureSkipKeyBinding, closeFn: v.Close,
		skipStatus: cfg.InsecureSkipStatus,
		statuses:   &statusCache{client: boundedClient(base, limits.MaxStatusListToken), lists: map[string]*statusList{}}}
	if cv.kbAge <= 0 {
		cv.kbAge = 5 * time.Minute
	}
	return cv, nil
}

// Close stops key and metadata fetches, as Verifier.Close does.
func (cv *CredentialVerifier) Close() { cv.closeFn() }

// credentialMetadataURL is the JWT VC Issuer Metadata URL (SD-JWT VC §5.1): the well-known
// segment goes between the host and the issuer's path.
func credentialMetadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return "", err
	}
	u.Path = "/.well-known/jwt-vc-issuer" + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// sdClaims are the issuer-signed claims SD-JWT VC §3.2.2 says must not be selectively
// disclosed, read from the signed payload itself.
type sdClaims struct {
	Iss   string      `json:"iss"`
	Vct   string      `json:"vct"`
	Sub   string      `json:"sub"`
	Exp   numericDate `json:"exp"`
	Nbf   numericDate `json:"nbf"`
	Iat   numericDate `json:"iat"`
	Cnf   *cnfClaim   `json:"cnf"`
	SdAlg *string     `json:"_sd_alg"`
	// Status is the IETF Token Status List reference, checked unless the configuration
	// opts out.
	Status json.RawMessage `json:"status"`
}

type cnfClaim struct {
	JWK json.RawMessage `json:"jwk"`
}

// Verify checks an SD-JWT VC presentation (RFC 9901 §7): the issuer's signature and
// claims, each disclosure against the digests the issuer signed, and, unless the
// configuration opts out, the key binding JWT against want and the credential's status
// list (a revoked credential is a *RejectedError wrapping ErrRevoked, a suspended one
// ErrSuspended; a list that cannot be fetched or verified, ErrUnavailable).
func (cv *CredentialVerifier) Verify(ctx context.Context, presentation string, want Presentation) (*Credential, error) {
	if len(presentation) > limits.MaxSDJWT {
		return nil, reject(ErrMalformed, "format", "presentation larger than %d bytes", limits.MaxSDJWT)
	}
	parts := strings.Split(presentation, "~")
	if len(parts) < 2 {
		return nil, reject(ErrMalformed, "format", "not an sd-jwt: no ~ separator")
	}
	if len(parts)-2 > limits.MaxDisclosures {
		return nil, reject(ErrMalformed, "format", "more than %d disclosures", limits.MaxDisclosures)
	}
	issuerJWT, disclosures, kbJWT := parts[0], parts[1:len(parts)-1], parts[len(parts)-1]

	j, err := splitTypedJWS(issuerJWT, sdJWTTypes, true)
	if err != nil {
		return nil, err
	}
	var c sdClaims
	if err := strictUnmarshal(j.payload, &c); err != nil {
		return nil, reject(ErrClaims, "claims", "issuer-signed claims are not a json object with the right types")
	}
	st, ok := cv.v.issuers[c.Iss]
	if !ok {
		return nil, reject(ErrIssuer, "iss", "credential issuer is not configured")
	}
	alg := algorithms[j.header.Alg]
	if !st.algs[alg.name] {
		return nil, reject(ErrAlgorithm, "alg", "%s is not allowed for this issuer", alg.name)
	}
	if pool := cv.roots[c.Iss]; pool != nil {
		if err := verifyWithX5C(j, alg, pool, cv.v.now(), c.Iss); err != nil {
			return nil, err
		}
	} else if len(j.header.X5C) > 0 {
		return nil, reject(ErrHeader, "header", "x5c header: no trust anchors configured for this issuer")
	} else if err := cv.v.verifyWithIssuerKeys(ctx, st, j, alg); err != nil {
		return nil, err
	}
	if !slices.Contains(cv.types[c.Iss], c.Vct) {
		return nil, reject(ErrClaims, "vct", "credential type is not accepted from this issuer")
	}
	if err := cv.checkTimes(&c); err != nil {
		return nil, err
	}
	if c.SdAlg != nil && *c.SdAlg != "sha-256" {
		return nil, reject(ErrClaims, "_sd_alg", "digest algorithm %q is not supported", truncate(*c.SdAlg, 16))
	}

	claims, disclosed, err := resolveDisclosures(j.payload, disclosures)
	if err != nil {
		return nil, err
	}
	cred := &Credential{Issuer: c.Iss, Type: c.Vct, Subject: c.Sub, Claims: claims, Disclosed: disclosed}
	if c.Iat.ok {
		cred.IssuedAt = c.Iat.t
	}
	if c.Exp.ok {
		cred.Expiry = c.Exp.t
	}

	switch {
	case kbJWT != "":
		if c.Cnf == nil || len(c.Cnf.JWK) == 0 {
			return nil, reject(ErrClaims, "cnf", "key binding jwt but no holder key in the credential")
		}
		sdHashInput := presentation[:len(presentation)-len(kbJWT)]
		if err := cv.checkKeyBinding(c.Cnf.JWK, kbJWT, sdHashInput, want); err != nil {
			return nil, err
		}
		cred.KeyBound = true
	case !cv.skipKB:
		return nil, reject(ErrClaims, "kb", "presentation has no key binding jwt")
	}
	// Last: the status list is fetched only for a presentation that is otherwise valid.
	if len(c.Status) > 0 && !cv.skipStatus {
		if err := cv.checkStatus(ctx, st, c.Iss, c.Status); err != nil {
			return nil, err
		}
	}
	return cred, nil
}

func (cv *CredentialVerifier) checkTimes(c *sdClaims) error {
	now := cv.v.now()
	if c.Exp.ok && !now.Before(c.Exp.t.Add(cv.v.expSkew)) {
		return reject(ErrExpired, "exp", "credential expired")
	}
	if c.Nbf.ok && now.Add(cv.v.expSkew).Before(c.Nbf.t) {
		return reject(ErrNotYetValid, "nbf", "credential not valid yet")
	}
	if c.Iat.ok && c.Iat.t.After(now.Add(cv.v.iatSkw)) {
		return reject(ErrIssuedAt, "iat", "credential issued in the future")
	}
	return nil
}

// checkKeyBinding verifies the key binding JWT (RFC 9901 §4.3, §7.3) with the holder key
// the issuer bound into the credential.
func (cv *CredentialVerifier) checkKeyBinding(holderJWK json.RawMessage, kbJWT, sdHashInput string, want Presentation) error {
	if want.Audience == "" || want.Nonce == "" {
		return reject(ErrNonce, "kb", "no expected audience and nonce were given")
	}
	key, err := jwk.ParseKey(holderJWK)
	if err != nil {
		return reject(ErrClaims, "cnf", "holder key is not a jwk")
	}
	holder, err := jwk.PublicRawKeyOf(key)
	if err != nil || !supportedKey(holder) {
		return reject(ErrClaims, "cnf", "holder key type is not supported")
	}
	j, err := splitTypedJWS(kbJWT, []string{"kb+jwt"}, false)
	if err != nil {
		return err
	}
	alg := algorithms[j.header.Alg]
	if why := fits(alg, holder); why != "" {
		return reject(ErrKeyMismatch, "kb", "%s", why)
	}
	if !verifySignature(alg, holder, j.signingInput, j.signature) {
		return reject(ErrSignature, "kb", "key binding jwt is not signed by the holder key")
	}
	var kb struct {
		Iat    numericDate `json:"iat"`
		Aud    audience    `json:"aud"`
		Nonce  string      `json:"nonce"`
		SdHash string      `json:"sd_hash"`
	}
	if err := strictUnmarshal(j.payload, &kb); err != nil {
		return reject(ErrClaims, "kb", "key binding claims are not a json object with the right types")
	}
	now := cv.v.now()
	switch {
	case !kb.Iat.ok:
		return reject(ErrIssuedAt, "kb_iat", "key binding jwt has no iat")
	case kb.Iat.t.After(now.Add(cv.v.iatSkw)):
		return reject(ErrIssuedAt, "kb_iat", "key binding jwt issued in the future")
	case now.Sub(kb.Iat.t) > cv.kbAge+cv.v.iatSkw:
		return reject(ErrIssuedAt, "kb_iat", "key binding jwt too old")
	case len(kb.Aud) != 1 || kb.Aud[0] != want.Audience:
		return reject(ErrAudience, "kb_aud", "key binding jwt is for another verifier")
	case subtle.ConstantTimeCompare([]byte(kb.Nonce), []byte(want.Nonce)) != 1:
		return reject(ErrNonce, "kb_nonce", "key binding nonce differs")
	}
	sum := sha256.Sum256([]byte(sdHashInput))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(kb.SdHash)) != 1 {
		return reject(ErrHash, "sd_hash", "key binding jwt is for another presentation")
	}
	return nil
}

// verifyWithX5C verifies the issuer-signed JWT with the leaf of its x5c chain, after
// verifying the chain to roots and that the leaf names the issuer.
func verifyWithX5C(j *parsedJWS, alg *algorithm, roots *x509.CertPool, now time.Time, iss string) error {
	var chain []string
	if len(j.header.X5C) == 0 || json.Unmarshal(j.header.X5C, &chain) != nil || len(chain) == 0 || len(chain) > limits.MaxX5CCertificates {
		return reject(ErrCertificate, "x5c", "x5c header missing or not a list of 1 to %d certificates", limits.MaxX5CCertificates)
	}
	certs := make([]*x509.Certificate, 0, len(chain))
	for _, c := range chain {
		der, err := base64.StdEncoding.DecodeString(c) // RFC 7515 §4.1.6: base64, not base64url
		if err != nil {
			return reject(ErrCertificate, "x5c", "x5c entry is not base64 der")
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return reject(ErrCertificate, "x5c", "x5c entry is not a certificate")
		}
		certs = append(certs, cert)
	}
	leaf := certs[0]
	// The signing key is an end entity's, for signatures (RFC 5280 §4.2.1.3, §4.2.1.9): a
	// CA certificate that names the issuer's host signs certificates, not credentials.
	if leaf.IsCA || leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return reject(ErrCertificate, "x5c", "leaf certificate is not an end-entity signing certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return reject(ErrCertificate, "x5c", "chain does not verify to the trust anchors")
	}
	u, err := url.Parse(iss)
	if err != nil {
		return reject(ErrCertificate, "x5c", "issuer is not a url")
	}
	named := slices.ContainsFunc(leaf.URIs, func(s *url.URL) bool { return s.String() == iss }) ||
		leaf.VerifyHostname(u.Hostname()) == nil
	if !named {
		return reject(ErrCertificate, "x5c", "leaf certificate does not name the issuer")
	}
	if why := fits(alg, leaf.PublicKey); why != "" {
		return reject(ErrKeyMismatch, "x5c", "%s", why)
	}
	if !verifySignature(alg, leaf.PublicKey, j.signingInput, j.signature) {
		return reject(ErrSignature, "signature", "signature does not verify with the certificate's key")
	}
	return nil
}

// disclosure is one decoded disclosure (RFC 9901 §4.2).
type disclosure struct {
	name  string // "" for an array element
	array bool
	value json.RawMessage
	used  bool
}

// notDisclosable are claims of SD-JWT VC §3.2.2 that must be in the clear.
var notDisclosable = []string{"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}

// resolveDisclosures puts each disclosure in place of its digest (RFC 9901 §7.1, step 3)
// and returns the processed claims and the disclosed paths.
func resolveDisclosures(payload []byte, raw []string) (json.RawMessage, []string, error) {
	byDigest := make(map[string]*disclosure, len(raw))
	for _, r := range raw {
		b, err := b64.DecodeString(r)
		if err != nil {
			return nil, nil, reject(ErrMalformed, "disclosure", "disclosure is not base64url")
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil || len(arr) < 2 || len(arr) > 3 {
			return nil, nil, reject(ErrMalformed, "disclosure", "disclosure is not a json array of 2 or 3 elements")
		}
		var salt string
		if json.Unmarshal(arr[0], &salt) != nil {
			return nil, nil, reject(ErrMalformed, "disclosure", "disclosure salt is not a string")
		}
		d := &disclosure{value: arr[len(arr)-1], array: len(arr) == 2}
		if !d.array {
			if json.Unmarshal(arr[1], &d.name) != nil || d.name == "_sd" || d.name == "..." {
				return nil, nil, reject(ErrMalformed, "disclosure", "disclosure claim name is not allowed")
			}
		}
		sum := sha256.Sum256([]byte(r))
		digest := base64.RawURLEncoding.EncodeToString(sum[:])
		if byDigest[digest] != nil {
			return nil, nil, reject(ErrClaims, "disclosure", "the same disclosure is given twice")
		}
		byDigest[digest] = d
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, nil, reject(ErrMalformed, "format", "claims are not a json object")
	}
	r := &resolver{byDigest: byDigest, seen: map[string]bool{}}
	out, err := r.object(root, "", 0)
	if err != nil {
		return nil, nil, err
	}
	delete(out, "_sd_alg")
	for _, d := range byDigest {
		if !d.used {
			return nil, nil, reject(ErrClaims, "disclosure", "a disclosure matches no digest the issuer signed")
		}
	}
	for _, n := range notDisclosable {
		if slices.Contains(r.paths, n) {
			return nil, nil, reject(ErrClaims, "disclosure", "claim %q must not be selectively disclosed", n)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, nil, reject(ErrMalformed, "format", "claims cannot be re-encoded")
	}
	sort.Strings(r.paths)
	return b, r.paths, nil
}

type resolver struct {
	byDigest map[string]*disclosure
	seen     map[string]bool
	paths    []string
}

func (r *resolver) take(digest string) (*disclosure, error) {
	if r.seen[digest] {
		return nil, reject(ErrClaims, "disclosure", "a digest appears twice")
	}
	r.seen[digest] = true
	return r.byDigest[digest], nil
}

func (r *resolver) value(v any, path string, depth int) (any, error) {
	if depth > limits.MaxSDJWTDepth {
		return nil, reject(ErrMalformed, "format", "claims nested deeper than %d", limits.MaxSDJWTDepth)
	}
	switch t := v.(type) {
	case map[string]any:
		return r.object(t, path, depth+1)
	case []any:
		return r.array(t, path, depth+1)
	}
	return v, nil
}

func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, reject(ErrMalformed, "disclosure", "disclosure value is not json")
	}
	return v, nil
}

func (r *resolver) object(m map[string]any, path string, depth int) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k == "_sd" {
			continue
		}
		pv, err := r.value(v, join(path, k), depth)
		if err != nil {
			return nil, err
		}
		out[k] = pv
	}
	sd, ok := m["_sd"]
	if !ok {
		return out, nil
	}
	list, ok := sd.([]any)
	if !ok {
		return nil, reject(ErrClaims, "_sd", "_sd is not an array")
	}
	for _, e := range list {
		digest, ok := e.(string)
		if !ok {
			return nil, reject(ErrClaims, "_sd", "_sd holds a non-string")
		}
		d, err := r.take(digest)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue // undisclosed, or a decoy digest
		}
		if d.array {
			return nil, reject(ErrClaims, "disclosure", "an array-element disclosure is referenced from an object")
		}
		if _, exists := out[d.name]; exists {
			return nil, reject(ErrClaims, "disclosure", "a disclosure would overwrite claim %q", truncate(d.name, 40))
		}
		d.used = true
		v, err := decodeValue(d.value)
		if err != nil {
			return nil, err
		}
		p := join(path, d.name)
		pv, err := r.value(v, p, depth)
		if err != nil {
			return nil, err
		}
		out[d.name] = pv
		r.paths = append(r.paths, p)
	}
	return out, nil
}

func (r *resolver) array(a []any, path string, depth int) ([]any, error) {
	out := make([]any, 0, len(a))
	for _, e := range a {
		if m, ok := e.(map[string]any); ok && len(m) == 1 {
			if ref, ok := m["..."]; ok {
				digest, ok := ref.(string)
				if !ok {
					return nil, reject(ErrClaims, "...", "array digest is not a string")
				}
				d, err := r.take(digest)
				if err != nil {
					return nil, err
				}
				if d == nil {
					continue // undisclosed element or decoy
				}
				if !d.array {
					return nil, reject(ErrClaims, "disclosure", "an object-property disclosure is referenced from an array")
				}
				d.used = true
				v, err := decodeValue(d.value)
				if err != nil {
					return nil, err
				}
				p := fmt.Sprintf("%s[%d]", path, len(out))
				pv, err := r.value(v, p, depth)
				if err != nil {
					return nil, err
				}
				out = append(out, pv)
				r.paths = append(r.paths, p)
				continue
			}
		}
		pv, err := r.value(e, fmt.Sprintf("%s[%d]", path, len(out)), depth)
		if err != nil {
			return nil, err
		}
		out = append(out, pv)
	}
	return out, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
