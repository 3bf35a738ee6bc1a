package dpitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// KeyType names the kind of key a certificate is issued for.
type KeyType int

const (
	// ECDSAP256 is ECDSA on NIST P-256 (signatures with SHA-256). The default.
	ECDSAP256 KeyType = iota
	// ECDSAP384 is ECDSA on NIST P-384 (signatures with SHA-384).
	ECDSAP384
	// RSA2048 is a 2048-bit RSA key.
	RSA2048
	// RSA3072 is a 3072-bit RSA key.
	RSA3072
	// Ed25519 is an Ed25519 key (RFC 8032). OCSP responses for an Ed25519 CA are signed by a
	// delegated responder, because golang.org/x/crypto/ocsp cannot sign with Ed25519.
	Ed25519
	// RSA1024 is a 1024-bit RSA key: too weak for any real use, it exists so that tests can
	// check that a verifier rejects it. It is refused as a CA key.
	RSA1024
)

// String returns the key type's name, for test names and messages.
func (k KeyType) String() string {
	switch k {
	case ECDSAP256:
		return "ECDSA-P256"
	case ECDSAP384:
		return "ECDSA-P384"
	case RSA2048:
		return "RSA-2048"
	case RSA3072:
		return "RSA-3072"
	case Ed25519:
		return "Ed25519"
	case RSA1024:
		return "RSA-1024"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// GenerateKey returns a fresh private key of type k.
func (k KeyType) GenerateKey() (crypto.Signer, error) {
	switch k {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case RSA1024:
		return rsa.GenerateKey(rand.Reader, 1024)
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupportedKeyType, k)
}

// Usage says what an issued certificate is for, which sets its key usage and extended key
// usage extensions.
type Usage int

const (
	// UsageSigning is a document signer's certificate: key usage digitalSignature and
	// nonRepudiation (contentCommitment), no extended key usage (so that `openssl cms
	// -verify`, whose default purpose check refuses a foreign EKU, accepts it).
	UsageSigning Usage = iota
	// UsageTLS is a TLS server certificate: key usage digitalSignature (and keyEncipherment
	// for RSA), extended key usage serverAuth, DNS names from [CertOptions.DNSNames]
	// ("localhost" when empty) and the IP addresses 127.0.0.1 and ::1.
	UsageTLS
	// UsageTimeStamping is a time-stamping unit's certificate (RFC 3161 §2.3): key usage
	// digitalSignature and nonRepudiation, and a critical extended key usage holding only
	// id-kp-timeStamping.
	UsageTimeStamping
)

// Errors returned by the test PKI.
var (
	// ErrUnsupportedKeyType is returned for a key type the PKI cannot use where it was asked to.
	ErrUnsupportedKeyType = errors.New("dpitest: unsupported key type")
	// ErrUnknownCertificate is returned by [PKI.Revoke] for a certificate this PKI did not issue.
	ErrUnknownCertificate = errors.New("dpitest: certificate not issued by this pki")
	// ErrInvalidOptions is returned for options that contradict each other.
	ErrInvalidOptions = errors.New("dpitest: invalid options")
)

// PKIOptions configures [StartPKI]. The zero value starts an ECDSA P-256 PKI on the real clock.
type PKIOptions struct {
	// Now is the clock for certificate validity, OCSP thisUpdate, CRL thisUpdate and the
	// TSA's genTime. nil means time.Now.
	Now func() time.Time
	// KeyType is the key type of the root and intermediate CAs. The zero value is ECDSAP256.
	// RSA1024 is refused.
	KeyType KeyType
	// DelegatedOCSP makes each CA sign OCSP responses through a delegated responder
	// certificate (RFC 6960 §4.2.2.2: extended key usage id-kp-OCSPSigning, id-pkix-ocsp-nocheck)
	// instead of with its own key. It is always on for Ed25519 CAs.
	DelegatedOCSP bool
	// CAValidity is how long the intermediate CA is valid from the later of the PKI clock
	// and the wall clock at StartPKI (the root twice as long). Zero means 10 years (the
	// root 20). Long-term validation tests that travel decades ahead set it longer.
	CAValidity time.Duration
	// TSAValidity is how long the time-stamp authority's certificate is valid from the
	// later of the PKI clock and the wall clock at StartPKI. Zero means 5 years. Tests of
	// archive time-stamps set it short, to see a time-stamp outlive its authority.
	TSAValidity time.Duration
	// Listener, when set, is where the PKI serves (dpi testbed's fixed --listen port);
	// nil means a fresh listener on a free loopback port. The PKI closes it.
	Listener net.Listener
}

// PKI is a running test public key infrastructure: a root CA, an intermediate CA that issues
// end-entity certificates, an OCSP responder (RFC 6960), CRL distribution points (RFC 5280
// §5) and a time-stamp authority (RFC 3161), all served over HTTP on a loopback address.
//
// A PKI is safe for concurrent use. Close it when done.
type PKI struct {
	// Root is the self-signed root CA certificate: the trust anchor.
	Root *x509.Certificate
	// Intermediate is the CA certificate, issued by Root, that issues end-entity certificates.
	Intermediate *x509.Certificate
	// OCSPURL is the OCSP responder's URL, put in the authority information access extension
	// of every certificate the PKI issues (the intermediate's included). It answers for both CAs.
	OCSPURL string
	// CRLURL is the URL of the intermediate's CRL, put in the CRL distribution points
	// extension of every end-entity certificate. (The intermediate's own certificate points to
	// the root's CRL at a sibling URL.)
	CRLURL string
	// TSAURL is the RFC 3161 time-stamp authority's URL (HTTP POST of
	// application/timestamp-query).
	TSAURL string

	now        func() time.Time
	srv        *httptest.Server
	root       *authority
	inter      *authority
	tsa        *Credential
	tsasMu     sync.Mutex
	tsas       map[string]*Credential // AddTSA's authorities, by name
	rootCRLURL string
	ocspUp     atomic.Bool
	crlUp      atomic.Bool
	tsaUp      atomic.Bool
}

// authority is one CA with its revocation state.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
	// responderCert and responderKey sign OCSP responses: the CA itself, or a delegated
	// responder.
	responderCert *x509.Certificate
	responderKey  crypto.Signer

	mu        sync.Mutex
	issued    map[string]bool // serial (decimal) of every certificate this CA issued
	revoked   map[string]x509.RevocationListEntry
	crlNumber int64
}

func newAuthority(cert *x509.Certificate, key crypto.Signer) *authority {
	return &authority{
		cert: cert, key: key, responderCert: cert, responderKey: key,
		issued: map[string]bool{}, revoked: map[string]x509.RevocationListEntry{},
	}
}

// StartPKI creates a root and an intermediate CA and starts the OCSP responder, the CRL
// endpoints and the time-stamp authority on a loopback address.
func StartPKI(opts PKIOptions) (*PKI, error) {
	if opts.KeyType == RSA1024 {
		return nil, fmt.Errorf("%w: %v as a ca key", ErrUnsupportedKeyType, opts.KeyType)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	p := &PKI{now: now}
	p.ocspUp.Store(true)
	p.crlUp.Store(true)
	p.tsaUp.Store(true)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /ocsp", p.serveOCSP)
	mux.HandleFunc("GET /ocsp/", p.serveOCSP)
	mux.HandleFunc("GET /crl/intermediate.crl", func(w http.ResponseWriter, r *http.Request) { p.serveCRL(w, p.inter) })
	mux.HandleFunc("GET /crl/root.crl", func(w http.ResponseWriter, r *http.Request) { p.serveCRL(w, p.root) })
	mux.HandleFunc("POST /tsa", p.serveTSA)
	mux.HandleFunc("POST /tsa/{name}", p.serveTSA)
	// The listener exists before the CAs because their certificates carry its URLs; the
	// server starts serving only once they are made.
	p.srv = httptest.NewUnstartedServer(mux)
	if opts.Listener != nil {
		p.srv.Listener.Close()
		p.srv.Listener = opts.Listener
	}
	base := "http://" + p.srv.Listener.Addr().String()
	p.OCSPURL = base + "/ocsp"
	p.CRLURL = base + "/crl/intermediate.crl"
	p.rootCRLURL = base + "/crl/root.crl"
	p.TSAURL = base + "/tsa"

	if err := p.init(opts); err != nil {
		p.srv.Close()
		return nil, err
	}
	p.srv.Start()
	return p, nil
}

// spanWithWallClock returns the earlier and the later of t and the wall clock's now.
func spanWithWallClock(t time.Time) (lo, hi time.Time) {
	wall := time.Now()
	if wall.Before(t) {
		return wall, t
	}
	return t, wall
}

func (p *PKI) init(opts PKIOptions) error {
	t0 := p.now()
	// CA certificates cover both the PKI clock and the wall clock, so that tools that check
	// chains at the real time (openssl, pkcs7's signing-time check) accept them too.
	caFrom, caTo := spanWithWallClock(t0)
	rootKey, err := opts.KeyType.GenerateKey()
	if err != nil {
		return err
	}
	rootTmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"dpitest"}, CommonName: "dpitest Root CA"},
		NotBefore:             caFrom.Add(-24 * time.Hour),
		NotAfter:              caTo.Add(2 * caValidity(opts)),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	rootCert, err := createCertificate(rootTmpl, nil, rootKey.Public(), rootKey)
	if err != nil {
		return err
	}
	p.Root = rootCert
	p.root = newAuthority(rootCert, rootKey)

	interKey, err := opts.KeyType.GenerateKey()
	if err != nil {
		return err
	}
	interTmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"dpitest"}, CommonName: "dpitest Intermediate CA"},
		NotBefore:             caFrom.Add(-24 * time.Hour),
		NotAfter:              caTo.Add(caValidity(opts)),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		OCSPServer:            []string{p.OCSPURL},
		CRLDistributionPoints: []string{p.rootCRLURL},
	}
	interCert, err := p.root.issue(interTmpl, interKey.Public())
	if err != nil {
		return err
	}
	p.Intermediate = interCert
	p.inter = newAuthority(interCert, interKey)

	if opts.DelegatedOCSP || opts.KeyType == Ed25519 {
		for _, a := range []*authority{p.root, p.inter} {
			if err := p.delegateOCSP(a); err != nil {
				return err
			}
		}
	}

	// The TSA's certificate must also cover the wall clock: digitorus/pkcs7 writes the
	// wall-clock time into the token's signing-time attribute, and a token is refused when
	// it falls outside the signer's validity.
	lo, hi := spanWithWallClock(t0)
	tsaValidity := opts.TSAValidity
	if tsaValidity <= 0 {
		tsaValidity = 5 * 365 * 24 * time.Hour
	}
	tsa, err := p.Issue(CertOptions{CommonName: "dpitest TSA", KeyType: ECDSAP256, Usage: UsageTimeStamping,
		NotBefore: lo.Add(-time.Hour), NotAfter: hi.Add(tsaValidity)})
	if err != nil {
		return err
	}
	p.tsa = tsa
	return nil
}

func caValidity(opts PKIOptions) time.Duration {
	if opts.CAValidity > 0 {
		return opts.CAValidity
	}
	return 10 * 365 * 24 * time.Hour
}

// oidOCSPNoCheck is id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// delegateOCSP gives a an ECDSA P-256 delegated OCSP responder certificate.
func (p *PKI) delegateOCSP(a *authority) error {
	key, err := ECDSAP256.GenerateKey()
	if err != nil {
		return err
	}
	lo, hi := spanWithWallClock(p.now())
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"dpitest"}, CommonName: a.cert.Subject.CommonName + " OCSP Responder"},
		NotBefore:             lo.Add(-time.Hour),
		NotAfter:              hi.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: oidOCSPNoCheck, Value: []byte{0x05, 0x00}}},
	}
	cert, err := a.issue(tmpl, key.Public())
	if err != nil {
		return err
	}
	a.responderCert, a.responderKey = cert, key
	return nil
}

// issue signs tmpl with a's key, giving it a fresh serial number, and records the serial.
func (a *authority) issue(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	cert, err := createCertificate(tmpl, a.cert, pub, a.key)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.issued[cert.SerialNumber.String()] = true
	a.mu.Unlock()
	return cert, nil
}

// createCertificate signs tmpl with parent's key (self-signed when parent is nil).
func createCertificate(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("dpitest: create certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// CertOptions describes an end-entity certificate for [PKI.Issue].
type CertOptions struct {
	// CommonName is the subject's common name. Empty means "dpitest end entity".
	CommonName string
	// KeyType is the type of the freshly generated key. The zero value is ECDSAP256.
	KeyType KeyType
	// Usage sets the key usage and extended key usage extensions.
	Usage Usage
	// DNSNames are the DNS subject alternative names of a UsageTLS certificate; empty means
	// "localhost". Ignored for other usages.
	DNSNames []string
	// NotBefore and NotAfter bound the validity. A zero NotBefore means one hour before the
	// PKI clock's now; a zero NotAfter means one year after it. Set them in the past or future
	// to get an expired or not-yet-valid certificate.
	NotBefore, NotAfter time.Time
	// IsCA marks the certificate basicConstraints cA TRUE, keeping the key usage that Usage
	// gives it (no keyCertSign is added): a misissued certificate, such as a CA certificate
	// with document signing key usage, for tests that a signer or a validator refuses it.
	// The PKI never issues from it. False (the default) is an end entity, cA FALSE.
	IsCA bool
	// NoRevocationURLs leaves out the OCSP URL (authority information access) and the CRL
	// distribution points: a certificate that names no responder, whose status only
	// revocation data the verifier already holds ([PKI.CRL], [PKI.OCSPResponse]) can give.
	NoRevocationURLs bool
}

// Credential is a private key with its certificate and chain.
type Credential struct {
	// Key is the private key.
	Key crypto.Signer
	// Cert is the end-entity certificate.
	Cert *x509.Certificate
	// Chain is the certificate path without the trust anchor: Cert first, then the
	// intermediate. The root is not included.
	Chain []*x509.Certificate
}

// WritePEM writes the credential for a server or tool started as another process (an SMTP
// server, openssl, pdfsig): cert.pem holds the chain, Cert first, and key.pem the private key
// as PKCS #8, both in dir and readable by the owner only. It returns their paths.
func (c *Credential) WritePEM(dir string) (certFile, keyFile string, err error) {
	var chain []byte
	for _, cert := range c.Chain {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return "", "", fmt.Errorf("dpitest: encoding the key: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, chain, 0o600); err != nil {
		return "", "", fmt.Errorf("dpitest: %w", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", fmt.Errorf("dpitest: %w", err)
	}
	return certFile, keyFile, nil
}

// Issue generates a key and issues an end-entity certificate for it from the intermediate
// CA. The certificate carries the PKI's OCSP URL (authority information access) and CRL URL
// (CRL distribution points), unless [CertOptions.NoRevocationURLs] is set.
func (p *PKI) Issue(o CertOptions) (*Credential, error) {
	key, err := o.KeyType.GenerateKey()
	if err != nil {
		return nil, err
	}
	cert, err := p.IssueFor(key.Public(), o)
	if err != nil {
		return nil, err
	}
	return &Credential{Key: key, Cert: cert, Chain: []*x509.Certificate{cert, p.Intermediate}}, nil
}

// IssueFor issues an end-entity certificate, as [PKI.Issue] does, for a public key whose
// private half is held elsewhere (an HSM, a PKCS#11 token, a cloud KMS). o.KeyType is
// ignored. The chain to put beside it is the certificate, then p.Intermediate.
func (p *PKI) IssueFor(pub crypto.PublicKey, o CertOptions) (*x509.Certificate, error) {
	t0 := p.now()
	nb, na := o.NotBefore, o.NotAfter
	if nb.IsZero() {
		nb = t0.Add(-time.Hour)
	}
	if na.IsZero() {
		na = t0.Add(365 * 24 * time.Hour)
	}
	if !na.After(nb) {
		return nil, fmt.Errorf("%w: notAfter is not after notBefore", ErrInvalidOptions)
	}
	cn := o.CommonName
	if cn == "" {
		cn = "dpitest end entity"
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"dpitest"}, CommonName: cn},
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		IsCA:                  o.IsCA,
	}
	if !o.NoRevocationURLs {
		tmpl.OCSPServer = []string{p.OCSPURL}
		tmpl.CRLDistributionPoints = []string{p.CRLURL}
	}
	switch o.Usage {
	case UsageSigning:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	case UsageTLS:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := pub.(*rsa.PublicKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = o.DNSNames
		if len(tmpl.DNSNames) == 0 {
			tmpl.DNSNames = []string{"localhost"}
		}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	case UsageTimeStamping:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		// RFC 3161 §2.3 wants the extended key usage critical; crypto/x509 writes it
		// non-critical, so the extension is written by hand.
		eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}}
	default:
		return nil, fmt.Errorf("%w: unknown usage %d", ErrInvalidOptions, int(o.Usage))
	}
	return p.inter.issue(tmpl, pub)
}

var (
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// Revoke revokes cert, issued by this PKI (an end-entity certificate or the intermediate),
// as of at: from then on the OCSP responder answers "revoked" with that revocation time
// and the issuer's CRL lists it. Revoking twice keeps the first time.
func (p *PKI) Revoke(cert *x509.Certificate, at time.Time) error {
	a := p.issuerOf(cert)
	if a == nil {
		return ErrUnknownCertificate
	}
	serial := cert.SerialNumber.String()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.revoked[serial]; !ok {
		a.revoked[serial] = x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: at.UTC()}
	}
	return nil
}

// issuerOf returns the CA of this PKI that issued cert, or nil.
func (p *PKI) issuerOf(cert *x509.Certificate) *authority {
	if cert == nil {
		return nil
	}
	for _, a := range []*authority{p.inter, p.root} {
		if !bytesEqual(cert.RawIssuer, a.cert.RawSubject) || cert.CheckSignatureFrom(a.cert) != nil {
			continue
		}
		a.mu.Lock()
		issued := a.issued[cert.SerialNumber.String()]
		a.mu.Unlock()
		if issued {
			return a
		}
	}
	return nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// SetOCSPAvailable switches the OCSP responder on or off. While off it answers every
// request with HTTP 503, so that tests can exercise a verifier's TRY_LATER path.
func (p *PKI) SetOCSPAvailable(ok bool) { p.ocspUp.Store(ok) }

// SetCRLAvailable switches both CRL distribution points (the intermediate's at CRLURL and
// the root's) on or off. While off they answer every request with HTTP 503; with
// SetOCSPAvailable(false) too, nothing on the network can tell a certificate's status.
func (p *PKI) SetCRLAvailable(ok bool) { p.crlUp.Store(ok) }

// SetTSAAvailable switches the time-stamp authority on or off. While off it answers every
// request with HTTP 503.
func (p *PKI) SetTSAAvailable(ok bool) { p.tsaUp.Store(ok) }

// TSA returns the time-stamp authority's credential: its key, its certificate (critical
// extended key usage id-kp-timeStamping) and chain.
func (p *PKI) TSA() *Credential { return p.tsa }

// RootsPEM returns the root certificate, PEM-encoded, for `openssl -CAfile` or a verifier's
// trust anchors.
func (p *PKI) RootsPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw})
}

// Pool returns a new certificate pool holding only the root.
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	return pool
}

// Close stops the PKI's HTTP server.
func (p *PKI) Close() { p.srv.Close() }

// CRLPEM PEM-encodes a DER CRL ("X509 CRL", RFC 7468 §6), as `openssl crl` writes it.
func CRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// CertsPEM PEM-encodes certificates, in order: handy for `openssl -untrusted` files.
func CertsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes a private key as a PKCS#8 "PRIVATE KEY" PEM block.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
