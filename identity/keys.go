package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dpiblocks/dpi/internal/limits"
)

// pubKey is one verification key of an issuer, already converted to a crypto.PublicKey.
type pubKey struct {
	kid, alg, use string
	key           crypto.PublicKey
	notBefore     time.Time // zero when the key states none
	notAfter      time.Time
}

// keySet is an immutable snapshot of an issuer's usable keys.
type keySet struct {
	keys    []pubKey
	url     string    // the jwks_uri they were fetched from
	fetched time.Time // by the Verifier's clock
	expires time.Time // fetched + Cache-Control max-age within [keyRefresh, keyMaxAge]
}

// discoveryDoc holds the members of OpenID Connect Discovery 1.0 §3 that we use.
type discoveryDoc struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	// IssParameter is RFC 9207 §3's authorization_response_iss_parameter_supported.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`

	fetched, expires time.Time // by the Verifier's clock
}

// issuerState is what the Verifier learns about one issuer at run time. Discovery and key
// refreshes are serialised by sem and rate-limited, so a flood of tokens with unknown kids
// costs the IdP at most one key-set request (and one discovery request) per refresh
// interval. Both documents are refreshed on the request path when they expire; while one
// caller refreshes, the others keep using what was fetched before.
type issuerState struct {
	cfg        Issuer
	prof       *Profile
	algs       map[string]bool
	credential bool // a credential issuer: JWT VC Issuer Metadata instead of OpenID discovery

	sem         chan struct{} // a mutex that a caller can stop waiting for
	disc        atomic.Pointer[discoveryDoc]
	keys        atomic.Pointer[keySet]
	lastErr     error     // guarded by sem: the last discovery failure
	lastTry     time.Time // guarded by sem: last discovery attempt
	lastRefresh time.Time // guarded by sem: last refresh of fetched keys (unknown kid or age)
	keyErr      error     // guarded by sem: the last failure of the first key fetch
	keyErrAt    time.Time // guarded by sem
}

// tryLock takes sem if no one holds it.
func (st *issuerState) tryLock() bool {
	select {
	case st.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (st *issuerState) lock(ctx context.Context) error {
	select {
	case st.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
}

func (st *issuerState) unlock() { <-st.sem }

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkEndpoint enforces https, or http on a loopback host (tests, dpitest).
func checkEndpoint(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%s %q is not an absolute url", what, truncate(raw, 200))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%s %q must use https (http only on a loopback host)", what, truncate(raw, 200))
	}
	return u, nil
}

// limitedBody fails a read past max bytes instead of truncating silently.
type limitedBody struct {
	rc io.ReadCloser
	n  int64
}

var errTooLarge = errors.New("response larger than the limit")

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.rc.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		return 0, errTooLarge
	}
	return k, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = &limitedBody{rc: res.Body, n: t.max}
	return res, nil
}

// boundedClient derives from base a client that reads at most max bytes per response,
// times out, and does not follow redirects (an IdP endpoint that redirects elsewhere is a
// configuration to fix, not to follow silently).
func boundedClient(base *http.Client, max int64) *http.Client {
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	timeout := base.Timeout
	if timeout <= 0 {
		timeout = limits.IdentityHTTPTimeout
	}
	return &http.Client{
		Transport: limitTransport{base: rt, max: max},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
}

// getJSON fetches a JSON document with a size cap.
func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("http status %d", res.StatusCode)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	return strictUnmarshal(b, v)
}

// discovery returns the issuer's discovery document, fetching it on first use and again
// when it is older than the discovery max age. A failure is remembered for the refresh
// interval so an unreachable IdP is not asked on every token; a failed refresh keeps the
// document fetched before.
func (v *Verifier) discovery(ctx context.Context, st *issuerState) (*discoveryDoc, error) {
	old := st.disc.Load()
	if old != nil && v.now().Before(old.expires) {
		return old, nil
	}
	if old != nil && v.closed.Load() {
		return old, nil
	}
	if old != nil {
		if !st.tryLock() {
			return old, nil // another caller is refreshing it
		}
	} else if err := st.lock(ctx); err != nil {
		return nil, err
	}
	defer st.unlock()
	now := v.now()
	if d := st.disc.Load(); d != nil && (now.Before(d.expires) || d != old) {
		return d, nil
	}
	if st.lastErr != nil && now.Sub(st.lastTry) < v.keyRefresh {
		if old != nil {
			return old, nil
		}
		return nil, st.lastErr
	}
	if old == nil && v.closed.Load() {
		return nil, fmt.Errorf("%w: verifier closed", ErrUnavailable)
	}
	d, err := v.fetchDiscovery(ctx, st)
	if err != nil {
		err = fmt.Errorf("%w: discovery: %v", ErrUnavailable, sanitizeFetchErr(err))
		if ctx.Err() == nil { // a caller's own deadline says nothing about the IdP
			st.lastErr, st.lastTry = err, now
		}
		if old != nil {
			v.log.Warn("identity: discovery refresh failed", "issuer", st.cfg.URL, "err", err)
			return old, nil
		}
		return nil, err
	}
	st.lastErr = nil
	d.fetched, d.expires = now, now.Add(v.discMaxAge)
	st.disc.Store(d)
	return d, nil
}

func (v *Verifier) fetchDiscovery(ctx context.Context, st *issuerState) (*discoveryDoc, error) {
	d := &discoveryDoc{}
	if st.cfg.JWKSURL != "" && st.cfg.SkipDiscovery {
		d.Issuer, d.JWKSURI = st.cfg.URL, st.cfg.JWKSURL
		return d, nil
	}
	u := strings.TrimSuffix(st.cfg.URL, "/") + "/.well-known/openid-configuration"
	if st.credential {
		var err error
		if u, err = credentialMetadataURL(st.cfg.URL); err != nil {
			return nil, err
		}
	}
	if err := getJSON(ctx, v.discoveryClient, u, d); err != nil {
		return nil, err
	}
	// OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be identical to
	// the one the configuration was fetched for.
	if d.Issuer != st.cfg.URL {
		return nil, errors.New("discovery document names another issuer")
	}
	if st.cfg.JWKSURL != "" {
		d.JWKSURI = st.cfg.JWKSURL
	}
	if d.JWKSURI == "" {
		// Keys inline in JWT VC Issuer Metadata ("jwks") are not supported: configure
		// CredentialIssuer.JWKSURL instead.
		return nil, errors.New("no jwks_uri")
	}
	for _, e := range []struct{ name, u string }{
		{"jwks_uri", d.JWKSURI}, {"authorization_endpoint", d.AuthorizationEndpoint},
		{"token_endpoint", d.TokenEndpoint}, {"userinfo_endpoint", d.UserinfoEndpoint},
		{"end_session_endpoint", d.EndSessionEndpoint},
	} {
		if e.u == "" && e.name != "jwks_uri" {
			continue
		}
		if _, err := checkEndpoint(e.name, e.u); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// keySet returns the issuer's keys, fetching them on first use and again when they expire
// (Cache-Control max-age within [keyRefresh, keyMaxAge]) or the discovery document names
// another jwks_uri.
func (v *Verifier) keySet(ctx context.Context, st *issuerState) (*keySet, error) {
	ks := st.keys.Load()
	if ks != nil {
		now := v.now()
		if d := st.disc.Load(); d != nil && now.Before(d.expires) && now.Before(ks.expires) && ks.url == d.JWKSURI {
			return ks, nil
		}
	}
	return v.refreshKeys(ctx, st, false)
}

// refreshKeys fetches the key set. Refreshes of keys already fetched (an unknown kid, an
// expiry, a new jwks_uri) happen at most once per refresh interval per issuer; meanwhile,
// and when a refresh fails, the keys fetched before stay in use. A forced refresh (unknown
// kid) first refetches the discovery document, if it is older than the interval: the IdP
// may have moved its keys with its endpoints.
func (v *Verifier) refreshKeys(ctx context.Context, st *issuerState, forced bool) (*keySet, error) {
	if v.closed.Load() {
		if ks := st.keys.Load(); ks != nil {
			return ks, nil
		}
		return nil, fmt.Errorf("%w: verifier closed", ErrUnavailable)
	}
	d, err := v.discovery(ctx, st)
	if err != nil {
		return nil, err
	}
	ks := st.keys.Load()
	if ks != nil && !forced {
		if !st.tryLock() {
			return ks, nil // another caller is refreshing them
		}
	} else if err := st.lock(ctx); err != nil {
		return nil, err
	}
	defer st.unlock()
	now := v.now()
	if cur := st.keys.Load(); cur != ks {
		return cur, nil // another caller refreshed while we waited
	}
	switch {
	case ks != nil:
		if !forced && now.Before(ks.expires) && ks.url == d.JWKSURI {
			return ks, nil
		}
		// Rate limit: one refresh per interval, whatever asked for it.
		if now.Sub(st.lastRefresh) < v.keyRefresh {
			return ks, nil
		}
		st.lastRefresh = now
		if forced && now.Sub(d.fetched) >= v.keyRefresh && !(st.cfg.SkipDiscovery && st.cfg.JWKSURL != "") {
			if nd, err := v.fetchDiscovery(ctx, st); err == nil {
				nd.fetched, nd.expires = now, now.Add(v.discMaxAge)
				st.disc.Store(nd)
				d = nd
			} else {
				v.log.Warn("identity: discovery refresh failed", "issuer", st.cfg.URL, "err", sanitizeFetchErr(err))
			}
		}
	case st.keyErr != nil && now.Sub(st.keyErrAt) < v.keyRefresh:
		return nil, st.keyErr // the key set was unreachable a moment ago
	}
	fresh, err := v.fetchKeys(ctx, d.JWKSURI, now)
	if err != nil {
		err = fmt.Errorf("%w: jwks: %v", ErrUnavailable, sanitizeFetchErr(err))
		if ks != nil {
			v.log.Warn("identity: key set refresh failed", "issuer", st.cfg.URL, "err", err)
			return ks, nil // keep serving the keys we had
		}
		if ctx.Err() == nil { // a caller's own deadline says nothing about the IdP
			st.keyErr, st.keyErrAt = err, now
		}
		return nil, err
	}
	st.keyErr = nil
	st.keys.Store(fresh)
	return fresh, nil
}

// fetchKeys fetches and converts a key set, and sets how long it may be kept.
func (v *Verifier) fetchKeys(ctx context.Context, u string, now time.Time) (*keySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := v.jwksClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("http status %d", res.StatusCode)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	// One odd key (an X25519 encryption key, say) must not hide the others.
	set, err := jwk.Parse(b, jwk.WithIgnoreParseError(true))
	if err != nil {
		return nil, errors.New("key set is not a jwk set")
	}
	ks, err := v.convertKeys(set)
	if err != nil {
		return nil, err
	}
	ks.url, ks.fetched = u, now
	ks.expires = now.Add(cacheAge(res.Header.Values("Cache-Control"), v.keyRefresh, v.keyMaxAge))
	return ks, nil
}

// cacheAge is how long a response may be kept: its Cache-Control max-age (RFC 9111
// §5.2.2.1), or limits.DefaultKeyCacheAge without one, within [lo, hi]. no-store and
// no-cache mean lo: the rate limit still applies.
func cacheAge(cc []string, lo, hi time.Duration) time.Duration {
	age := limits.DefaultKeyCacheAge
	for _, h := range cc {
		for d := range strings.SplitSeq(h, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return lo
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
					age = time.Duration(min(n, int64(hi/time.Second)+1)) * time.Second
				}
			}
		}
	}
	return min(max(age, lo), hi)
}

// sanitizeFetchErr makes a fetch error fit for an error message: a *url.Error names the
// URL, and a levels API URL carries the subject, which for gov.br is the person's CPF.
func sanitizeFetchErr(err error) error {
	if errors.Is(err, errTooLarge) {
		return fmt.Errorf("key set larger than %d bytes", limits.MaxJWKSDocument)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// convertKeys keeps the signature keys of a fetched set as crypto.PublicKeys.
func (v *Verifier) convertKeys(set jwk.Set) (*keySet, error) {
	if set.Len() > limits.MaxJWKSKeys {
		return nil, fmt.Errorf("key set has %d keys, more than %d", set.Len(), limits.MaxJWKSKeys)
	}
	ks := &keySet{}
	for i := 0; i < set.Len(); i++ {
		k, ok := set.Key(i)
		if !ok {
			continue
		}
		switch k.KeyType() {
		case jwa.EC, jwa.RSA, jwa.OKP:
		default:
			continue // symmetric keys never verify an ID token
		}
		if k.KeyUsage() != "" && k.KeyUsage() != "sig" {
			continue
		}
		raw, err := jwk.PublicRawKeyOf(k)
		if err != nil {
			continue
		}
		pk := pubKey{kid: k.KeyID(), use: k.KeyUsage(), key: raw}
		if a := k.Algorithm(); a != nil {
			pk.alg = a.String()
		}
		if !supportedKey(raw) {
			continue
		}
		// A key's own validity: the leaf certificate of its x5c, and exp/nbf members
		// some IdPs publish (seconds since the epoch).
		if chain := k.X509CertChain(); chain != nil && chain.Len() > 0 {
			if der, ok := chain.Get(0); ok {
				if c, err := x509.ParseCertificate(der); err == nil {
					pk.notBefore, pk.notAfter = c.NotBefore, c.NotAfter
				}
			}
		}
		if t, ok := numericMember(k, "exp"); ok {
			pk.notAfter = t
		}
		if t, ok := numericMember(k, "nbf"); ok {
			pk.notBefore = t
		}
		ks.keys = append(ks.keys, pk)
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("key set has no usable signature key")
	}
	return ks, nil
}

func numericMember(k jwk.Key, name string) (time.Time, bool) {
	v, ok := k.Get(name)
	if !ok {
		return time.Time{}, false
	}
	switch n := v.(type) {
	case float64:
		return time.Unix(int64(n), 0), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return time.Unix(i, 0), true
		}
	}
	return time.Time{}, false
}

func supportedKey(k crypto.PublicKey) bool {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256() || k.Curve == elliptic.P384() || k.Curve == elliptic.P521()
	case *rsa.PublicKey:
		return true
	case ed25519.PublicKey:
		// jwx does not check the length of an OKP x, and ed25519.Verify panics on a key
		// that is not 32 bytes.
		return len(k) == ed25519.PublicKeySize
	}
	return false
}

// findKey picks the key for a token: by kid when the token has one, else the single key
// that fits alg. It reports ErrUnknownKey (worth a refresh) or ErrKeyMismatch (not).
func findKey(ks *keySet, kid string, alg *algorithm, now time.Time) (crypto.PublicKey, error) {
	var candidate *pubKey
	for i := range ks.keys {
		k := &ks.keys[i]
		if kid != "" {
			if k.kid != kid {
				continue
			}
			candidate = k
			break
		}
		if fits(alg, k.key) == "" && (k.alg == "" || k.alg == alg.name) {
			if candidate != nil {
				return nil, reject(ErrUnknownKey, "kid", "token has no kid and several keys fit")
			}
			candidate = k
		}
	}
	if candidate == nil {
		return nil, reject(ErrUnknownKey, "kid", "no key with this kid in the issuer's key set")
	}
	if why := fits(alg, candidate.key); why != "" {
		return nil, reject(ErrKeyMismatch, "kid", "%s", why)
	}
	if candidate.alg != "" && candidate.alg != alg.name {
		return nil, reject(ErrKeyMismatch, "kid", "key is for %s, token says %s", truncate(candidate.alg, 16), alg.name)
	}
	if !candidate.notAfter.IsZero() && now.After(candidate.notAfter) {
		return nil, reject(ErrKeyMismatch, "kid", "signing key expired")
	}
	if !candidate.notBefore.IsZero() && now.Before(candidate.notBefore) {
		return nil, reject(ErrKeyMismatch, "kid", "signing key not yet valid")
	}
	return candidate.key, nil
}
