package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// backChannelLogoutEvent is the member of a logout token's events claim that makes it one
// (OpenID Connect Back-Channel Logout 1.0 §2.4).
const backChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenTypes are the typ values of a logout token: absent, or logout+jwt (§2.4, with
// its media type form, RFC 8725 §3.11). A typ of JWT is refused: that is what ID tokens
// say, and explicit typing is what tells the two apart.
var logoutTokenTypes = []string{"", "logout+jwt", "application/logout+jwt"}

// Logout is a verified back-channel logout request: the sessions it names must end. At
// least one of Subject and SessionID is set; without SessionID every session of Subject
// at Issuer ends.
type Logout struct {
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject,omitempty"`
	SessionID string    `json:"sessionId,omitempty"`
	TokenID   string    `json:"tokenId"` // jti
	IssuedAt  time.Time `json:"issuedAt"`
	Expiry    time.Time `json:"expiry"`
}

// logoutClaims are the claims of a logout token (§2.4).
type logoutClaims struct {
	Iss    string                     `json:"iss"`
	Sub    string                     `json:"sub"`
	Aud    audience                   `json:"aud"`
	Azp    string                     `json:"azp"`
	Iat    numericDate                `json:"iat"`
	Exp    numericDate                `json:"exp"`
	Jti    string                     `json:"jti"`
	Sid    string                     `json:"sid"`
	Events map[string]json.RawMessage `json:"events"`
	Nonce  json.RawMessage            `json:"nonce"`
}

// VerifyLogoutToken verifies a back-channel logout token (OpenID Connect Back-Channel
// Logout 1.0 §2.6) from one of the Verifier's issuers: signature, alg, iss, aud (with
// [Issuer.TrustedAudiences]), iat and exp as for an ID token; the events claim; sub or sid;
// no nonce; a jti; typ logout+jwt when present. It does not remember jtis: a
// [LogoutHandler] does. Failures are as for Verify.
func (v *Verifier) VerifyLogoutToken(ctx context.Context, rawToken string) (*Logout, error) {
	j, err := splitTypedJWS(rawToken, logoutTokenTypes, false)
	if err != nil {
		return nil, err
	}
	var c logoutClaims
	if err := strictUnmarshal(j.payload, &c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, reject(ErrClaims, "claims", "claim %q has the wrong type", truncate(te.Field, 40))
		}
		return nil, reject(ErrClaims, "claims", "claims are not a json object with the right types")
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
	// §2.6 step 4: iss, aud, iat and exp as for ID tokens.
	if err := checkAudience(st, c.Aud, c.Azp); err != nil {
		return nil, err
	}
	now := v.now()
	switch {
	case !c.Exp.ok:
		return nil, reject(ErrExpired, "exp", "logout token has no expiry")
	case !now.Before(c.Exp.t.Add(v.expSkew)):
		return nil, reject(ErrExpired, "exp", "logout token expired")
	case !c.Iat.ok:
		return nil, reject(ErrIssuedAt, "iat", "logout token has no issue time")
	case c.Iat.t.After(now.Add(v.iatSkw)):
		return nil, reject(ErrIssuedAt, "iat", "logout token issued in the future")
	}
	// §2.6 steps 5 to 7, and §2.4: jti is required.
	if _, ok := c.Events[backChannelLogoutEvent]; !ok {
		return nil, reject(ErrClaims, "events", "no back-channel logout event: not a logout token")
	}
	if ev := bytes.TrimSpace(c.Events[backChannelLogoutEvent]); len(ev) == 0 || ev[0] != '{' {
		return nil, reject(ErrClaims, "events", "the logout event is not a json object")
	}
	if c.Sub == "" && c.Sid == "" {
		return nil, reject(ErrClaims, "sub", "logout token names neither sub nor sid")
	}
	if len(c.Sub) > 255 || len(c.Sid) > 255 || len(c.Jti) > 255 {
		return nil, reject(ErrClaims, "claims", "sub, sid or jti longer than 255 characters")
	}
	if c.Nonce != nil {
		return nil, reject(ErrNonce, "nonce", "a logout token must not carry a nonce")
	}
	if c.Jti == "" {
		return nil, reject(ErrClaims, "jti", "logout token has no jti")
	}
	return &Logout{Issuer: c.Iss, Subject: c.Sub, SessionID: c.Sid, TokenID: c.Jti, IssuedAt: c.Iat.t, Expiry: c.Exp.t}, nil
}

// ErrReplay reports a logout token whose jti was already accepted.
var ErrReplay = errors.New("identity: token replayed")

// LogoutConfig configures a LogoutHandler.
type LogoutConfig struct {
	// Verifier verifies the logout tokens; its issuers are the ones that may log people
	// out. Required.
	Verifier *Verifier
	// OnLogout ends the sessions l names (l.SessionID, or every session of l.Subject when
	// it is empty). Required. An error answers 400 to the IdP, which may retry: the token
	// is then not remembered as used.
	OnLogout func(ctx context.Context, l *Logout) error
	// MaxReplayEntries caps the jtis remembered (default and maximum
	// limits.MaxLogoutReplayEntries).
	MaxReplayEntries int
}

// LogoutHandler is the back-channel logout URI of a relying party (OpenID Connect
// Back-Channel Logout 1.0 §2.5, §2.8): it accepts a POST with a logout_token, verifies it,
// refuses a jti seen before (until the token expires), hands the logout to OnLogout and
// answers 200, or 400 with a JSON error; always Cache-Control: no-store. It is safe for
// concurrent use.
type LogoutHandler struct {
	v        *Verifier
	onLogout func(context.Context, *Logout) error
	max      int

	mu   sync.Mutex
	seen map[string]time.Time // issuer "\x00" jti -> expiry
}

var _ http.Handler = (*LogoutHandler)(nil)

// NewLogoutHandler validates cfg and returns a LogoutHandler.
func NewLogoutHandler(cfg LogoutConfig) (*LogoutHandler, error) {
	if cfg.Verifier == nil || cfg.OnLogout == nil {
		return nil, fmt.Errorf("%w: a logout handler needs a Verifier and OnLogout", ErrConfig)
	}
	if cfg.MaxReplayEntries < 0 || cfg.MaxReplayEntries > limits.MaxLogoutReplayEntries {
		return nil, fmt.Errorf("%w: MaxReplayEntries must be between 0 and %d", ErrConfig, limits.MaxLogoutReplayEntries)
	}
	h := &LogoutHandler{v: cfg.Verifier, onLogout: cfg.OnLogout, max: cfg.MaxReplayEntries, seen: map[string]time.Time{}}
	if h.max == 0 {
		h.max = limits.MaxLogoutReplayEntries
	}
	return h, nil
}

// ServeHTTP handles one back-channel logout request.
func (h *LogoutHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store") // §2.8
	fail := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		fail(http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limits.MaxLogoutRequest)
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	toks := r.PostForm["logout_token"]
	if len(toks) != 1 || toks[0] == "" {
		fail(http.StatusBadRequest, "invalid_request", "exactly one logout_token is required")
		return
	}
	l, err := h.v.VerifyLogoutToken(r.Context(), strings.TrimSpace(toks[0]))
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			fail(http.StatusBadRequest, "temporarily_unavailable", "the issuer's keys could not be fetched")
			return
		}
		fail(http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	key := l.Issuer + "\x00" + l.TokenID
	if !h.reserve(key, l.Expiry) {
		fail(http.StatusBadRequest, "invalid_request", (&RejectedError{Check: "jti", Reason: "logout token already used", Err: ErrReplay}).Error())
		return
	}
	if err := h.onLogout(r.Context(), l); err != nil {
		h.release(key)
		fail(http.StatusBadRequest, "logout_failed", "the service could not end the session")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// reserve records key until exp (plus the expiry skew, during which the token still
// verifies) and reports whether it was new.
func (h *LogoutHandler) reserve(key string, exp time.Time) bool {
	now := h.v.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if until, ok := h.seen[key]; ok && now.Before(until) {
		return false
	}
	if len(h.seen) >= h.max {
		var oldest string
		var oldestExp time.Time
		for k, until := range h.seen {
			if !now.Before(until) {
				delete(h.seen, k)
				continue
			}
			if oldest == "" || until.Before(oldestExp) {
				oldest, oldestExp = k, until
			}
		}
		if len(h.seen) >= h.max {
			delete(h.seen, oldest)
		}
	}
	h.seen[key] = exp.Add(h.v.expSkew)
	return true
}

func (h *LogoutHandler) release(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.seen, key)
}
