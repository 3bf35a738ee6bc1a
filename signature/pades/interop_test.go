package pades

// PAdES against independent implementations from Debian's packages: qpdf checks the structure
// of what Sign writes, poppler's pdfsig (with NSS) validates its signatures, and pdfsig
// -add-signature signs a PDF that Validate then validates. Under DPI_TEST_STRICT=1 (CI) a
// missing tool fails the test; otherwise it is skipped with a message.

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/signature"
)

// interopDocs signs a form at every level, certified and visible, and twice.
func interopDocs(t *testing.T, f *fixture) map[string][]byte {
	t.Helper()
	in := pdftest.New(pdftest.Options{Form: true, Pages: 2})
	docs := map[string][]byte{}
	for _, l := range []Level{LevelB, LevelT, LevelLT, LevelLTA} {
		docs[string(l)] = f.sign(t, f.signer(t, l, Config{}), in)
	}
	docs["certified-visible"] = f.sign(t, f.signer(t, LevelT, Config{Certify: CertifyFormFill,
		Visible: &Appearance{Page: 1, X: 300, Y: 72, W: 200, H: 50}}), in)
	docs["two-signatures"] = f.sign(t, f.signer(t, LevelB, Config{}), docs["certified-visible"])
	docs["xref-stream"] = f.sign(t, f.signer(t, LevelB, Config{}), pdftest.New(pdftest.Options{XRefStream: true}))
	// A PDF whose cross-reference is a stream and whose objects, the catalog included, are
	// in object streams (as qpdf writes them), signed at B-LTA and renewed: each update is a
	// classic cross-reference table whose /Prev is the stream (a hybrid file, which ISO
	// 32000-1 §7.5.6 allows), and the readers here accept it.
	qpdf := testenv.Tool(t, "qpdf")
	objStm := filepath.Join(t.TempDir(), "objstm.pdf")
	run(t, qpdf, "--object-streams=generate", writeTemp(t, "in.pdf", in), objStm)
	compressed, err := os.ReadFile(objStm)
	require.NoError(t, err)
	require.Contains(t, string(compressed), "/ObjStm")
	docs["object-streams-lta"] = f.sign(t, f.signer(t, LevelLTA, Config{}), compressed)
	docs["object-streams-renewed"] = f.extend(t, docs["object-streams-lta"], LevelLTA, f.pki.TSAURL)
	return docs
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// qpdf --check: the cross-reference sections, the objects and the streams of what Sign writes
// parse without an error or a warning.
func TestInteropQPDFCheck(t *testing.T) {
	qpdf := testenv.Tool(t, "qpdf")
	f := newFixture(t)
	for name, doc := range interopDocs(t, f) {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(qpdf, "--check", writeTemp(t, "signed.pdf", doc)).CombinedOutput()
			require.NoError(t, err, "qpdf --check:\n%s", out)
			assert.Contains(t, string(out), "No syntax or stream encoding errors found")
			assert.NotContains(t, strings.ToLower(string(out)), "warning")
		})
	}
}

// nssDB makes an NSS database in which the test PKI's root is a trusted CA.
func nssDB(t *testing.T, f *fixture) string {
	t.Helper()
	certutil := testenv.Tool(t, "certutil")
	dir := "sql:" + t.TempDir()
	run(t, certutil, "-N", "-d", dir, "--empty-password")
	rootPEM := writeTemp(t, "root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.pki.Root.Raw}))
	run(t, certutil, "-A", "-d", dir, "-n", "dpitest-root", "-t", "CT,C,C", "-a", "-i", rootPEM)
	return dir
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

var pdfsigSignatureRE = regexp.MustCompile(`(?m)^Signature #\d+:`)

// pdfsig validates every signature Sign makes: the digest over the byte range and the CMS.
func TestInteropPdfsigValidates(t *testing.T) {
	pdfsig := testenv.Tool(t, "pdfsig")
	f := newFixture(t)
	db := nssDB(t, f)
	for name, doc := range interopDocs(t, f) {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(pdfsig, "-nssdir", db, "-no-ocsp", writeTemp(t, "signed.pdf", doc))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "pdfsig:\n%s", out)
			s := string(out)
			// pdfsig 22.12 does not validate document time-stamps (ETSI.RFC3161): it lists
			// them as "Signature Type: unknown". Every CAdES signature must be valid.
			n := strings.Count(s, "Signature Type: ETSI.CAdES.detached")
			require.Positive(t, n, s)
			require.Equal(t, len(pdfsigSignatureRE.FindAllString(s, -1)), n+strings.Count(s, "Signature Type: unknown"), s)
			assert.Equal(t, n, strings.Count(s, "Signature Validation: Signature is Valid."), s)
			// NSS's verdict on the certificate is logged, not asserted: certutil -V and
			// vfychain accept the test PKI's chain for email signing, but pdfsig 22.12
			// answers "Unknown issue with Certificate" for it, also with -no-ocsp.
			for _, l := range strings.Split(s, "\n") {
				if strings.Contains(l, "Certificate Validation:") {
					t.Log(strings.TrimSpace(l))
				}
			}
		})
	}
}

// A PDF signed by poppler's pdfsig (-add-signature: an adbe.pkcs7.detached signature made with
// NSS, an independent implementation of CMS and of the PDF incremental update) validates with
// dpi, alone and after a dpi signature. pdfsig 22.12 refuses -etsi with -add-signature ("not
// supported yet"), so it cannot make ETSI.CAdES.detached.
func TestInteropPdfsigSigned(t *testing.T) {
	pdfsig := testenv.Tool(t, "pdfsig")
	openssl := testenv.Tool(t, "openssl")
	pk12util := testenv.Tool(t, "pk12util")
	f := newFixture(t)
	db := nssDB(t, f)
	// RSA: pdfsig 22.12 reserves room for the signature from a trial one, and an ECDSA
	// signature one byte longer than the trial makes it fail ("unable update signature").
	cred, err := f.pki.Issue(dpitest.CertOptions{CommonName: "Poppler Signer", KeyType: dpitest.RSA2048, Usage: dpitest.UsageSigning})
	require.NoError(t, err)

	key, err := x509.MarshalPKCS8PrivateKey(cred.Key)
	require.NoError(t, err)
	keyPEM := writeTemp(t, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}))
	var chain bytes.Buffer
	for _, c := range cred.Chain[1:] {
		require.NoError(t, pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	certPEM := writeTemp(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cred.Chain[0].Raw}))
	chainPEM := writeTemp(t, "chain.pem", chain.Bytes())
	p12 := filepath.Join(t.TempDir(), "signer.p12")
	run(t, openssl, "pkcs12", "-export", "-inkey", keyPEM, "-in", certPEM, "-certfile", chainPEM,
		"-name", "dpi-signer", "-passout", "pass:interop", "-out", p12)
	run(t, pk12util, "-i", p12, "-d", db, "-W", "interop", "-K", "")

	popplerSign := func(t *testing.T, in []byte, field string) []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out.pdf")
		run(t, pdfsig, "-nssdir", db, "-add-signature", "-nick", "dpi-signer",
			"-new-signature-field-name", field, "-reason", "interop", writeTemp(t, "in.pdf", in), out)
		signed, err := os.ReadFile(out)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(signed, in), "pdfsig signs as an incremental update")
		return signed
	}
	validateAll := func(t *testing.T, doc []byte, fields ...string) []Report {
		t.Helper()
		reps, err := Validate(context.Background(), bytes.NewReader(doc), int64(len(doc)), f.policy())
		require.NoError(t, err)
		require.Len(t, reps, len(fields))
		for i, r := range reps {
			assert.Equal(t, fields[i], r.Field)
			for _, c := range r.Changes {
				assert.True(t, c.Allowed, "%s: %+v", r.Field, c)
			}
			// NSS encodes its CMS in BER (indefinite lengths); package signature reads it
			// as its DER form.
			assert.Equal(t, signature.TotalPassed, r.Indication, "%s: %v %+v", r.Field, r.Errors, r.Changes)
		}
		assert.True(t, reps[len(reps)-1].CoversWholeDocument)
		return reps
	}

	// pdfsig 22.12 cannot sign a PDF whose AcroForm is a direct dictionary of the catalog (it
	// writes the catalog back without its new field: the signature is then in no form) nor one
	// with a cross-reference stream ("unable update signature"): the documents here have
	// neither.
	plain := pdftest.New(pdftest.Options{Pages: 2})
	t.Run("one signature", func(t *testing.T) {
		validateAll(t, popplerSign(t, plain, "Poppler"), "Poppler")
	})
	t.Run("two signatures", func(t *testing.T) {
		validateAll(t, popplerSign(t, popplerSign(t, plain, "First"), "Second"), "First", "Second")
	})
	t.Run("a dpi signature after a pdfsig signature", func(t *testing.T) {
		doc := f.sign(t, f.signer(t, LevelT, Config{}), popplerSign(t, plain, "Poppler"))
		validateAll(t, doc, "Poppler", "Signature1")
	})
}
