package dpitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TestbedOptions configures [StartTestbed].
type TestbedOptions struct {
	// Dir is the directory the testbed writes its files into (created if needed).
	Dir string
	// Listen is the loopback address to serve on, host:port. Port 0 (the default
	// "127.0.0.1:0") picks free ports; a port P serves the PKI on P, the IdP on P+1 and the
	// admin endpoint on P+2.
	Listen string
}

// TestbedInfo is the testbed's testbed.json: every URL a client needs.
type TestbedInfo struct {
	// Issuer is the test national IdP's issuer identifier (and base URL); Token its
	// GET /testbed/token endpoint; JWKS its key set.
	Issuer string `json:"issuer"`
	Token  string `json:"token"`
	JWKS   string `json:"jwks"`
	// TSA, OCSP and CRL are the PKI's time-stamp authority, OCSP responder and the
	// intermediate's CRL; RootCRL the root's.
	TSA     string `json:"tsa"`
	OCSP    string `json:"ocsp"`
	CRL     string `json:"crl"`
	RootCRL string `json:"rootCrl"`
	// Admin is the loopback endpoint, with a secret path, that revokes the testbed's
	// certificates: POST {admin}/revoke?name=signer.
	Admin string `json:"admin"`
	// Credentials lists the names of the key and certificate pairs written (NAME.key,
	// NAME.pem), which Admin can revoke.
	Credentials []string `json:"credentials"`
}

// The files a testbed writes into its directory.
const (
	TestbedInfoFile = "testbed.json"
	TestbedEnvFile  = "testbed.env"
)

// Testbed is the dpitest peers running together on loopback, for a developer to try dpi
// without writing Go (dpi testbed): a [PKI] with a signer's and a second agency's
// credentials, and an [IdP] that signs RS256 (accepted by every built-in identity profile)
// and mints tokens at GET /testbed/token.
type Testbed struct {
	PKI  *PKI
	IdP  *IdP
	Info TestbedInfo
	// Credentials are the issued keys and certificates by name ("signer", "agency-b").
	Credentials map[string]*Credential

	dir   string
	admin *http.Server
	done  chan struct{}
}

// StartTestbed starts the peers, writes into o.Dir root.pem, chain.pem (the intermediate),
// signer.key and signer.pem, agency-b.key and agency-b.pem, testbed.json ([TestbedInfo]) and
// testbed.env (the same URLs as shell export lines, DPI_TESTBED_ISSUER=...), and returns once
// every peer answers. testbed.json and testbed.env are written last, each atomically, so
// that their presence means the testbed is ready.
func StartTestbed(o TestbedOptions) (_ *Testbed, err error) {
	if o.Dir == "" {
		return nil, fmt.Errorf("%w: the testbed needs a directory", ErrInvalidOptions)
	}
	listen := o.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("%w: listen address: %v", ErrInvalidOptions, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65533 {
		return nil, fmt.Errorf("%w: listen port %q", ErrInvalidOptions, portText)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: the testbed listens on loopback only, not %q", ErrInvalidOptions, host)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	for _, f := range []string{TestbedInfoFile, TestbedEnvFile} {
		if err := os.Remove(filepath.Join(o.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	var listeners []net.Listener
	for i := range 3 {
		p := 0
		if port != 0 {
			p = port + i
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return nil, err
		}
		listeners = append(listeners, l)
	}
	t := &Testbed{dir: o.Dir, Credentials: map[string]*Credential{}, done: make(chan struct{})}
	defer func() {
		if err != nil {
			t.Close()
			for _, l := range listeners {
				l.Close() // those a peer took are closed already; closing again is harmless
			}
		}
	}()
	if t.PKI, err = StartPKI(PKIOptions{Listener: listeners[0]}); err != nil {
		return nil, err
	}
	if t.IdP, err = StartIdP(IdPOptions{Algorithm: "RS256", TestbedTokens: true, Listener: listeners[1]}); err != nil {
		return nil, err
	}
	for _, name := range []string{"signer", "agency-b"} {
		c, err := t.PKI.Issue(CertOptions{CommonName: "dpitest " + name, Usage: UsageSigning})
		if err != nil {
			return nil, err
		}
		t.Credentials[name] = c
	}
	mux := http.NewServeMux()
	secret := "/" + randomToken()
	mux.HandleFunc("POST "+secret+"/revoke", func(w http.ResponseWriter, r *http.Request) {
		if err := t.Revoke(r.URL.Query().Get("name")); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("revoked\n"))
	})
	t.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	adminURL := "http://" + listeners[2].Addr().String() + secret
	go func() {
		defer close(t.done)
		_ = t.admin.Serve(listeners[2])
	}()
	issuer := t.IdP.Issuer()
	t.Info = TestbedInfo{
		Issuer: issuer, Token: issuer + "/testbed/token", JWKS: issuer + "/jwks",
		TSA: t.PKI.TSAURL, OCSP: t.PKI.OCSPURL, CRL: t.PKI.CRLURL, RootCRL: t.PKI.rootCRLURL,
		Admin: adminURL, Credentials: []string{"signer", "agency-b"},
	}
	if err := t.writeFiles(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Testbed) writeFiles() error {
	files := map[string][]byte{
		"root.pem":  t.PKI.RootsPEM(),
		"chain.pem": CertsPEM(t.PKI.Intermediate),
	}
	for name, c := range t.Credentials {
		k, err := KeyPEM(c.Key)
		if err != nil {
			return err
		}
		files[name+".key"] = k
		files[name+".pem"] = CertsPEM(c.Cert)
	}
	for name, b := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".key") {
			mode = 0o600
		}
		if err := writeAtomic(filepath.Join(t.dir, name), b, mode); err != nil {
			return err
		}
	}
	info, err := json.MarshalIndent(t.Info, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(t.dir, TestbedInfoFile), append(info, '\n'), 0o600); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(t.dir, TestbedEnvFile), []byte(t.Info.Env()), 0o600)
}

// Env returns the URLs as POSIX shell export lines, DPI_TESTBED_ISSUER=... (the admin URL
// is left out: dpi testbed revoke reads it from testbed.json).
func (i TestbedInfo) Env() string {
	vars := map[string]string{
		"ISSUER": i.Issuer, "TOKEN": i.Token, "JWKS": i.JWKS, "TSA": i.TSA, "OCSP": i.OCSP, "CRL": i.CRL, "ROOT_CRL": i.RootCRL,
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "export DPI_TESTBED_%s='%s'\n", k, vars[k])
	}
	return b.String()
}

func writeAtomic(name string, b []byte, mode os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// ReadTestbedInfo reads dir's testbed.json, written by a running testbed.
func ReadTestbedInfo(dir string) (TestbedInfo, error) {
	var i TestbedInfo
	b, err := os.ReadFile(filepath.Join(dir, TestbedInfoFile))
	if err != nil {
		return i, err
	}
	if err := json.Unmarshal(b, &i); err != nil {
		return i, fmt.Errorf("%s: %w", TestbedInfoFile, err)
	}
	return i, nil
}

// Dir returns the directory the testbed writes into.
func (t *Testbed) Dir() string { return t.dir }

// Revoke revokes the named credential ("signer", "agency-b") as of now: the OCSP responder
// and the CRL say so from then on.
func (t *Testbed) Revoke(name string) error {
	c, ok := t.Credentials[name]
	if !ok {
		return fmt.Errorf("%w: no credential %q (known: %s)", ErrUnknownCertificate, name, strings.Join(t.Info.Credentials, ", "))
	}
	return t.PKI.Revoke(c.Cert, t.PKI.now())
}

// Close stops every peer and removes testbed.json and testbed.env, so that nobody reads
// the URLs of a testbed that is gone. The keys and certificates stay.
func (t *Testbed) Close() {
	if t.admin != nil {
		_ = t.admin.Close()
		<-t.done
	}
	if t.IdP != nil {
		t.IdP.Close()
	}
	if t.PKI != nil {
		t.PKI.Close()
	}
	for _, f := range []string{TestbedInfoFile, TestbedEnvFile} {
		_ = os.Remove(filepath.Join(t.dir, f))
	}
}
