package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/limits"
)

func init() {
	register(command{
		name:    "testbed",
		summary: "run a test PKI, TSA and national IdP on loopback: --dir DIR (also: env, token, revoke)",
		run:     runTestbed,
	})
}

const testbedUsage = "dpi testbed --dir DIR [--listen 127.0.0.1:0]\n" +
	"       dpi testbed env --dir DIR\n" +
	"       dpi testbed token --dir DIR --aud A [--nonce N] [--loa low|substantial|high] [--profile NAME]\n" +
	"       dpi testbed revoke --dir DIR NAME\n\n" +
	"Runs dpitest's peers on loopback until interrupted: a root and an intermediate CA with an\n" +
	"OCSP responder, CRLs and an RFC 3161 time-stamp authority, and a test national IdP (RS256)\n" +
	"that mints ID tokens for a test person at GET {issuer}/testbed/token?aud=A&nonce=N\n" +
	"[&loa=substantial][&profile=gov.br] (JSON, the token in id_token). Once every service\n" +
	"answers it writes into DIR root.pem, chain.pem (the intermediate), signer.key, signer.pem,\n" +
	"agency-b.key, agency-b.pem, testbed.json (every URL) and testbed.env (the URLs as export\n" +
	"lines, DPI_TESTBED_TSA=...), prints one line per service and \"ready\"; it removes\n" +
	"testbed.json and testbed.env when it stops. Port 0 picks free ports; a port P serves the\n" +
	"PKI on P, the IdP on P+1 and the admin endpoint on P+2. Nothing here is for production:\n" +
	"the IdP gives a token to anyone who asks.\n\n" +
	"env prints testbed.env, waiting up to 10 s for the testbed to be ready: eval \"$(dpi testbed\n" +
	"env --dir DIR)\". token prints a fresh ID token (the curl-free form of the GET above).\n" +
	"revoke revokes a certificate of the running testbed (signer or agency-b): its OCSP\n" +
	"responder and CRL say so from then on.\n\n" +
	"Exit 0 done (the testbed: stopped by SIGINT or SIGTERM); 2 usage error, or no running\n" +
	"testbed in DIR; 3 the testbed did not answer."

func runTestbed(e *env, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "env":
			return runTestbedEnv(e, args[1:])
		case "token":
			return runTestbedToken(e, args[1:])
		case "revoke":
			return runTestbedRevoke(e, args[1:])
		}
	}
	start := time.Now()
	fs := e.newFlags("testbed", testbedUsage)
	dir := fs.String("dir", "", "directory for the keys, certificates and testbed.json (required)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address; port 0 picks free ports")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *dir == "" {
		return e.usageError("testbed: --dir is required")
	}
	if len(rest) > 0 {
		return e.usageError("testbed: unknown subcommand %q (env, token or revoke)", truncateInput(rest[0]))
	}
	tb, err := dpitest.StartTestbed(dpitest.TestbedOptions{Dir: *dir, Listen: *listen})
	if err != nil {
		return e.usageError("testbed: %s", oneLine(err.Error()))
	}
	defer tb.Close()
	i := tb.Info
	if e.json {
		_ = e.printJSON(i)
	} else {
		fmt.Fprintf(e.stdout, "idp    %s (tokens: %s?aud=A&nonce=N)\n", i.Issuer, i.Token)
		fmt.Fprintf(e.stdout, "tsa    %s\n", i.TSA)
		fmt.Fprintf(e.stdout, "ocsp   %s\n", i.OCSP)
		fmt.Fprintf(e.stdout, "crl    %s (root: %s)\n", i.CRL, i.RootCRL)
		fmt.Fprintf(e.stdout, "files  %s: root.pem chain.pem signer.key signer.pem agency-b.key agency-b.pem testbed.json testbed.env\n", *dir)
		fmt.Fprintf(e.stdout, "ready in %s; stop with Ctrl-C\n", time.Since(start).Round(time.Millisecond))
	}
	<-e.ctx.Done()
	return exitOK
}

// testbedInfo reads DIR's testbed.json, or explains that no testbed runs there.
func testbedInfo(e *env, cmd, dir string) (dpitest.TestbedInfo, bool) {
	if dir == "" {
		e.usageError("testbed %s: --dir is required", cmd)
		return dpitest.TestbedInfo{}, false
	}
	i, err := dpitest.ReadTestbedInfo(dir)
	if errors.Is(err, os.ErrNotExist) {
		e.usageError("testbed %s: no running testbed in %s (start one: dpi testbed --dir %s)", cmd, dir, dir)
		return i, false
	} else if err != nil {
		e.usageError("testbed %s: %s", cmd, oneLine(err.Error()))
		return i, false
	}
	return i, true
}

func runTestbedEnv(e *env, args []string) int {
	fs := e.newFlags("testbed env", testbedUsage)
	dir := fs.String("dir", "", "the running testbed's directory")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the testbed to be ready")
	if _, code, ok := e.parse(fs, args); !ok {
		return code
	}
	deadline := time.Now().Add(*wait)
	// The testbed writes testbed.env last, atomically, once every peer answers: polling for
	// it is how a shell that just started "dpi testbed &" waits for it.
	for *dir != "" {
		b, err := os.ReadFile(*dir + string(os.PathSeparator) + dpitest.TestbedEnvFile)
		if err == nil {
			_, _ = e.stdout.Write(b)
			return exitOK
		}
		if !errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			break
		}
		select {
		case <-e.ctx.Done():
			return exitUsage
		case <-time.After(50 * time.Millisecond):
		}
	}
	_, ok := testbedInfo(e, "env", *dir)
	if ok {
		return e.usageError("testbed env: %s missing in %s", dpitest.TestbedEnvFile, *dir)
	}
	return exitUsage
}

func runTestbedToken(e *env, args []string) int {
	fs := e.newFlags("testbed token", testbedUsage)
	dir := fs.String("dir", "", "the running testbed's directory")
	aud := fs.String("aud", "", "the token's audience: your client_id (required)")
	nonce := fs.String("nonce", "", "the nonce to put in the token")
	loa := fs.String("loa", "", "level of assurance: low, substantial (default) or high")
	profile := fs.String("profile", "", "shape the token as this IdP does: "+strings.Join(dpitest.TestbedProfiles(), ", "))
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if *aud == "" || len(rest) > 0 {
		return e.usageError("testbed token: --aud is required, and no arguments")
	}
	i, ok := testbedInfo(e, "token", *dir)
	if !ok {
		return exitUsage
	}
	q := url.Values{"aud": {*aud}}
	for k, v := range map[string]string{"nonce": *nonce, "loa": *loa, "profile": *profile} {
		if v != "" {
			q.Set(k, v)
		}
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, i.Token+"?"+q.Encode(), nil)
	if err != nil {
		return e.usageError("testbed token: %s", oneLine(err.Error()))
	}
	body, status, err := testbedCall(req)
	if err != nil {
		fmt.Fprintf(e.stderr, "dpi: testbed token: %s\n", oneLine(err.Error()))
		return exitIndeterminate
	}
	var resp struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || status != http.StatusOK || resp.IDToken == "" {
		return e.usageError("testbed token: the IdP refused: %s", printable(oneLine(resp.Error)))
	}
	if e.json {
		_, _ = e.stdout.Write(body)
		return exitOK
	}
	fmt.Fprintln(e.stdout, resp.IDToken)
	return exitOK
}

func runTestbedRevoke(e *env, args []string) int {
	fs := e.newFlags("testbed revoke", testbedUsage)
	dir := fs.String("dir", "", "the running testbed's directory")
	rest, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		return e.usageError("testbed revoke: name one certificate: signer or agency-b")
	}
	i, ok := testbedInfo(e, "revoke", *dir)
	if !ok {
		return exitUsage
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, i.Admin+"/revoke?"+url.Values{"name": {rest[0]}}.Encode(), nil)
	if err != nil {
		return e.usageError("testbed revoke: %s", oneLine(err.Error()))
	}
	body, status, err := testbedCall(req)
	if err != nil {
		fmt.Fprintf(e.stderr, "dpi: testbed revoke: %s\n", oneLine(err.Error()))
		return exitIndeterminate
	}
	if status != http.StatusOK {
		return e.usageError("testbed revoke: %s", printable(oneLine(string(body))))
	}
	if e.json {
		_ = e.printJSON(map[string]any{"revoked": rest[0]})
		return exitOK
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", rest[0])
	return exitOK
}

// testbedCall does one request to the testbed, within limits.MaxCLIInput.
func testbedCall(req *http.Request) ([]byte, int, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limits.MaxCLIInput))
	return b, resp.StatusCode, err
}
