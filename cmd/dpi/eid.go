package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/dpiblocks/dpi/identity"
	"github.com/dpiblocks/dpi/internal/limits"
)

func init() {
	register(command{
		name:    "eid",
		summary: "verify national eID (OpenID Connect) tokens",
		subs: []command{
			{name: "verify", summary: "verify an ID token: --issuer URL --audience CLIENT_ID TOKEN", run: runEIDVerify},
			{name: "logout-token", summary: "verify a back-channel logout token: --issuer URL --audience CLIENT_ID TOKEN", run: runEIDLogoutToken},
			{name: "credential", summary: "verify an SD-JWT VC presentation: --issuer URL --type VCT --audience A --nonce N PRESENTATION", run: runEIDCredential},
			{name: "profiles", summary: "list the built-in national IdP profiles", run: runEIDProfiles},
		},
	})
}

// eidVerdict is what "dpi eid verify --json" prints.
type eidVerdict struct {
	Accepted bool               `json:"accepted"`
	Check    string             `json:"check,omitempty"`
	Error    string             `json:"error,omitempty"`
	Identity *identity.Identity `json:"identity,omitempty"`
}

const eidVerifyUsage = "dpi eid verify --issuer URL --audience CLIENT_ID [--trusted-audience A]... [--nonce N] [--min-loa LEVEL] [--profile NAME] [--json] TOKEN|-\n\n" +
	"Fetches the issuer's discovery document and keys, verifies the ID token TOKEN (\"-\" reads it\n" +
	"from standard input) and prints the normalised identity. A token whose aud names anyone but\n" +
	"CLIENT_ID and the trusted audiences is rejected. Exit 0 accepted; 1 rejected, the\n" +
	"failed check on standard error and in the JSON; 2 usage error or unusable input (not a\n" +
	"token); 3 indeterminate: the issuer's discovery document or keys could not be fetched."

func runEIDVerify(e *env, args []string) int {
	fs := e.newFlags("eid verify", eidVerifyUsage)
	issuer := fs.String("issuer", "", "issuer identifier (https, or http on a loopback host)")
	audience := fs.String("audience", "", "this relying party's client_id")
	var trusted listFlag
	fs.Var(&trusted, "trusted-audience", "another audience accepted in the token's aud besides --audience (repeatable)")
	nonce := fs.String("nonce", "", "nonce sent in the authentication request (without it the nonce is not checked)")
	minLoA := fs.String("min-loa", "", "minimum level of assurance: low, substantial or high")
	profileName := fs.String("profile", "", "national IdP profile (see: dpi eid profiles); default plain OpenID Connect")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *issuer == "" || *audience == "" {
		return e.usageError("eid verify: --issuer and --audience are required")
	}
	if len(rest) != 1 {
		return e.usageError("eid verify: give exactly one TOKEN, or - to read it from standard input")
	}
	token := rest[0]
	if token == "-" {
		b, err := e.readInput("-", limits.MaxIDTokenSize)
		if err != nil {
			return e.usageError("eid verify: %v", err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return e.usageError("eid verify: empty token")
	}
	cfg := identity.Config{
		Issuers: []identity.Issuer{{URL: *issuer, ClientID: *audience, TrustedAudiences: trusted}},
		// A token checked on the command line was obtained elsewhere: there is no login
		// whose nonce it must match unless the user gives one.
		InsecureSkipNonce: *nonce == "",
	}
	if *minLoA != "" {
		l, err := identity.ParseLoA(*minLoA)
		if err != nil {
			return e.usageError("eid verify: --min-loa: want low, substantial or high")
		}
		cfg.MinLoA = l
	}
	if *profileName != "" {
		p, err := identity.LookupProfile(*profileName)
		if err != nil {
			return e.usageError("eid verify: unknown profile %q (see: dpi eid profiles)", *profileName)
		}
		cfg.Issuers[0].Profile = p
	}
	v, err := identity.NewVerifier(cfg)
	if err != nil {
		return e.usageError("eid verify: %v", err)
	}
	defer v.Close()

	id, err := v.Verify(e.ctx, token, identity.Expect{Nonce: *nonce})
	verdict := eidVerdict{Accepted: err == nil, Identity: id}
	result := exitOK
	if err != nil {
		verdict.Error = err.Error()
		var re *identity.RejectedError
		switch {
		case errors.As(err, &re):
			verdict.Check = re.Check
		case errors.Is(err, identity.ErrLoA):
			verdict.Check = "loa"
		}
		result = eidExit(err)
		fmt.Fprintf(e.stderr, "dpi: eid verify: %s\n", oneLine(err.Error()))
	}
	if e.json {
		if err := e.printJSON(verdict); err != nil {
			return exitUsage
		}
		return result
	}
	if id == nil {
		fmt.Fprintln(e.stdout, verdictWord(result))
		return result
	}
	fmt.Fprintf(e.stdout, "ACCEPTED\n")
	row := func(k, v string) {
		if v != "" {
			// Claims are the issuer's words: escape control characters so that a name
			// cannot forge or hide a line of the report.
			fmt.Fprintf(e.stdout, "  %-12s %s\n", k+":", printable(v))
		}
	}
	row("issuer", id.Issuer)
	row("subject", id.Subject)
	row("name", id.Name)
	row("given name", id.GivenName)
	row("family name", id.FamilyName)
	row("birth date", id.BirthDate)
	loa := fmt.Sprintf("%s (from %s", id.Assurance.LoA, id.AssuranceSource)
	if id.ACR != "" {
		loa += " " + id.ACR
	}
	row("assurance", loa+")")
	if n := id.NationalID; n != nil {
		state := "validated"
		if !n.Validated {
			state = "not validated: no validator for this country"
		}
		row("national id", fmt.Sprintf("%s %s %s (%s)", n.Country, n.Scheme, n.Formatted(), state))
	}
	row("expires", id.Expiry.UTC().Format("2006-01-02 15:04:05Z"))
	return result
}

// credentialVerdict is what "dpi eid credential --json" prints.
type credentialVerdict struct {
	Accepted   bool                 `json:"accepted"`
	Check      string               `json:"check,omitempty"`
	Error      string               `json:"error,omitempty"`
	Credential *identity.Credential `json:"credential,omitempty"`
}

const eidCredentialUsage = "dpi eid credential --issuer URL --type VCT [--roots PEM] --audience A --nonce N [--json] PRESENTATION|-\n\n" +
	"Exit 0 accepted; 1 rejected, the failed check on standard error and in the JSON; 2 usage\n" +
	"error or unusable input; 3 indeterminate: the issuer's metadata or keys could not be fetched."

func runEIDCredential(e *env, args []string) int {
	fs := e.newFlags("eid credential", eidCredentialUsage)
	issuer := fs.String("issuer", "", "credential issuer identifier (https, or http on a loopback host)")
	vct := fs.String("type", "", "accepted credential type (vct)")
	roots := fs.String("roots", "", "PEM file of trust anchors for x5c-signed credentials (default: the issuer's JWKS)")
	audience := fs.String("audience", "", "this verifier's identifier, expected in the key binding JWT")
	nonce := fs.String("nonce", "", "nonce this verifier sent, expected in the key binding JWT")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *issuer == "" || *vct == "" || *audience == "" || *nonce == "" {
		return e.usageError("eid credential: --issuer, --type, --audience and --nonce are required")
	}
	if len(rest) != 1 {
		return e.usageError("eid credential: give exactly one PRESENTATION, or - to read it from standard input")
	}
	pres := rest[0]
	if pres == "-" {
		b, err := e.readInput("-", limits.MaxSDJWT)
		if err != nil {
			return e.usageError("eid credential: %v", err)
		}
		pres = string(b)
	}
	pres = strings.TrimSpace(pres)
	ci := identity.CredentialIssuer{URL: *issuer, Types: []string{*vct}}
	if *roots != "" {
		pem, err := e.readInput(*roots, limits.MaxCLIInput)
		if err != nil {
			return e.usageError("eid credential: --roots: %v", err)
		}
		ci.Roots = x509.NewCertPool()
		if !ci.Roots.AppendCertsFromPEM(pem) {
			return e.usageError("eid credential: --roots: no PEM certificate found")
		}
	}
	cv, err := identity.NewCredentialVerifier(identity.CredentialConfig{Issuers: []identity.CredentialIssuer{ci}})
	if err != nil {
		return e.usageError("eid credential: %v", err)
	}
	defer cv.Close()
	cred, err := cv.Verify(e.ctx, pres, identity.Presentation{Audience: *audience, Nonce: *nonce})
	verdict := credentialVerdict{Accepted: err == nil, Credential: cred}
	result := exitOK
	if err != nil {
		verdict.Error = err.Error()
		var re *identity.RejectedError
		if errors.As(err, &re) {
			verdict.Check = re.Check
		}
		result = eidExit(err)
		fmt.Fprintf(e.stderr, "dpi: eid credential: %s\n", oneLine(err.Error()))
	}
	if e.json {
		if err := e.printJSON(verdict); err != nil {
			return exitUsage
		}
		return result
	}
	if cred == nil {
		fmt.Fprintln(e.stdout, verdictWord(result))
		return result
	}
	fmt.Fprintf(e.stdout, "ACCEPTED\n  %-12s %s\n  %-12s %s\n  %-12s %s\n  %-12s %v\n  claims:\n",
		"issuer:", printable(cred.Issuer), "type:", printable(cred.Type), "disclosed:", printable(strings.Join(cred.Disclosed, ", ")),
		"key bound:", cred.KeyBound)
	printClaims(e.stdout, cred.Claims)
	return result
}

// printClaims writes one claim a line, sorted by name: a string as itself, anything else
// (numbers, booleans, objects, arrays) as compact JSON, escaped as printable does.
func printClaims(w io.Writer, raw json.RawMessage) {
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		fmt.Fprintf(w, "    %s\n", printable(shorten(string(raw))))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(claims)) {
		v, ok := claims[k].(string)
		if !ok {
			b, err := json.Marshal(claims[k])
			if err != nil {
				b = []byte("(not printable)")
			}
			v = string(b)
		}
		fmt.Fprintf(w, "    %-20s %s\n", printable(k)+":", printable(v))
	}
}

func runEIDProfiles(e *env, args []string) int {
	fs := e.newFlags("eid profiles", "dpi eid profiles [--json]")
	if rest, code, ok := e.parse(fs, args); !ok {
		return code
	} else if len(rest) > 0 {
		return e.usageError("eid profiles takes no arguments")
	}
	type row struct {
		Name       string `json:"name"`
		Country    string `json:"country,omitempty"`
		Issuer     string `json:"issuer,omitempty"`
		ClientAuth string `json:"client_auth,omitempty"`
		Source     string `json:"source"`
	}
	var rows []row
	for _, n := range identity.Profiles() {
		p, _ := identity.LookupProfile(n)
		rows = append(rows, row{p.Name, p.Country, p.Issuer, string(p.ClientAuth), p.Source})
	}
	if e.json {
		if err := e.printJSON(rows); err != nil {
			return exitUsage
		}
		return exitOK
	}
	for _, r := range rows {
		fmt.Fprintf(e.stdout, "%-12s %-3s %-45s %s\n", r.Name, r.Country, r.Issuer, r.ClientAuth)
	}
	return exitOK
}

// verdictWord is the first line of the human report of a token that was not accepted: it
// says the same as the exit code, so that an unusable input or an unreachable issuer is
// not reported as a rejection.
func verdictWord(code int) string {
	switch code {
	case exitUsage:
		return "UNUSABLE INPUT"
	case exitIndeterminate:
		return "INDETERMINATE"
	default:
		return "REJECTED"
	}
}

// eidExit is the exit code of an eid subcommand whose token was not accepted: 2 for what
// is not a token at all (unusable input), 3 when the IdP could not be asked (nothing was
// judged), 1 for a token checked and rejected.
func eidExit(err error) int {
	switch {
	case errors.Is(err, identity.ErrMalformed):
		return exitUsage
	case errors.Is(err, identity.ErrUnavailable):
		return exitIndeterminate
	}
	return exitRejected
}
