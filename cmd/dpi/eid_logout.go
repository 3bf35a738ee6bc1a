package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dpiblocks/dpi/identity"
	"github.com/dpiblocks/dpi/internal/limits"
)

// logoutVerdict is what "dpi eid logout-token --json" prints.
type logoutVerdict struct {
	Valid  bool             `json:"valid"`
	Check  string           `json:"check,omitempty"`
	Error  string           `json:"error,omitempty"`
	Logout *identity.Logout `json:"logout,omitempty"`
}

const eidLogoutUsage = "dpi eid logout-token --issuer URL --audience CLIENT_ID [--trusted-audience A]... [--json] TOKEN|-\n\n" +
	"Fetches the issuer's discovery document and keys and verifies the back-channel logout token\n" +
	"TOKEN (OpenID Connect Back-Channel Logout 1.0 §2.6; \"-\" reads it from standard input): its\n" +
	"signature, iss, aud, iat, exp, events, sub or sid, no nonce, typ logout+jwt when present.\n" +
	"jti replay is not checked: a single run has nothing to compare with. Exit 0 valid; 1\n" +
	"rejected, the failed check on standard error and in the JSON; 2 usage error or unusable\n" +
	"input (not a token); 3 indeterminate: the issuer's discovery document or keys could not be\n" +
	"fetched."

func runEIDLogoutToken(e *env, args []string) int {
	fs := e.newFlags("eid logout-token", eidLogoutUsage)
	issuer := fs.String("issuer", "", "issuer identifier (https, or http on a loopback host)")
	audience := fs.String("audience", "", "this relying party's client_id")
	var trusted listFlag
	fs.Var(&trusted, "trusted-audience", "another audience accepted in the token's aud besides --audience (repeatable)")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *issuer == "" || *audience == "" {
		return e.usageError("eid logout-token: --issuer and --audience are required")
	}
	if len(rest) != 1 {
		return e.usageError("eid logout-token: give exactly one TOKEN, or - to read it from standard input")
	}
	token := rest[0]
	if token == "-" {
		b, err := e.readInput("-", limits.MaxIDTokenSize)
		if err != nil {
			return e.usageError("eid logout-token: %v", err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return e.usageError("eid logout-token: empty token")
	}
	v, err := identity.NewVerifier(identity.Config{
		Issuers: []identity.Issuer{{URL: *issuer, ClientID: *audience, TrustedAudiences: trusted}},
	})
	if err != nil {
		return e.usageError("eid logout-token: %v", err)
	}
	defer v.Close()

	l, err := v.VerifyLogoutToken(e.ctx, token)
	verdict := logoutVerdict{Valid: err == nil, Logout: l}
	result := exitOK
	if err != nil {
		verdict.Error = err.Error()
		if re, ok := errors.AsType[*identity.RejectedError](err); ok {
			verdict.Check = re.Check
		}
		result = eidExit(err)
		fmt.Fprintf(e.stderr, "dpi: eid logout-token: %s\n", oneLine(err.Error()))
	}
	if e.json {
		if err := e.printJSON(verdict); err != nil {
			return exitUsage
		}
		return result
	}
	if l == nil {
		fmt.Fprintln(e.stdout, verdictWord(result))
		return result
	}
	fmt.Fprintln(e.stdout, "VALID")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(e.stdout, "  %-12s %s\n", k+":", printable(v))
		}
	}
	row("issuer", l.Issuer)
	row("subject", l.Subject)
	row("session id", l.SessionID)
	row("token id", l.TokenID)
	row("issued", l.IssuedAt.UTC().Format("2006-01-02 15:04:05Z"))
	row("expires", l.Expiry.UTC().Format("2006-01-02 15:04:05Z"))
	return result
}
