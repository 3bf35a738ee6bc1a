package identity

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"github.com/dpiblocks/dpi/internal/limits"
)

// LoginConfig configures a relying-party Login.
type LoginConfig struct {
	// Verifier checks the ID tokens; Issuer selects one of its issuers (default: the only
	// one). Required.
	Verifier *Verifier
	Issuer   string
	// RedirectURL is the absolute URL of the callback handler, as registered at the IdP.
	// https, or http on a loopback host for tests. Required.
	RedirectURL string

	// ClientAuth is the token endpoint authentication method. Default: the profile's,
	// else private_key_jwt when ClientKey is set, else client_secret_basic.
	ClientAuth ClientAuth
	// ClientSecret for client_secret_basic and client_secret_post.
	ClientSecret string
	// ClientKey signs the RFC 7523 client assertion for private_key_jwt (any
	// crypto.Signer: a file key, an HSM, a KMS); ClientKeyID is its kid at the IdP.
	// ClientKeyAlgorithm defaults to ES256 for P-256, RS256 for RSA (what eSignet accepts)
	// and EdDSA for Ed25519.
	ClientKey          crypto.Signer
	ClientKeyID        string
	ClientKeyAlgorithm string

	// Scopes to request besides openid. Default: the profile's.
	Scopes []string
	// ACRValues asks the IdP for these acr values (OpenID Connect Core §3.1.2.1).
	ACRValues []string
	// Claims is an optional claims request parameter (OpenID Connect Core §5.5), a JSON
	// object.
	Claims json.RawMessage
	// MaxAge, when positive, is sent as max_age and enforced on auth_time.
	MaxAge time.Duration
	// MinLoA refuses logins below this level (on top of the Verifier's minimum).
	MinLoA LoA
	// UserInfo fetches userinfo after every login. It is fetched anyway when the profile
	// needs it (a bare ID token, a levels API, a national number only in userinfo).
	UserInfo bool

	// CookieKey seals the login state cookie (AES-256-GCM); 32 bytes. Default: a random
	// key, which suits one process; several instances behind a load balancer share one.
	CookieKey []byte

	// OnLogin receives the verified identity; it sets the service's session and writes the
	// response (a redirect, typically). Required.
	OnLogin func(w http.ResponseWriter, r *http.Request, id *Identity)
	// OnError writes the response to a failed callback; err wraps ErrLogin or a
	// verification error. Default: 400 or 502 with a short text that reveals nothing.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	// PostLogoutRedirectURL is where the IdP sends the browser after logout.
	PostLogoutRedirectURL string
}

// Login is a relying-party login for the OpenID Connect authorization code flow with PKCE
// (RFC 7636, S256), state and nonce. Mount Start on the route that begins a login and
// Callback on the redirect URL. State, nonce and the PKCE verifier travel in a sealed,
// HttpOnly, SameSite=Lax, Secure cookie bound to the browser and to the Login (issuer and
// redirect URL) that started the login, and are compared in constant time. A Login is
// immutable and safe for concurrent use.
type Login struct {
	cfg      LoginConfig
	st       *issuerState
	v        *Verifier
	aead     cipher.AEAD
	aad      []byte // binds a sealed state to this Login: cookie name, issuer, redirect URL
	cookie   string
	secure   bool
	scopes   string
	auth     ClientAuth
	keyAlg   jose.SignatureAlgorithm
	needInfo bool
}

// NewLogin validates cfg and returns a Login.
func NewLogin(cfg LoginConfig) (*Login, error) {
	if cfg.Verifier == nil || cfg.OnLogin == nil {
		return nil, fmt.Errorf("%w: login needs a Verifier and an OnLogin", ErrConfig)
	}
	l := &Login{cfg: cfg, v: cfg.Verifier}
	if cfg.Issuer == "" {
		if len(cfg.Verifier.issuers) != 1 {
			return nil, fmt.Errorf("%w: login needs an Issuer when the verifier has several", ErrConfig)
		}
		for _, st := range cfg.Verifier.issuers {
			l.st = st
		}
	} else if l.st = cfg.Verifier.issuers[cfg.Issuer]; l.st == nil {
		return nil, fmt.Errorf("%w: login issuer is not one of the verifier's", ErrConfig)
	}
	ru, err := checkEndpoint("redirect url", cfg.RedirectURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if cfg.PostLogoutRedirectURL != "" {
		if _, err := checkEndpoint("post-logout redirect url", cfg.PostLogoutRedirectURL); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	// A Secure cookie cannot be set over http; http is only allowed on loopback hosts.
	l.secure = ru.Scheme == "https"
	l.cookie = "dpi-login"
	if l.secure {
		l.cookie = "__Host-dpi-login" // RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain
	}
	key := cfg.CookieKey
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: CookieKey must be 32 bytes", ErrConfig)
	}
	block, _ := aes.NewCipher(key)
	l.aead, _ = cipher.NewGCM(block)
	// Logins sharing a CookieKey share the cookie name too; without the issuer and
	// redirect URL in the associated data, one Login would take another's state and a
	// response from one IdP could complete a login begun with another (mix-up).
	l.aad = []byte(l.cookie + "\x00" + l.st.cfg.URL + "\x00" + cfg.RedirectURL)

	l.auth = cfg.ClientAuth
	if l.auth == "" {
		l.auth = l.st.prof.ClientAuth
	}
	if l.auth == "" {
		l.auth = ClientSecretBasic
		if cfg.ClientKey != nil {
			l.auth = PrivateKeyJWT
		}
	}
	switch l.auth {
	case ClientSecretBasic, ClientSecretPost:
		if cfg.ClientSecret == "" {
			return nil, fmt.Errorf("%w: %s needs a ClientSecret", ErrConfig, l.auth)
		}
	case PrivateKeyJWT:
		if cfg.ClientKey == nil {
			return nil, fmt.Errorf("%w: private_key_jwt needs a ClientKey", ErrConfig)
		}
		if l.keyAlg, err = clientKeyAlgorithm(cfg.ClientKey, cfg.ClientKeyAlgorithm); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: unknown client auth %q", ErrConfig, l.auth)
	}
	scopes := cfg.Scopes
	if scopes == nil {
		scopes = l.st.prof.Scopes
	}
	l.scopes = strings.Join(append([]string{"openid"}, slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == "openid" })...), " ")
	if len(cfg.Claims) > 0 && !json.Valid(cfg.Claims) {
		return nil, fmt.Errorf("%w: Claims is not valid json", ErrConfig)
	}
	p := l.st.prof
	l.needInfo = cfg.UserInfo || p.BareIDToken || p.Levels != nil || p.UserInfo.Method == http.MethodPost || p.UserInfo.Signed
	return l, nil
}

func clientKeyAlgorithm(k crypto.Signer, name string) (jose.SignatureAlgorithm, error) {
	if name != "" {
		a, ok := algorithms[name]
		if !ok || fits(a, k.Public()) != "" {
			return "", fmt.Errorf("%w: client key algorithm %q does not fit the key", ErrConfig, truncate(name, 16))
		}
		return jose.SignatureAlgorithm(name), nil
	}
	switch pub := k.Public().(type) {
	case *ecdsa.PublicKey:
		for _, a := range []string{"ES256", "ES384", "ES512"} {
			if fits(algorithms[a], pub) == "" {
				return jose.SignatureAlgorithm(a), nil
			}
		}
	case *rsa.PublicKey:
		if pub.N.BitLen() >= limits.MinRSABits {
			return jose.RS256, nil
		}
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("%w: unsupported client key", ErrConfig)
}

// loginState is sealed into the cookie.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Issued   int64  `json:"t"`
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start begins a login: it sets the state cookie and redirects to the IdP.
func (l *Login) Start() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := l.v.discovery(r.Context(), l.st)
		if err != nil || d.AuthorizationEndpoint == "" {
			http.Error(w, "identity provider unavailable", http.StatusBadGateway)
			return
		}
		s := loginState{State: randomString(), Nonce: randomString(), Verifier: randomString(), Issued: l.v.now().Unix()}
		sealed, err := l.seal(s)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: l.cookie, Value: sealed, Path: "/", HttpOnly: true, Secure: l.secure,
			SameSite: http.SameSiteLaxMode, // the IdP's redirect back is a top-level GET
			MaxAge:   int(limits.LoginStateLifetime / time.Second),
		})
		sum := sha256.Sum256([]byte(s.Verifier))
		q := url.Values{
			"response_type":         {"code"},
			"client_id":             {l.st.cfg.ClientID},
			"redirect_uri":          {l.cfg.RedirectURL},
			"scope":                 {l.scopes},
			"state":                 {s.State},
			"nonce":                 {s.Nonce},
			"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"},
		}
		if len(l.cfg.ACRValues) > 0 {
			q.Set("acr_values", strings.Join(l.cfg.ACRValues, " "))
		}
		if len(l.cfg.Claims) > 0 {
			q.Set("claims", string(l.cfg.Claims))
		}
		if l.cfg.MaxAge > 0 {
			q.Set("max_age", fmt.Sprint(int64(l.cfg.MaxAge/time.Second)))
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, withQuery(d.AuthorizationEndpoint, q), http.StatusFound)
	})
}

// Callback completes a login: it checks state, exchanges the code, verifies the ID token
// (nonce, at_hash, max_age, level of assurance), fetches userinfo when needed, and calls
// OnLogin.
func (l *Login) Callback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := l.callback(r)
		// The state is single-use whatever happened.
		http.SetCookie(w, &http.Cookie{Name: l.cookie, Value: "", Path: "/", HttpOnly: true, Secure: l.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			if l.cfg.OnError != nil {
				l.cfg.OnError(w, r, err)
				return
			}
			status := http.StatusBadRequest
			if errors.Is(err, ErrUnavailable) {
				status = http.StatusBadGateway
			}
			http.Error(w, "login failed", status)
			return
		}
		l.cfg.OnLogin(w, r, id)
	})
}

func loginErr(format string, a ...any) error {
	return &RejectedError{Check: "login", Reason: fmt.Sprintf(format, a...), Err: ErrLogin}
}

func (l *Login) callback(r *http.Request) (*Identity, error) {
	c, err := r.Cookie(l.cookie)
	if err != nil || len(c.Value) > limits.MaxLoginStateCookie {
		return nil, loginErr("no login in progress in this browser")
	}
	s, err := l.open(c.Value)
	if err != nil {
		return nil, loginErr("login state cookie is not ours")
	}
	age := l.v.now().Sub(time.Unix(s.Issued, 0))
	if age < -time.Minute || age > limits.LoginStateLifetime {
		return nil, loginErr("login took too long")
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(s.State)) != 1 {
		return nil, loginErr("state mismatch")
	}
	// RFC 9207: an iss parameter must name the IdP this login went to (mix-up defence),
	// and must be there when the IdP says it sends one (§2.4).
	iss, ok := q["iss"]
	if ok && (len(iss) != 1 || iss[0] != l.st.cfg.URL) {
		return nil, loginErr("response from another issuer")
	}
	if !ok {
		d, err := l.v.discovery(r.Context(), l.st)
		if err != nil {
			return nil, err
		}
		if d.IssParameter {
			return nil, loginErr("response lacks the iss parameter its issuer sends")
		}
	}
	if e := q.Get("error"); e != "" {
		return nil, loginErr("identity provider returned error %q", truncate(e, 40))
	}
	code := q.Get("code")
	if code == "" {
		return nil, loginErr("no code")
	}
	tr, err := l.exchange(r.Context(), code, s.Verifier)
	if err != nil {
		return nil, err
	}
	want := Expect{Nonce: s.Nonce, AccessToken: tr.AccessToken, MaxAge: l.cfg.MaxAge}
	minLoA := max(l.cfg.MinLoA, l.v.minLoA)
	id, err := l.v.verifyNoLoA(r.Context(), tr.IDToken, want)
	if err != nil {
		return nil, err
	}
	if id.Issuer != l.st.cfg.URL {
		return nil, reject(ErrIssuer, "iss", "id token from another issuer than the login's")
	}
	needInfo := l.needInfo || (l.st.prof.NationalID != nil && id.NationalID == nil)
	if needInfo || l.st.prof.Levels != nil {
		if id, err = l.v.completeIdentity(r.Context(), l.st, id, tr.AccessToken, needInfo); err != nil {
			return nil, err
		}
	}
	if minLoA > LoAUnknown && id.Assurance.LoA < minLoA {
		return nil, &LoAError{Got: id.Assurance.LoA, Want: minLoA, ACR: id.ACR}
	}
	return id, nil
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	IDToken     string `json:"id_token"`
}

// exchange redeems the code at the token endpoint (OpenID Connect Core §3.1.3).
func (l *Login) exchange(ctx context.Context, code, verifier string) (*tokenResponse, error) {
	d, err := l.v.discovery(ctx, l.st)
	if err != nil {
		return nil, err
	}
	if d.TokenEndpoint == "" {
		return nil, fmt.Errorf("%w: issuer has no token endpoint", ErrUnavailable)
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {l.cfg.RedirectURL},
		"code_verifier": {verifier},
	}
	clientID := l.st.cfg.ClientID
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	switch l.auth {
	case ClientSecretBasic:
		// RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
		cred := url.QueryEscape(clientID) + ":" + url.QueryEscape(l.cfg.ClientSecret)
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	case ClientSecretPost:
		form.Set("client_id", clientID)
		form.Set("client_secret", l.cfg.ClientSecret)
	case PrivateKeyJWT:
		a, err := l.clientAssertion(d.TokenEndpoint)
		if err != nil {
			return nil, fmt.Errorf("%w: client assertion: %v", ErrLogin, err)
		}
		form.Set("client_id", clientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: token: %v", ErrUnavailable, err)
	}
	req.Header = header
	res, err := l.v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: token: %v", ErrUnavailable, sanitizeFetchErr(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, limits.MaxTokenResponse+1))
	if err != nil || len(body) > limits.MaxTokenResponse {
		return nil, fmt.Errorf("%w: token: response too large or unreadable", ErrUnavailable)
	}
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, loginErr("token endpoint refused the code: %q", truncate(e.Error, 40))
	}
	var tr tokenResponse
	if err := strictUnmarshal(body, &tr); err != nil || tr.IDToken == "" || tr.AccessToken == "" {
		return nil, loginErr("token response lacks an id_token or access_token")
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return nil, loginErr("token type is not Bearer")
	}
	return &tr, nil
}

// clientAssertion builds the RFC 7523 §3 JWT that authenticates the client.
func (l *Login) clientAssertion(aud string) (string, error) {
	now := l.v.now()
	claims, _ := json.Marshal(map[string]any{
		"iss": l.st.cfg.ClientID, "sub": l.st.cfg.ClientID, "aud": aud,
		"jti": randomString(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
	key := jose.JSONWebKey{Key: cryptosigner.Opaque(l.cfg.ClientKey), KeyID: l.cfg.ClientKeyID}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: l.keyAlg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(claims)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// LogoutURL returns the IdP's end-session URL (OpenID Connect RP-Initiated Logout 1.0
// §2) that sends the browser back to PostLogoutRedirectURL. The service clears its own
// session first, on a POST it protects against cross-site requests, so that another site
// cannot sign the person out.
func (l *Login) LogoutURL(ctx context.Context) (string, error) {
	d, err := l.v.discovery(ctx, l.st)
	if err != nil {
		return "", err
	}
	if d.EndSessionEndpoint == "" {
		return "", fmt.Errorf("%w: issuer has no end-session endpoint", ErrUnavailable)
	}
	q := url.Values{"client_id": {l.st.cfg.ClientID}}
	if l.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", l.cfg.PostLogoutRedirectURL)
	}
	return withQuery(d.EndSessionEndpoint, q), nil
}

// withQuery appends q to an endpoint URL that may already have a query of its own.
func withQuery(endpoint string, q url.Values) string {
	if strings.Contains(endpoint, "?") {
		return endpoint + "&" + q.Encode()
	}
	return endpoint + "?" + q.Encode()
}

// seal encrypts the state with a random nonce; l.aad is the associated data.
func (l *Login) seal(s loginState) (string, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, l.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(l.aead.Seal(nonce, nonce, plain, l.aad)), nil
}

func (l *Login) open(v string) (*loginState, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < l.aead.NonceSize() {
		return nil, errors.New("bad cookie")
	}
	plain, err := l.aead.Open(nil, b[:l.aead.NonceSize()], b[l.aead.NonceSize():], l.aad)
	if err != nil {
		return nil, err
	}
	var s loginState
	if err := json.NewDecoder(bytes.NewReader(plain)).Decode(&s); err != nil || s.State == "" || s.Nonce == "" || s.Verifier == "" {
		return nil, errors.New("bad state")
	}
	return &s, nil
}
