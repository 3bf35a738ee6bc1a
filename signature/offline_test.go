package signature_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/signature"
)

// counting is a transport that counts every request before passing it on, so that a test
// can tell that nothing was fetched.
type counting struct{ n atomic.Int32 }

func (c *counting) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

// offlineData is what a test hands the validator: files as a court or an archive keeps
// them, DER or PEM.
type offlineData struct {
	crls, ocsp [][]byte
}

func (d offlineData) policy(t *testing.T, p *signature.Policy) *signature.Policy {
	t.Helper()
	for _, b := range d.crls {
		l, err := signature.LoadCRLs(b)
		require.NoError(t, err)
		p.CRLs = append(p.CRLs, l...)
	}
	for _, b := range d.ocsp {
		r, err := signature.LoadOCSPResponses(b)
		require.NoError(t, err)
		p.OCSPResponses = append(p.OCSPResponses, r...)
	}
	return p
}

func ocspPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "OCSP RESPONSE", Bytes: der})
}

// must returns the bytes of a call that must not fail: must(t)(pki.CRL()).
func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return b
	}
}

// Revocation data the caller holds is read before anything is fetched and decides alone
// when it counts: the responders are down, and nothing is asked of them. Data that does not
// count (stale, another CA's, another certificate's, an unauthorised responder's) leaves
// the status to the network, which is down here: TRY_LATER, naming why.
func TestOfflineRevocationData(t *testing.T) {
	crls := func(t *testing.T, f *fixture) [][]byte {
		return [][]byte{must(t)(f.pki.CRL()), must(t)(f.pki.RootCRL())}
	}
	responses := func(t *testing.T, f *fixture, cred *dpitest.Credential) [][]byte {
		return [][]byte{must(t)(f.pki.OCSPResponse(cred.Cert)), must(t)(f.pki.OCSPResponse(f.pki.Intermediate))}
	}
	tests := []struct {
		name    string
		revoke  bool // the signer's certificate, a minute before it signs
		data    func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData
		later   time.Duration // the clock moves on before validation
		wantInd signature.Indication
		wantSub signature.SubIndication
		source  string // of the signer's status, when offline data decided it
		wantErr string // in the report's errors
		// network is who the validator had to ask: 0 nobody, 1 the signer's responders
		// (when its certificate names them), 2 the intermediate's too.
		network int
	}{
		{name: "crl der, good", data: func(t *testing.T, f *fixture, _ *dpitest.Credential) offlineData {
			return offlineData{crls: crls(t, f)}
		}, wantInd: signature.TotalPassed, source: "CRL"},
		{name: "crl pem, good", data: func(t *testing.T, f *fixture, _ *dpitest.Credential) offlineData {
			c := crls(t, f)
			return offlineData{crls: [][]byte{append(dpitest.CRLPEM(c[0]), dpitest.CRLPEM(c[1])...)}}
		}, wantInd: signature.TotalPassed, source: "CRL"},
		{name: "ocsp der, good", data: func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData {
			return offlineData{ocsp: responses(t, f, cred)}
		}, wantInd: signature.TotalPassed, source: "OCSP"},
		{name: "ocsp pem, good", data: func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData {
			r := responses(t, f, cred)
			return offlineData{ocsp: [][]byte{ocspPEM(r[0]), ocspPEM(r[1])}}
		}, wantInd: signature.TotalPassed, source: "OCSP"},
		{name: "ocsp for the signer, crl for the intermediate", data: func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData {
			return offlineData{ocsp: [][]byte{must(t)(f.pki.OCSPResponse(cred.Cert))}, crls: [][]byte{must(t)(f.pki.RootCRL())}}
		}, wantInd: signature.TotalPassed, source: "OCSP"},
		{name: "crl, revoked", revoke: true, data: func(t *testing.T, f *fixture, _ *dpitest.Credential) offlineData {
			return offlineData{crls: crls(t, f)}
		}, wantInd: signature.TotalFailed, wantSub: signature.Revoked, source: "CRL"},
		{name: "ocsp, revoked", revoke: true, data: func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData {
			return offlineData{ocsp: responses(t, f, cred)}
		}, wantInd: signature.TotalFailed, wantSub: signature.Revoked, source: "OCSP"},
		{name: "good in an earlier ocsp response, revoked in the crl", data: func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData {
			r := responses(t, f, cred)
			require.NoError(t, f.pki.Revoke(cred.Cert, f.clock.Now().Add(-time.Minute)))
			return offlineData{ocsp: r, crls: crls(t, f)}
		}, wantInd: signature.TotalFailed, wantSub: signature.Revoked, source: "CRL"},
		{name: "stale crl", data: func(t *testing.T, f *fixture, _ *dpitest.Credential) offlineData {
			return offlineData{crls: crls(t, f)}
		}, later: 25 * time.Hour, wantInd: signature.Indeterminate, wantSub: signature.TryLater, wantErr: "crl given: crl is stale", network: 2},
		{name: "stale ocsp response", data: func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData {
			return offlineData{ocsp: responses(t, f, cred)}
		}, later: 2 * time.Hour, wantInd: signature.Indeterminate, wantSub: signature.TryLater, wantErr: "ocsp response given: response is stale", network: 2},
		{name: "crl of another ca with the same name", data: func(t *testing.T, f *fixture, _ *dpitest.Credential) offlineData {
			other := newFixture(t)
			return offlineData{crls: [][]byte{must(t)(other.pki.CRL()), must(t)(f.pki.RootCRL())}}
		}, wantInd: signature.Indeterminate, wantSub: signature.TryLater, wantErr: "crl given: signature:", network: 1},
		{name: "only the root's crl", data: func(t *testing.T, f *fixture, _ *dpitest.Credential) offlineData {
			return offlineData{crls: [][]byte{must(t)(f.pki.RootCRL())}}
		}, wantInd: signature.Indeterminate, wantSub: signature.TryLater, wantErr: "no crl or ocsp response given is about this certificate", network: 1},
		{name: "ocsp response for another serial", data: func(t *testing.T, f *fixture, _ *dpitest.Credential) offlineData {
			other := f.issue(t, dpitest.ECDSAP256)
			return offlineData{ocsp: [][]byte{must(t)(f.pki.OCSPResponse(other.Cert)), must(t)(f.pki.OCSPResponse(f.pki.Intermediate))}}
		}, wantInd: signature.Indeterminate, wantSub: signature.TryLater, wantErr: "no crl or ocsp response given is about this certificate", network: 1},
		{name: "ocsp response signed by another signer of the ca", data: func(t *testing.T, f *fixture, cred *dpitest.Credential) offlineData {
			mallory := f.issue(t, dpitest.ECDSAP256)
			now := f.clock.Now()
			forged, err := ocsp.CreateResponse(f.pki.Intermediate, mallory.Cert, ocsp.Response{
				Status: ocsp.Good, SerialNumber: cred.Cert.SerialNumber, Certificate: mallory.Cert,
				ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
			}, mallory.Key)
			require.NoError(t, err)
			return offlineData{ocsp: [][]byte{forged, must(t)(f.pki.OCSPResponse(f.pki.Intermediate))}}
		}, wantInd: signature.Indeterminate, wantSub: signature.TryLater, wantErr: "not authorised for ocsp signing", network: 1},
	}
	for _, urls := range []bool{true, false} {
		for _, tc := range tests {
			name := tc.name
			if !urls {
				name += ", certificate names no responder"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				cred, err := f.pki.Issue(dpitest.CertOptions{CommonName: "Archive", Usage: dpitest.UsageSigning, NoRevocationURLs: !urls})
				require.NoError(t, err)
				if tc.revoke {
					require.NoError(t, f.pki.Revoke(cred.Cert, f.clock.Now().Add(-time.Minute)))
				}
				sig := f.sign(t, cred, signature.SignerOptions{}, document)
				data := tc.data(t, f, cred)
				f.clock.Add(tc.later)
				f.pki.SetOCSPAvailable(false)
				f.pki.SetCRLAvailable(false)
				net := &counting{}
				p := f.policy()
				p.HTTPClient = &http.Client{Transport: net}
				r := validate(t, document, sig, data.policy(t, p))

				assert.Equal(t, tc.wantInd, r.Indication, r.Errors)
				assert.Equal(t, tc.wantSub, r.SubIndication, r.Errors)
				require.Len(t, r.Revocation, 2)
				st := r.Revocation[0]
				if tc.source != "" {
					assert.Equal(t, tc.source, st.Source)
					assert.True(t, st.Offline)
					assert.Equal(t, map[bool]string{true: "revoked", false: "good"}[tc.wantSub == signature.Revoked], st.Status)
				} else {
					assert.Equal(t, "unknown", st.Status)
					assert.False(t, st.Offline)
					assert.Contains(t, st.Reason, tc.wantErr)
					if !urls {
						assert.Contains(t, st.Reason, "names no ocsp responder and no crl")
					}
				}
				if tc.wantErr != "" {
					assert.Contains(t, joinLines(r.Errors), tc.wantErr)
				}
				if tc.network == 0 || (tc.network == 1 && !urls) {
					assert.Zero(t, net.n.Load(), "nothing is fetched")
				} else {
					assert.NotZero(t, net.n.Load(), "the validator asked the network")
				}
			})
		}
	}
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for _, l := range s {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Data that does not count leaves the status to the responders, which answer when up.
func TestOfflineRevocationDataFallsBackToTheNetwork(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	sig := f.sign(t, cred, signature.SignerOptions{}, document)
	data := offlineData{crls: [][]byte{must(t)(f.pki.CRL())}}
	f.clock.Add(25 * time.Hour)
	r := validate(t, document, sig, data.policy(t, f.policy()))
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	require.Len(t, r.Revocation, 2)
	assert.Equal(t, "OCSP", r.Revocation[0].Source)
	assert.False(t, r.Revocation[0].Offline)
}

// A delegated responder's answer, held by the caller, counts as the CA's own.
func TestOfflineOCSPFromDelegatedResponder(t *testing.T) {
	c := newClock()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{Now: c.Now, DelegatedOCSP: true})
	require.NoError(t, err)
	t.Cleanup(pki.Close)
	f := &fixture{pki: pki, clock: c}
	cred, err := pki.Issue(dpitest.CertOptions{Usage: dpitest.UsageSigning, NoRevocationURLs: true})
	require.NoError(t, err)
	sig := f.sign(t, cred, signature.SignerOptions{Format: signature.JAdES}, document)
	pki.SetOCSPAvailable(false)
	pki.SetCRLAvailable(false)
	data := offlineData{ocsp: [][]byte{must(t)(pki.OCSPResponse(cred.Cert)), must(t)(pki.OCSPResponse(pki.Intermediate))}}
	r := validate(t, document, sig, data.policy(t, f.policy()))
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	require.Len(t, r.Revocation, 2)
	for _, st := range r.Revocation {
		assert.Equal(t, "OCSP", st.Source)
		assert.True(t, st.Offline)
	}
}

// Offline data is judged at the validation time: a CRL that was current then counts for a
// validation as of then, and not for one as of now.
func TestOfflineRevocationDataAtValidationTime(t *testing.T) {
	f := newFixture(t)
	cred := f.issue(t, dpitest.ECDSAP256)
	signedAt := f.clock.Now()
	sig := f.sign(t, cred, signature.SignerOptions{}, document)
	data := offlineData{crls: [][]byte{must(t)(f.pki.CRL()), must(t)(f.pki.RootCRL())}}
	f.clock.Add(48 * time.Hour)
	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)

	p := data.policy(t, f.policy())
	p.At = signedAt.Add(time.Hour)
	r := validate(t, document, sig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	assert.True(t, r.Revocation[0].Offline)

	r = validate(t, document, sig, data.policy(t, f.policy()))
	assert.Equal(t, signature.TryLater, r.SubIndication, r.Errors)
}

// A CRL distribution point that serves PEM (as `openssl ca -gencrl` writes it) is read.
func TestFetchedCRLInPEM(t *testing.T) {
	m := newMiniCA(t)
	key, cert := m.issue(t, nil)
	sig := signWith(t, key, cert)
	p := &signature.Policy{Roots: m.pool()}

	m.serve("/ca.crl", dpitest.CRLPEM(m.crl(t, &x509.RevocationList{})))
	r := validate(t, document, sig, p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	require.NotEmpty(t, r.Revocation)
	assert.Equal(t, "CRL", r.Revocation[0].Source)

	m.serve("/ca.crl", dpitest.CRLPEM(m.crl(t, &x509.RevocationList{Number: nil,
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: cert.SerialNumber, RevocationTime: time.Now().Add(-time.Hour)}}})))
	r = validate(t, document, sig, p)
	assert.Equal(t, signature.TotalFailed, r.Indication, r.Errors)
	assert.Equal(t, signature.Revoked, r.SubIndication)
}

func TestLoadRevocationData(t *testing.T) {
	f := newFixture(t)
	crl, root := must(t)(f.pki.CRL()), must(t)(f.pki.RootCRL())
	resp := must(t)(f.pki.OCSPResponse(f.pki.Intermediate))
	certPEM := dpitest.CertsPEM(f.pki.Root)
	many := bytes.Repeat(dpitest.CRLPEM(crl), 65)

	crlTests := []struct {
		name string
		in   []byte
		n    int
		err  error
	}{
		{"der", crl, 1, nil},
		{"der, two concatenated", append(append([]byte(nil), crl...), root...), 2, nil},
		{"pem, a certificate skipped", append(append(dpitest.CRLPEM(crl), certPEM...), dpitest.CRLPEM(root)...), 2, nil},
		{"pem with text around it", append(append([]byte("issued by the registry\n"), dpitest.CRLPEM(crl)...), "\n"...), 1, nil},
		{"empty", nil, 0, signature.ErrKeyFormat},
		{"a certificate", certPEM, 0, signature.ErrKeyFormat},
		{"an ocsp response", resp, 0, signature.ErrKeyFormat},
		{"truncated der", crl[:len(crl)-1], 0, signature.ErrKeyFormat},
		{"der with trailing bytes", append(append([]byte(nil), crl...), 0x00), 0, signature.ErrKeyFormat},
		{"more than 64 blocks", many, 0, signature.ErrTooLarge},
		{"over the file cap", append(dpitest.CRLPEM(crl), make([]byte, 24<<20)...), 0, signature.ErrTooLarge},
	}
	for _, tc := range crlTests {
		t.Run("crl/"+tc.name, func(t *testing.T) {
			lists, err := signature.LoadCRLs(tc.in)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				assert.Nil(t, lists)
				return
			}
			require.NoError(t, err)
			assert.Len(t, lists, tc.n)
		})
	}

	unauthorized := ocsp.UnauthorizedErrorResponse
	ocspTests := []struct {
		name string
		in   []byte
		n    int
		err  error
	}{
		{"der", resp, 1, nil},
		{"der, two concatenated", append(append([]byte(nil), resp...), resp...), 2, nil},
		{"pem", append(ocspPEM(resp), ocspPEM(resp)...), 2, nil},
		{"an error response", unauthorized, 0, signature.ErrKeyFormat},
		{"a crl", crl, 0, signature.ErrKeyFormat},
		{"a crl in pem", dpitest.CRLPEM(crl), 0, signature.ErrKeyFormat},
		{"truncated", resp[:len(resp)-3], 0, signature.ErrKeyFormat},
		{"empty", nil, 0, signature.ErrKeyFormat},
		{"over the response cap", ocspPEM(make([]byte, 64<<10+1)), 0, signature.ErrTooLarge},
	}
	for _, tc := range ocspTests {
		t.Run("ocsp/"+tc.name, func(t *testing.T) {
			rs, err := signature.LoadOCSPResponses(tc.in)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				assert.Nil(t, rs)
				return
			}
			require.NoError(t, err)
			assert.Len(t, rs, tc.n)
			for _, r := range rs {
				assert.Equal(t, resp, r)
			}
		})
	}
}

// A CRL that openssl writes (`openssl ca -gencrl`, PEM, with a certificate revoked by
// `openssl ca -revoke`) is read and applied.
func TestOpenSSLCRL(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	m := newMiniCA(t)
	key, good := m.issue(t, func(c *x509.Certificate) { c.CRLDistributionPoints = nil })
	badKey, bad := m.issue(t, func(c *x509.Certificate) { c.CRLDistributionPoints = nil })
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	keyPEM, err := dpitest.KeyPEM(m.key)
	require.NoError(t, err)
	caKey := write("ca.key", keyPEM)
	caCert := write("ca.pem", dpitest.CertsPEM(m.root))
	badCert := write("bad.pem", dpitest.CertsPEM(bad))
	write("index.txt", nil)
	// A crlnumber makes a v2 CRL (crypto/x509 reads no v1).
	write("crlnumber", []byte("01\n"))
	conf := write("ca.cnf", []byte("[ca]\ndefault_ca = d\n[d]\ndatabase = "+filepath.Join(dir, "index.txt")+
		"\ncrlnumber = "+filepath.Join(dir, "crlnumber")+"\ndefault_md = sha256\ndefault_crl_days = 1\n"))
	run := func(args ...string) {
		out, err := exec.CommandContext(t.Context(), openssl, args...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	run("ca", "-config", conf, "-keyfile", caKey, "-cert", caCert, "-revoke", badCert)
	run("ca", "-config", conf, "-keyfile", caKey, "-cert", caCert, "-gencrl", "-out", filepath.Join(dir, "crl.pem"))
	crlPEM, err := os.ReadFile(filepath.Join(dir, "crl.pem"))
	require.NoError(t, err)
	lists, err := signature.LoadCRLs(crlPEM)
	require.NoError(t, err)

	p := &signature.Policy{Roots: m.pool(), CRLs: lists}
	r := validate(t, document, signWith(t, key, good), p)
	assert.Equal(t, signature.TotalPassed, r.Indication, r.Errors)
	require.NotEmpty(t, r.Revocation)
	assert.True(t, r.Revocation[0].Offline)
	r = validate(t, document, signWith(t, badKey, bad), p)
	assert.False(t, r.Passed(), r.Errors)
	require.NotEmpty(t, r.Revocation)
	assert.Equal(t, "revoked", r.Revocation[0].Status)
	assert.True(t, r.Revocation[0].Offline)
}
