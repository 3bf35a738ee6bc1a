package identity

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/dpiblocks/dpi/internal/limits"
)

// UserInfo fetches the userinfo of a login (OpenID Connect Core §5.3) with its access token
// and returns a copy of id completed with it: names the ID token lacked, the national
// number (ClaveÚnica, eSignet), and, for a profile with a levels API (gov.br), the
// person's level of assurance. The response may be JSON, a signed JWT, or a signed JWT
// encrypted to Issuer.DecryptionKey; its sub must equal id's, and a JWT's iss and aud must
// name the issuer and this client. The minimum level of assurance is checked again.
func (v *Verifier) UserInfo(ctx context.Context, id *Identity, accessToken string) (*Identity, error) {
	st, ok := v.issuers[id.Issuer]
	if !ok {
		return nil, reject(ErrIssuer, "iss", "issuer is not configured")
	}
	out, err := v.completeIdentity(ctx, st, id, accessToken, true)
	if err != nil {
		return nil, err
	}
	if err := v.checkLoA(out, Expect{}); err != nil {
		return nil, err
	}
	return out, nil
}

func (v *Verifier) completeIdentity(ctx context.Context, st *issuerState, id *Identity, accessToken string, userinfo bool) (*Identity, error) {
	out := *id
	out.AMR = slices.Clone(id.AMR)
	if out.NationalID != nil {
		n := *out.NationalID
		out.NationalID = &n
	}
	if userinfo {
		claims, err := v.fetchUserInfo(ctx, st, id.Subject, accessToken)
		if err != nil {
			return nil, err
		}
		out.UserInfo = claims
		var std struct {
			Name       string `json:"name"`
			GivenName  string `json:"given_name"`
			FamilyName string `json:"family_name"`
			Birthdate  string `json:"birthdate"`
		}
		_ = json.Unmarshal(claims, &std) // wrong types leave fields empty
		fill := func(dst *string, s string) {
			if *dst == "" {
				*dst = s
			}
		}
		fill(&out.Name, std.Name)
		fill(&out.GivenName, std.GivenName)
		fill(&out.FamilyName, std.FamilyName)
		fill(&out.BirthDate, std.Birthdate)
		src := &claimSource{raw: claims}
		var fromUI Identity
		fromUI.Subject = id.Subject
		if err := applyProfileClaims(st.prof, &fromUI, src.get); err != nil {
			return nil, err
		}
		fill(&out.Name, fromUI.Name)
		fill(&out.GivenName, fromUI.GivenName)
		fill(&out.FamilyName, fromUI.FamilyName)
		fill(&out.BirthDate, fromUI.BirthDate)
		if out.NationalID == nil {
			out.NationalID = fromUI.NationalID
		}
	}
	if st.prof.Levels != nil {
		a, err := v.fetchLevels(ctx, st.prof.Levels, id.Subject, accessToken)
		if err != nil {
			return nil, err
		}
		if a.LoA > out.Assurance.LoA {
			out.Assurance, out.AssuranceSource = a, "levels"
		}
	}
	return &out, nil
}

// fetchUserInfo returns the verified userinfo claims as JSON.
func (v *Verifier) fetchUserInfo(ctx context.Context, st *issuerState, sub, accessToken string) (json.RawMessage, error) {
	d, err := v.discovery(ctx, st)
	if err != nil {
		return nil, err
	}
	if d.UserinfoEndpoint == "" {
		return nil, fmt.Errorf("%w: issuer has no userinfo endpoint", ErrUnavailable)
	}
	method := http.MethodGet
	if st.prof.UserInfo.Method == http.MethodPost {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, d.UserinfoEndpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %v", ErrUnavailable, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/jwt, application/json")
	res, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %v", ErrUnavailable, sanitizeFetchErr(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: response larger than %d bytes or unreadable", ErrUnavailable, limits.MaxUserInfoResponse)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: userinfo: http status %d", ErrUnavailable, res.StatusCode)
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	var claims []byte
	switch ct {
	case "application/jwt":
		claims, err = v.verifyUserInfoJWT(ctx, st, strings.TrimSpace(string(body)))
		if err != nil {
			return nil, err
		}
	default:
		if st.prof.UserInfo.Signed {
			return nil, reject(ErrSignature, "userinfo", "profile requires a signed userinfo, got %q", truncate(ct, 40))
		}
		claims = body
	}
	var head struct {
		Sub string `json:"sub"`
	}
	if err := strictUnmarshal(claims, &head); err != nil {
		return nil, reject(ErrMalformed, "userinfo", "userinfo is not a json object")
	}
	// OpenID Connect Core §5.3.2: the sub of userinfo must be the ID token's, or the
	// response may be for someone else (token substitution).
	if subtle.ConstantTimeCompare([]byte(head.Sub), []byte(sub)) != 1 {
		return nil, reject(ErrClaims, "userinfo_sub", "userinfo is about another subject")
	}
	return claims, nil
}

// keyAlgorithms and contentEncryptions are the JWE algorithms accepted for an encrypted
// userinfo: no RSA1_5 (Bleichenbacher), no PBES2, no direct or symmetric key wrapping.
var (
	keyAlgorithms = []jose.KeyAlgorithm{
		jose.RSA_OAEP, jose.RSA_OAEP_256, jose.ECDH_ES, jose.ECDH_ES_A128KW, jose.ECDH_ES_A192KW, jose.ECDH_ES_A256KW,
	}
	contentEncryptions = []jose.ContentEncryption{
		jose.A128GCM, jose.A192GCM, jose.A256GCM, jose.A128CBC_HS256, jose.A192CBC_HS384, jose.A256CBC_HS512,
	}
)

// verifyUserInfoJWT decrypts (if it is a JWE) and verifies a userinfo JWT, returning its
// claims.
func (v *Verifier) verifyUserInfoJWT(ctx context.Context, st *issuerState, tok string) ([]byte, error) {
	if len(tok) > limits.MaxUserInfoResponse {
		return nil, reject(ErrMalformed, "userinfo", "userinfo jwt too large")
	}
	if strings.Count(tok, ".") == 4 {
		if st.cfg.DecryptionKey == nil {
			return nil, reject(ErrMalformed, "userinfo", "encrypted userinfo but no decryption key configured")
		}
		jwe, err := jose.ParseEncryptedCompact(tok, keyAlgorithms, contentEncryptions)
		if err != nil {
			return nil, reject(ErrMalformed, "userinfo", "userinfo is not a valid jwe")
		}
		if _, hasZip := jwe.Header.ExtraHeaders["zip"]; hasZip {
			return nil, reject(ErrHeader, "userinfo", "compressed jwe refused")
		}
		plain, err := jwe.Decrypt(st.cfg.DecryptionKey)
		if err != nil {
			return nil, reject(ErrSignature, "userinfo", "userinfo does not decrypt with the configured key")
		}
		tok = strings.TrimSpace(string(plain))
	}
	j, err := splitJWS(tok)
	if err != nil {
		return nil, err
	}
	alg := algorithms[j.header.Alg]
	if !st.algs[alg.name] {
		return nil, reject(ErrAlgorithm, "alg", "%s is not allowed for this issuer", alg.name)
	}
	if err := v.verifyWithIssuerKeys(ctx, st, j, alg); err != nil {
		return nil, err
	}
	var c struct {
		Iss string   `json:"iss"`
		Aud audience `json:"aud"`
	}
	if err := strictUnmarshal(j.payload, &c); err != nil {
		return nil, reject(ErrMalformed, "userinfo", "userinfo claims are not a json object")
	}
	// OpenID Connect Core §5.3.2: a signed userinfo should carry iss and aud; when it does
	// they must be right.
	if c.Iss != st.cfg.URL {
		return nil, reject(ErrIssuer, "userinfo_iss", "userinfo signed for another issuer")
	}
	if !slices.Contains(c.Aud, st.cfg.ClientID) {
		return nil, reject(ErrAudience, "userinfo_aud", "userinfo is not for this client")
	}
	return j.payload, nil
}

// fetchLevels asks a levels API (gov.br's reliability levels) which levels the person has
// and returns the highest mapped one.
func (v *Verifier) fetchLevels(ctx context.Context, api *LevelsAPI, sub, accessToken string) (Assurance, error) {
	u := strings.ReplaceAll(api.URL, "{sub}", url.PathEscape(sub))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Assurance{}, fmt.Errorf("%w: levels: %v", ErrUnavailable, sanitizeFetchErr(err))
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	res, err := v.client.Do(req)
	if err != nil {
		return Assurance{}, fmt.Errorf("%w: levels: %v", ErrUnavailable, sanitizeFetchErr(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return Assurance{}, fmt.Errorf("%w: levels: http status %d", ErrUnavailable, res.StatusCode)
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil {
		return Assurance{}, fmt.Errorf("%w: levels: %v", ErrUnavailable, errors.New("response is not a json array of objects"))
	}
	var best Assurance
	for _, item := range list {
		name, ok := scalar(item[api.Field])
		if !ok {
			continue
		}
		if a, ok := api.Levels[strings.ToLower(name)]; ok && a.LoA > best.LoA {
			best = a
		}
	}
	return best, nil
}
