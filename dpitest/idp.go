package dpitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// IdPOptions configures a test national identity provider. The zero value is usable: an
// ES256 IdP with one test person and one confidential client ("test-client", secret
// "test-secret", any loopback redirect URI).
type IdPOptions struct {
	// Algorithm is the ID token signing algorithm: "ES256" (default), "RS256", "PS256" or
	// "EdDSA".
	Algorithm string

	// Users maps a subject to the claims the IdP asserts about that person (name,
	// birthdate, national numbers...). The zero value holds one synthetic person, [TestSubject].
	Users map[string]map[string]any

	// Subject is the person the authorization endpoint signs in without asking, as a real
	// IdP would after the person typed a password. Default: the only or the first subject of
	// Users in lexical order.
	Subject string

	// ACR is the acr claim put in ID tokens (default "substantial"); AMR the amr claim.
	ACR string
	AMR []string

	// Clients are the registered relying parties. Default: [DefaultIdPClient].
	Clients []IdPClient

	// Now is the IdP's clock (default time.Now); TokenLifetime how long its tokens live
	// (default 5 minutes).
	Now           func() time.Time
	TokenLifetime time.Duration

	// Listener, when set, is where the IdP serves; nil means a free loopback port. The IdP
	// closes it.
	Listener net.Listener
	// TestbedTokens serves GET /testbed/token, which mints an ID token for the test person
	// to anyone who asks (see [IdP.ServeTestbedToken]): for dpi testbed and tests only, it
	// must never be on in front of real users.
	TestbedTokens bool
}

// IdPClient is a relying party registered at the test IdP.
type IdPClient struct {
	// ID is the client_id.
	ID string
	// Secret enables client_secret_basic and client_secret_post; empty disables them.
	Secret string
	// Keys enables private_key_jwt (RFC 7523): the client's public signing keys.
	Keys []crypto.PublicKey
	// RedirectURIs are the exact redirect URIs accepted; empty accepts any http URI on a
	// loopback host, which suits tests.
	RedirectURIs []string
	// SignedUserInfo makes the userinfo endpoint answer with a signed JWT
	// (application/jwt) instead of JSON.
	SignedUserInfo bool
	// UserInfoEncryptionKey, when set, makes the signed userinfo a nested JWT encrypted
	// to this key (ECDH-ES+A256KW for EC keys, RSA-OAEP-256 for RSA keys, A256GCM).
	UserInfoEncryptionKey crypto.PublicKey
	// BareIDToken leaves the person's claims out of ID tokens, as MOSIP eSignet does: the
	// relying party must call userinfo.
	BareIDToken bool
}

// TestSubject is the subject of the default test person.
const TestSubject = "test-person-1"

// DefaultIdPClient is the client registered when IdPOptions.Clients is empty.
var DefaultIdPClient = IdPClient{ID: "test-client", Secret: "test-secret"}

// IdP is a running test national identity provider on a loopback address: OpenID Connect
// discovery, a JWKS with key rotation, authorization (code + PKCE S256), token (client
// secret or private_key_jwt), userinfo and end-session endpoints. It is a real protocol
// peer, not a mock: relying-party code talks to it over HTTP exactly as to a national IdP.
type IdP struct {
	srv      *httptest.Server
	issuer   string
	alg      jose.SignatureAlgorithm
	now      func() time.Time
	lifetime time.Duration
	acr      string
	amr      []string
	subject  string
	users    map[string]map[string]any
	clients  map[string]IdPClient

	mu       sync.Mutex
	current  jose.JSONWebKey // private
	previous []jose.JSONWebKey
	codes    map[string]*authCode
	tokens   map[string]*issuedToken
	jtis     map[string]time.Time
	epoch    int          // guarded by mu: endpoint generation, see RotateEndpoints
	statuses map[int]byte // guarded by mu: credential statuses, see SetCredentialStatus
}

type authCode struct {
	client, redirect, nonce, challenge, subject string
	authTime                                    time.Time
	issued                                      time.Time
}

type issuedToken struct {
	client, subject string
	expires         time.Time
}

// StartIdP starts a test IdP. Close it when done.
func StartIdP(o IdPOptions) (*IdP, error) {
	p := &IdP{
		alg:      jose.SignatureAlgorithm(o.Algorithm),
		now:      o.Now,
		lifetime: o.TokenLifetime,
		acr:      o.ACR,
		amr:      slices.Clone(o.AMR),
		users:    map[string]map[string]any{},
		clients:  map[string]IdPClient{},
		codes:    map[string]*authCode{},
		tokens:   map[string]*issuedToken{},
		jtis:     map[string]time.Time{},
	}
	if p.alg == "" {
		p.alg = jose.ES256
	}
	switch p.alg {
	case jose.ES256, jose.RS256, jose.PS256, jose.EdDSA:
	default:
		return nil, fmt.Errorf("dpitest: unsupported idp algorithm %q", o.Algorithm)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.lifetime <= 0 {
		p.lifetime = 5 * time.Minute
	}
	if p.acr == "" {
		p.acr = "substantial"
	}
	if len(o.Users) == 0 {
		p.users[TestSubject] = TestPersonClaims()
	}
	for sub, c := range o.Users {
		p.users[sub] = maps.Clone(c)
	}
	p.subject = o.Subject
	if p.subject == "" {
		p.subject = slices.Sorted(maps.Keys(p.users))[0]
	}
	if _, ok := p.users[p.subject]; !ok {
		return nil, fmt.Errorf("dpitest: idp subject %q has no claims in Users", p.subject)
	}
	clients := o.Clients
	if len(clients) == 0 {
		clients = []IdPClient{DefaultIdPClient}
	}
	for _, c := range clients {
		if c.ID == "" {
			return nil, errors.New("dpitest: idp client without an ID")
		}
		p.clients[c.ID] = c
	}
	k, err := newIdPKey(p.alg)
	if err != nil {
		return nil, err
	}
	p.current = k

	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /.well-known/jwt-vc-issuer", p.credentialMetadata)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("POST /userinfo", p.userinfo)
	mux.HandleFunc("GET /logout", p.logout)
	if o.TestbedTokens {
		mux.HandleFunc("GET /testbed/token", p.ServeTestbedToken)
	}
	// The issuer is set before the server starts: handlers read it, and a request that
	// reaches them over the socket is not ordered after a write made once they run.
	p.srv = httptest.NewUnstartedServer(p.rotatingEndpoints(mux))
	if o.Listener != nil {
		p.srv.Listener.Close()
		p.srv.Listener = o.Listener
	}
	p.issuer = "http://" + p.srv.Listener.Addr().String()
	p.srv.Start()
	return p, nil
}

// TestPersonClaims returns the claims of the default synthetic test person: a Brazilian
// with a valid (synthetic) CPF.
func TestPersonClaims() map[string]any {
	return map[string]any{
		"name":        "Maria da Silva",
		"given_name":  "Maria",
		"family_name": "da Silva",
		"birthdate":   "1990-04-12",
		"cpf":         "52998224725",
		"email":       "maria@example.org",
	}
}

// Issuer returns the issuer identifier (and base URL) of the IdP, an http URL on a
// loopback address.
func (p *IdP) Issuer() string { return p.issuer }

// Algorithm returns the algorithm the IdP signs with.
func (p *IdP) Algorithm() string { return string(p.alg) }

// Close shuts the IdP down.
func (p *IdP) Close() { p.srv.Close() }

// RotateKey makes a fresh key the signing key. The old key stays published in the JWKS
// until the next rotation, so tokens signed just before a rotation still verify.
func (p *IdP) RotateKey() error {
	k, err := newIdPKey(p.alg)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.previous = []jose.JSONWebKey{p.current}
	p.current = k
	return nil
}

// KeyID returns the kid of the current signing key.
func (p *IdP) KeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current.KeyID
}

// MintIDToken signs an ID token for tests. It starts from the claims the IdP would issue
// for its test subject and first client (iss, sub, aud, iat, exp, auth_time, acr, amr and
// the person's claims), then applies claims: a value replaces a default, a nil value
// removes the claim (to build a token without exp, say).
func (p *IdP) MintIDToken(claims map[string]any) (string, error) {
	client := slices.Sorted(maps.Keys(p.clients))[0]
	base := p.idTokenClaims(p.clients[client], p.subject, p.now())
	for k, v := range claims {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	return p.MintToken(nil, base)
}

// MintToken signs exactly claims with the current key, adding header to the protected
// header (typ, or attack material such as jwk, jku or crit).
func (p *IdP) MintToken(header map[string]any, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	key := p.current
	p.mu.Unlock()
	return signJWS(p.alg, key, header, payload)
}

func signJWS(alg jose.SignatureAlgorithm, key jose.JSONWebKey, header map[string]any, payload []byte) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range header {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (p *IdP) idTokenClaims(c IdPClient, sub string, now time.Time) map[string]any {
	m := map[string]any{}
	if !c.BareIDToken {
		maps.Copy(m, p.users[sub])
	}
	m["iss"] = p.issuer
	m["sub"] = sub
	m["aud"] = c.ID
	m["iat"] = now.Unix()
	m["exp"] = now.Add(p.lifetime).Unix()
	m["auth_time"] = now.Unix()
	m["acr"] = p.acr
	if len(p.amr) > 0 {
		m["amr"] = p.amr
	}
	return m
}

func newIdPKey(alg jose.SignatureAlgorithm) (jose.JSONWebKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	k := jose.JSONWebKey{Key: priv, Algorithm: string(alg), Use: "sig"}
	pub := k.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(tp)[:16]
	return k, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (p *IdP) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                           p.issuer,
		"authorization_endpoint":                           p.issuer + "/authorize",
		"token_endpoint":                                   p.issuer + "/token",
		"userinfo_endpoint":                                p.issuer + "/userinfo",
		"jwks_uri":                                         p.issuer + "/jwks",
		"end_session_endpoint":                             p.issuer + "/logout",
		"response_types_supported":                         []string{"code"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{string(p.alg)},
		"userinfo_signing_alg_values_supported":            []string{string(p.alg)},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt", "client_secret_basic", "client_secret_post"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"ES256", "PS256", "RS256", "EdDSA"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"scopes_supported":                                 []string{"openid", "profile", "email"},
		"claims_parameter_supported":                       true,
		"acr_values_supported":                             []string{p.acr},
		"authorization_response_iss_parameter_supported":   true, // RFC 9207 §3
	})
}

// JWKS returns the IdP's published key set as JSON.
func (p *IdP) JWKS() []byte {
	p.mu.Lock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{p.current.Public()}}
	for _, k := range p.previous {
		set.Keys = append(set.Keys, k.Public())
	}
	p.mu.Unlock()
	b, _ := json.Marshal(set)
	return b
}

func (p *IdP) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(p.JWKS())
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func loopbackHTTP(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := p.clients[q.Get("client_id")]
	if !ok {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	if len(c.RedirectURIs) > 0 && !slices.Contains(c.RedirectURIs, redirect) || len(c.RedirectURIs) == 0 && !loopbackHTTP(redirect) {
		// Never redirect to an unregistered URI (RFC 6749 §4.1.2.1).
		http.Error(w, "redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("iss", p.issuer) // RFC 9207
		if s := q.Get("state"); s != "" {
			params.Set("state", s)
		}
		u, _ := url.Parse(redirect)
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	fail := func(code, desc string) {
		back(url.Values{"error": {code}, "error_description": {desc}})
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only code is supported")
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "scope must include openid")
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "pkce with S256 is required")
		return
	}
	code := randomToken()
	now := p.now()
	p.mu.Lock()
	p.codes[code] = &authCode{
		client: c.ID, redirect: redirect, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
		subject: p.subject, authTime: now, issued: now,
	}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

// clientAuth authenticates the client at the token endpoint (RFC 6749 §2.3.1, RFC 7523 §2.2).
func (p *IdP) clientAuth(r *http.Request) (IdPClient, error) {
	if id, secret, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		return p.secretAuth(id, secret)
	}
	if r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return p.assertionAuth(r.PostForm.Get("client_assertion"), r.PostForm.Get("client_id"))
	}
	if s := r.PostForm.Get("client_secret"); s != "" {
		return p.secretAuth(r.PostForm.Get("client_id"), s)
	}
	return IdPClient{}, errors.New("no client authentication")
}

func (p *IdP) secretAuth(id, secret string) (IdPClient, error) {
	c, ok := p.clients[id]
	if !ok || c.Secret == "" || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return IdPClient{}, errors.New("bad client secret")
	}
	return c, nil
}

func (p *IdP) assertionAuth(assertion, claimedID string) (IdPClient, error) {
	tok, err := josejwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.PS256, jose.RS256, jose.EdDSA})
	if err != nil {
		return IdPClient{}, fmt.Errorf("client assertion: %w", err)
	}
	var unverified josejwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return IdPClient{}, err
	}
	c, ok := p.clients[unverified.Issuer]
	if !ok || len(c.Keys) == 0 || (claimedID != "" && claimedID != c.ID) {
		return IdPClient{}, errors.New("client assertion: unknown client or no keys registered")
	}
	for _, k := range c.Keys {
		var cl josejwt.Claims
		if tok.Claims(k, &cl) != nil {
			continue
		}
		err := cl.ValidateWithLeeway(josejwt.Expected{
			Issuer: c.ID, Subject: c.ID, Time: p.now(),
			AnyAudience: josejwt.Audience{p.issuer + "/token", p.issuer},
		}, 30*time.Second)
		if err != nil {
			return IdPClient{}, fmt.Errorf("client assertion: %w", err)
		}
		if cl.Expiry == nil || cl.ID == "" {
			return IdPClient{}, errors.New("client assertion: exp and jti are required")
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, seen := p.jtis[cl.ID]; seen {
			return IdPClient{}, errors.New("client assertion: jti replayed")
		}
		p.jtis[cl.ID] = cl.Expiry.Time()
		return c, nil
	}
	return IdPClient{}, errors.New("client assertion: signature does not verify with the client's keys")
}

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	c, err := p.clientAuth(r)
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	p.mu.Lock()
	code := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // one use, even when the exchange fails
	p.mu.Unlock()
	now := p.now()
	switch {
	case code == nil || code.client != c.ID || now.Sub(code.issued) > time.Minute:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case r.PostForm.Get("redirect_uri") != code.redirect:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(code.challenge)) != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "pkce verification failed")
		return
	}
	access := randomToken()
	p.mu.Lock()
	p.tokens[access] = &issuedToken{client: c.ID, subject: code.subject, expires: now.Add(p.lifetime)}
	key := p.current
	p.mu.Unlock()
	claims := p.idTokenClaims(c, code.subject, now)
	claims["auth_time"] = code.authTime.Unix()
	if code.nonce != "" {
		claims["nonce"] = code.nonce
	}
	claims["at_hash"] = halfHash(p.alg, access)
	payload, _ := json.Marshal(claims)
	idt, err := signJWS(p.alg, key, nil, payload)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(p.lifetime.Seconds()), "id_token": idt,
	})
}

// halfHash is the at_hash / c_hash of OpenID Connect Core §3.1.3.6: the left half of the
// hash of the ASCII value, with the hash of the signing algorithm.
func halfHash(alg jose.SignatureAlgorithm, v string) string {
	var h hash.Hash
	switch alg {
	case jose.EdDSA:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write([]byte(v))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

func (p *IdP) userinfo(w http.ResponseWriter, r *http.Request) {
	access, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	t := p.tokens[access]
	key := p.current
	p.mu.Unlock()
	if !ok || t == nil || p.now().After(t.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	c := p.clients[t.client]
	claims := maps.Clone(p.users[t.subject])
	claims["sub"] = t.subject
	if !c.SignedUserInfo && c.UserInfoEncryptionKey == nil {
		writeJSON(w, http.StatusOK, claims)
		return
	}
	claims["iss"] = p.issuer
	claims["aud"] = c.ID
	payload, _ := json.Marshal(claims)
	out, err := signJWS(p.alg, key, nil, payload)
	if err == nil && c.UserInfoEncryptionKey != nil {
		out, err = encryptJWT(c.UserInfoEncryptionKey, out)
	}
	if err != nil {
		http.Error(w, "userinfo signing failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, _ = w.Write([]byte(out))
}

func encryptJWT(to crypto.PublicKey, signed string) (string, error) {
	var alg jose.KeyAlgorithm
	switch to.(type) {
	case *ecdsa.PublicKey:
		alg = jose.ECDH_ES_A256KW
	case *rsa.PublicKey:
		alg = jose.RSA_OAEP_256
	default:
		return "", fmt.Errorf("dpitest: unsupported userinfo encryption key %T", to)
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: to},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := enc.Encrypt([]byte(signed))
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (p *IdP) logout(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("post_logout_redirect_uri")
	if target != "" && loopbackHTTP(target) {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	_, _ = w.Write([]byte("signed out\n"))
}

// HTTPClient returns a client for the IdP's endpoints.
func (p *IdP) HTTPClient() *http.Client { return p.srv.Client() }
