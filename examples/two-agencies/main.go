// Command two-agencies runs two agencies in two processes that exchange data over the X-Road
// message protocol for REST, with signed envelopes and no security server between them.
//
// It issues each agency a signing certificate from a test PKI, writes agency B's key and
// the trust material to a temporary directory, and starts agency B, the population
// register, as a child process ("two-agencies serve DIR") listening on loopback. Agency A,
// the benefits agency, then asks B for a person's record: its transport signs the request,
// B's handler verifies it before B's service runs and signs the answer, bound to the request,
// and A prints the answer once it has verified it.
//
//	go run ./examples/two-agencies
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/interop"
	"github.com/dpiblocks/dpi/signature"
)

var (
	agencyA  = interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000001", Subsystem: "benefits"}
	agencyB  = interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "registry"}
	register = interop.ServiceID{Provider: agencyB, Code: "person"}
)

// The files agency A hands agency B: B's key and chain, A's certificate for B's directory,
// the root both trust and the CRLs of the PKI.
const (
	fileKeyB   = "agency-b.key"
	fileChainB = "agency-b.pem"
	fileCertA  = "agency-a.pem"
	fileRoots  = "roots.pem"
	fileCRL    = "intermediate.crl"
	fileRoot   = "root.crl"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "serve" {
		if err := serve(os.Args[2], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "agency B:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: two-agencies")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "agency A:", err)
		os.Exit(1)
	}
}

// run is agency A: it sets up the PKI, starts agency B and asks it.
func run(ctx context.Context, out io.Writer) error {
	dir, err := os.MkdirTemp("", "dpi-two-agencies-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		return err
	}
	defer pki.Close()
	credA, err := pki.Issue(dpitest.CertOptions{CommonName: "Benefits Agency"})
	if err != nil {
		return err
	}
	credB, err := pki.Issue(dpitest.CertOptions{CommonName: "Population Register", KeyType: dpitest.Ed25519})
	if err != nil {
		return err
	}
	keyB, err := dpitest.KeyPEM(credB.Key)
	if err != nil {
		return err
	}
	crl, err := pki.CRL()
	if err != nil {
		return err
	}
	rootCRL, err := pki.RootCRL()
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		fileKeyB: keyB, fileChainB: dpitest.CertsPEM(credB.Chain...), fileCertA: dpitest.CertsPEM(credA.Cert),
		fileRoots: pki.RootsPEM(), fileCRL: crl, fileRoot: rootCRL,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}

	// Agency B, in its own process: it prints the URL it listens on, and stops when its
	// standard input closes.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "serve", dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("agency B did not start: %w", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		return fmt.Errorf("agency B said %q", line)
	}
	fmt.Fprintf(out, "agency B (%s) runs in process %d at %s\n", agencyB, cmd.Process.Pid, url)

	// Agency A: its own key, the same trust, and a directory listing B.
	signA, err := interop.NewSigner(credA.Key, credA.Chain)
	if err != nil {
		return err
	}
	verifier, err := newVerifier(dir, interop.Member{ID: agencyB, Certificates: credB.Chain[:1]})
	if err != nil {
		return err
	}
	t, err := interop.NewTransport(interop.TransportConfig{Client: agencyA, Service: register, Signer: signA, Verifier: verifier})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/persons/38001085718", nil)
	if err != nil {
		return err
	}
	req.Header.Set(interop.HeaderUserID, "EE38001085718")
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if fault, err := interop.ReadFault(resp); err != nil || fault != nil {
		return fmt.Errorf("agency B refused: %v %v", fault, err)
	}
	body, err := io.ReadAll(resp.Body) // the answer is trusted once read to its end without error
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "agency A (%s) asked for person 38001085718, message %s\n", agencyA, resp.Request.Header.Get(interop.HeaderID))
	fmt.Fprintf(out, "verified answer, %d from %s, signed by agency B and bound to the request: %s\n",
		resp.StatusCode, resp.Header.Get(interop.HeaderService), bytes.TrimSpace(body))
	return nil
}

// serve is agency B: it reads its key and trust from dir, serves the register on loopback,
// prints "listening URL", and returns when stdin closes.
func serve(dir string, stdin io.Reader, stdout io.Writer) error {
	key, err := signature.LoadPrivateKey(readFile(dir, fileKeyB), nil)
	if err != nil {
		return err
	}
	chain, err := signature.LoadCertificates(readFile(dir, fileChainB))
	if err != nil {
		return err
	}
	certA, err := signature.LoadCertificates(readFile(dir, fileCertA))
	if err != nil {
		return err
	}
	signB, err := interop.NewSigner(key, chain)
	if err != nil {
		return err
	}
	verifier, err := newVerifier(dir, interop.Member{ID: agencyA.MemberID(), Certificates: certA})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/persons/{id}", func(w http.ResponseWriter, r *http.Request) {
		// The handler verified the request before this runs: msg says who asks.
		msg, _ := interop.MessageFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"name":"Ana Souza","born":"1980-01-08","askedBy":%q}`+"\n", r.PathValue("id"), msg.Client)
	})
	h, err := interop.NewHandler(interop.HandlerConfig{Provider: agencyB, Signer: signB, Verifier: verifier}, mux)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newVerifier trusts the PKI's root, the members listed and the PKI's CRLs.
func newVerifier(dir string, members ...interop.Member) (*interop.Verifier, error) {
	roots, err := signature.LoadCertificates(readFile(dir, fileRoots))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	directory, err := interop.NewStaticDirectory(members...)
	if err != nil {
		return nil, err
	}
	crls, err := signature.LoadCRLs(append(readFile(dir, fileCRL), readFile(dir, fileRoot)...))
	if err != nil {
		return nil, err
	}
	return interop.NewVerifier(interop.VerifierConfig{Roots: pool, Directory: directory, Revocation: crlChecker(crls)})
}

// readFile returns a file of dir, or nothing, which the loader then refuses.
func readFile(dir, name string) []byte {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return b
}

// crlChecker answers the verifier's revocation question from CRLs held: a certificate is
// good when its issuer's CRL, current and signed by that issuer, does not list it.
func crlChecker(lists []*x509.RevocationList) interop.RevocationChecker {
	return interop.RevocationCheckerFunc(func(_ context.Context, chain []*x509.Certificate) (interop.RevocationStatus, error) {
		for i := 0; i+1 < len(chain); i++ {
			cert, issuer := chain[i], chain[i+1]
			var crl *x509.RevocationList
			for _, l := range lists {
				if bytes.Equal(l.RawIssuer, issuer.RawSubject) && l.CheckSignatureFrom(issuer) == nil && time.Now().Before(l.NextUpdate) {
					crl = l
				}
			}
			if crl == nil {
				return interop.RevocationUnknown, fmt.Errorf("no current CRL from %s", issuer.Subject.CommonName)
			}
			for _, r := range crl.RevokedCertificateEntries {
				if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return interop.RevocationRevoked, nil
				}
			}
		}
		return interop.RevocationGood, nil
	})
}
