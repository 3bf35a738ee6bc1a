package identity

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Credential status with IETF Token Status Lists (draft-ietf-oauth-status-list): a
// credential's status claim names an index in a list the issuer publishes as a signed
// status list token (typ statuslist+jwt), whose status_list holds a zlib-compressed
// array of 1, 2, 4 or 8-bit statuses.

var (
	// ErrRevoked: the credential's status list says INVALID (0x01), or a status this
	// package does not know (application-specific values fail closed).
	ErrRevoked = errors.New("identity: credential revoked")
	// ErrSuspended: the credential's status list says SUSPENDED (0x02).
	ErrSuspended = errors.New("identity: credential suspended")
)

// statusListTypes are the typ values of a status list token.
var statusListTypes = []string{"statuslist+jwt", "application/statuslist+jwt"}

// statusList is a verified, decompressed status list.
type statusList struct {
	bits    int
	lst     []byte
	expires time.Time
	err     error // a failed fetch, remembered until expires
}

// status returns the status at idx, false when idx is beyond the list.
func (l *statusList) status(idx int64) (byte, bool) {
	bit := idx * int64(l.bits)
	if idx < 0 || bit/8 >= int64(len(l.lst)) {
		return 0, false
	}
	// Index 0 is in the least significant bits of byte 0.
	return l.lst[bit/8] >> (bit % 8) & (1<<l.bits - 1), true
}

// statusCache holds the status lists a CredentialVerifier fetched, by URI.
type statusCache struct {
	client *http.Client
	mu     sync.Mutex
	lists  map[string]*statusList
}

// checkStatus checks the credential's status claim against its status list.
func (cv *CredentialVerifier) checkStatus(ctx context.Context, st *issuerState, iss string, raw json.RawMessage) error {
	var sc struct {
		StatusList *struct {
			Idx *int64 `json:"idx"`
			URI string `json:"uri"`
		} `json:"status_list"`
	}
	if strictUnmarshal(raw, &sc) != nil || sc.StatusList == nil {
		// A status mechanism we do not understand could be saying the credential is
		// revoked: fail closed.
		return reject(ErrClaims, "status", "status claim names no status_list")
	}
	ref := sc.StatusList
	if ref.Idx == nil || *ref.Idx < 0 {
		return reject(ErrClaims, "status", "status_list idx is missing or negative")
	}
	if _, err := checkEndpoint("status list uri", ref.URI); err != nil {
		return reject(ErrClaims, "status", "status_list uri is not an https url")
	}
	list, err := cv.statusList(ctx, st, iss, ref.URI)
	if err != nil {
		return err
	}
	s, ok := list.status(*ref.Idx)
	switch {
	case !ok:
		return reject(ErrClaims, "status", "status_list idx is beyond the list")
	case s == 0x00:
		return nil
	case s == 0x02:
		return reject(ErrSuspended, "status", "credential suspended")
	case s == 0x01:
		return reject(ErrRevoked, "status", "credential revoked")
	}
	return reject(ErrRevoked, "status", "status %#x is not valid", s)
}

// statusList returns the verified list at uri, from the cache while it is fresh.
func (cv *CredentialVerifier) statusList(ctx context.Context, st *issuerState, iss, uri string) (*statusList, error) {
	c := cv.statuses
	now := cv.v.now()
	c.mu.Lock()
	l := c.lists[uri]
	c.mu.Unlock()
	if l != nil && now.Before(l.expires) {
		return l, l.err
	}
	l, err := cv.fetchStatusList(ctx, st, iss, uri, now)
	if err != nil {
		err = fmt.Errorf("%w: status list: %v", ErrUnavailable, err)
		if ctx.Err() != nil {
			return nil, err
		}
		// An unreachable list is not asked again on every credential.
		l = &statusList{err: err, expires: now.Add(cv.v.keyRefresh)}
	}
	c.mu.Lock()
	if len(c.lists) >= limits.MaxStatusListsCached {
		for k, old := range c.lists {
			if !now.Before(old.expires) {
				delete(c.lists, k)
			}
		}
		for k := range c.lists {
			if len(c.lists) < limits.MaxStatusListsCached {
				break
			}
			delete(c.lists, k)
		}
	}
	c.lists[uri] = l
	c.mu.Unlock()
	return l, l.err
}

// fetchStatusList fetches and verifies a status list token: signed by the credential's
// issuer (its keys, or an x5c chain to its Roots), typ statuslist+jwt, sub equal to uri,
// iss (when present) the credential's, iat not in the future, exp not past.
func (cv *CredentialVerifier) fetchStatusList(ctx context.Context, st *issuerState, iss, uri string, now time.Time) (*statusList, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/statuslist+jwt")
	res, err := cv.statuses.client.Do(req)
	if err != nil {
		return nil, sanitizeFetchErr(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("http status %d", res.StatusCode)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, errors.New("status list token unreadable or too large")
	}
	pool := cv.roots[iss]
	j, err := splitJWSWithin(strings.TrimSpace(string(b)), limits.MaxStatusListToken, statusListTypes, pool != nil)
	if err != nil {
		return nil, err
	}
	alg := algorithms[j.header.Alg]
	if !st.algs[alg.name] {
		return nil, reject(ErrAlgorithm, "alg", "%s is not allowed for this issuer", alg.name)
	}
	if pool != nil {
		err = verifyWithX5C(j, alg, pool, now, iss)
	} else {
		err = cv.v.verifyWithIssuerKeys(ctx, st, j, alg)
	}
	if err != nil {
		return nil, err
	}
	var c struct {
		Iss        string      `json:"iss"`
		Sub        string      `json:"sub"`
		Iat        numericDate `json:"iat"`
		Exp        numericDate `json:"exp"`
		TTL        *int64      `json:"ttl"`
		StatusList struct {
			Bits int    `json:"bits"`
			Lst  string `json:"lst"`
		} `json:"status_list"`
	}
	if err := strictUnmarshal(j.payload, &c); err != nil {
		return nil, errors.New("status list claims are not a json object with the right types")
	}
	switch {
	case c.Sub != uri:
		return nil, errors.New("status list token is for another uri")
	case c.Iss != "" && c.Iss != iss:
		return nil, errors.New("status list token is from another issuer")
	case !c.Iat.ok || c.Iat.t.After(now.Add(cv.v.iatSkw)):
		return nil, errors.New("status list token has no iat or one in the future")
	case c.Exp.ok && !now.Before(c.Exp.t.Add(cv.v.expSkew)):
		return nil, errors.New("status list token expired")
	}
	switch c.StatusList.Bits {
	case 1, 2, 4, 8:
	default:
		return nil, errors.New("status list bits must be 1, 2, 4 or 8")
	}
	z, err := b64.DecodeString(c.StatusList.Lst)
	if err != nil {
		return nil, errors.New("status list lst is not base64url")
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, errors.New("status list lst is not zlib")
	}
	lst, err := io.ReadAll(io.LimitReader(zr, limits.MaxStatusListBytes+1))
	if err != nil {
		return nil, errors.New("status list lst is not zlib")
	}
	if len(lst) > limits.MaxStatusListBytes {
		return nil, fmt.Errorf("status list larger than %d bytes", limits.MaxStatusListBytes)
	}
	age := limits.DefaultStatusListCacheAge
	if c.TTL != nil && *c.TTL >= 0 {
		age = time.Duration(min(*c.TTL, int64(limits.MaxStatusListCacheAge/time.Second))) * time.Second
	}
	age = min(max(age, cv.v.keyRefresh), limits.MaxStatusListCacheAge)
	expires := now.Add(age)
	if c.Exp.ok && c.Exp.t.Before(expires) {
		expires = c.Exp.t
	}
	return &statusList{bits: c.StatusList.Bits, lst: lst, expires: expires}, nil
}
