package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/signature"
)

func (f *signFixture) signFile(t *testing.T, name string, extra ...string) string {
	t.Helper()
	out := filepath.Join(f.dir, name)
	args := append([]string{"sign", "--key", f.key, "--cert", f.cert, "--chain", f.chain, "-o", out, f.doc}, extra...)
	code, _, stderr := dpiRun(t, "", args...)
	require.Equal(t, exitOK, code, stderr)
	return out
}

func TestVerifyJSON(t *testing.T) {
	f := newSignFixture(t)
	sig := f.signFile(t, "doc.p7s", "--tsa", f.pki.TSAURL)
	code, stdout, stderr := dpiRun(t, "", "verify", "--json", "--trust", f.roots, f.doc, sig)
	require.Equal(t, exitOK, code, stderr)
	var report map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &report))
	assert.Equal(t, "TOTAL_PASSED", report["indication"])
	assert.Equal(t, "CAdES-BASELINE-T", report["format"])
	assert.Contains(t, report["signedBy"], "CN=Civil Registry")
	assert.NotEmpty(t, report["signingTime"])
	assert.NotEmpty(t, report["bestSignatureTime"])
	sub, hasSub := report["subIndication"]
	assert.True(t, hasSub, "subIndication is a contract field, present even when passed")
	assert.Nil(t, sub, "no sub-indication when passed")
}

func TestVerifyOutcomes(t *testing.T) {
	f := newSignFixture(t)
	sig := f.signFile(t, "doc.p7s")
	tampered := filepath.Join(f.dir, "tampered.txt")
	require.NoError(t, os.WriteFile(tampered, []byte("Certificate of residence no. 2026-0043\n"), 0o600))
	garbage := filepath.Join(f.dir, "garbage.p7s")
	require.NoError(t, os.WriteFile(garbage, []byte{0x30, 0x80, 1, 2, 3}, 0o600))
	otherPKI, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(t, err)
	defer otherPKI.Close()
	otherRoots := filepath.Join(f.dir, "other-roots.pem")
	require.NoError(t, os.WriteFile(otherRoots, otherPKI.RootsPEM(), 0o600))

	tests := []struct {
		name    string
		args    []string
		want    int
		wantOut string
	}{
		{"passed", []string{"--trust", f.roots, f.doc, sig}, exitOK, "TOTAL_PASSED"},
		{"tampered document", []string{"--trust", f.roots, tampered, sig}, exitRejected, "TOTAL_FAILED / HASH_FAILURE"},
		{"unknown root", []string{"--trust", otherRoots, f.doc, sig}, exitIndeterminate, "INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND"},
		{"validation time before the certificate", []string{"--trust", f.roots, "--at", time.Now().Add(-48 * time.Hour).Format(time.RFC3339), f.doc, sig}, exitRejected, "NOT_YET_VALID"},
		{"garbage signature", []string{"--trust", f.roots, f.doc, garbage}, exitUsage, ""},
		{"missing signature", []string{"--trust", f.roots, f.doc, filepath.Join(f.dir, "nope")}, exitUsage, ""},
		{"no trust", []string{f.doc, sig}, exitUsage, ""},
		{"bad time", []string{"--trust", f.roots, "--at", "yesterday", f.doc, sig}, exitUsage, ""},
		{"one argument", []string{"--trust", f.roots, f.doc}, exitUsage, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := dpiRun(t, "", append([]string{"verify"}, tc.args...)...)
			assert.Equal(t, tc.want, code, stdout+stderr)
			if tc.wantOut != "" {
				assert.Contains(t, stdout, tc.wantOut)
			} else {
				assert.NotEmpty(t, stderr)
			}
		})
	}
}

func TestVerifyRevocation(t *testing.T) {
	f := newSignFixture(t)
	sig := f.signFile(t, "doc.p7s")

	f.pki.SetOCSPAvailable(false)
	code, stdout, _ := dpiRun(t, "", "verify", "--trust", f.roots, f.doc, sig)
	assert.Equal(t, exitOK, code, "the crl answers while ocsp is down")
	assert.Contains(t, stdout, "good (CRL)")
	f.pki.SetOCSPAvailable(true)

	require.NoError(t, f.pki.Revoke(f.cred.Cert, time.Now()))
	code, stdout, _ = dpiRun(t, "", "verify", "--trust", f.roots, f.doc, sig)
	assert.Equal(t, exitIndeterminate, code, stdout)
	assert.Contains(t, stdout, "INDETERMINATE / REVOKED_NO_POE")
	assert.Contains(t, stdout, "revoked (OCSP)")
}

// dpi verify --crl and --ocsp: the data given decides with the responders down, and
// nothing else is needed for a certificate that names no responder.
func TestVerifyOfflineRevocation(t *testing.T) {
	f := newSignFixture(t)
	sig := f.signFile(t, "doc.p7s")
	offline := filepath.Join(f.dir, "offline.p7s")
	code, _, stderr := dpiRun(t, "", "sign", "--key", f.offlineKey, "--cert", f.offlineCert, "--crl", f.crl, "-o", offline, f.doc)
	require.Equal(t, exitOK, code, stderr)
	// A revoked certificate's signature, as another tool makes it.
	s, err := signature.NewSigner(f.revoked.Key, f.revoked.Chain, signature.SignerOptions{SkipRevocationCheckUnsafe: true})
	require.NoError(t, err)
	doc, err := os.ReadFile(f.doc)
	require.NoError(t, err)
	revokedSig, err := s.Sign(context.Background(), bytes.NewReader(doc))
	require.NoError(t, err)
	revoked := filepath.Join(f.dir, "revoked.p7s")
	require.NoError(t, os.WriteFile(revoked, revokedSig, 0o600))
	f.pki.SetOCSPAvailable(false)
	f.pki.SetCRLAvailable(false)

	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"crls given", []string{"--crl", f.crl, "--crl", f.rootCRL, f.doc, sig}, exitOK,
			[]string{"TOTAL_PASSED", "good (CRL, offline)"}},
		{"ocsp responses given", []string{"--ocsp", f.ocspResp, "--ocsp", f.interOCSPPEM, f.doc, sig}, exitOK,
			[]string{"TOTAL_PASSED", "good (OCSP, offline)"}},
		{"nothing given", []string{f.doc, sig}, exitIndeterminate, []string{"INDETERMINATE / TRY_LATER"}},
		{"certificate names no responder, crls given", []string{"--crl", f.crl, "--ocsp", f.interOCSPPEM, f.doc, offline}, exitOK,
			[]string{"TOTAL_PASSED", "good (CRL, offline)"}},
		{"certificate names no responder, nothing given", []string{f.doc, offline}, exitIndeterminate,
			[]string{"TRY_LATER", "names no ocsp responder and no crl"}},
		{"certificate names no responder, data about others given", []string{"--crl", f.rootCRL, f.doc, offline}, exitIndeterminate,
			[]string{"TRY_LATER", "no crl or ocsp response given is about this certificate"}},
		{"revoked in the crl given", []string{"--crl", f.crl, "--crl", f.rootCRL, f.doc, revoked}, exitRejected,
			[]string{"TOTAL_FAILED / REVOKED", "revoked (CRL, offline)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := dpiRun(t, "", append([]string{"verify", "--trust", f.roots}, tc.args...)...)
			assert.Equal(t, tc.code, code, stdout+stderr)
			for _, o := range tc.out {
				assert.Contains(t, stdout, o)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := dpiRun(t, "", "verify", "--json", "--trust", f.roots, "--crl", f.crl, "--crl", f.rootCRL, f.doc, revoked)
		require.Equal(t, exitRejected, code, stderr)
		var r struct {
			Revocation []struct {
				Source, Status string
				Offline        bool
			}
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &r))
		require.NotEmpty(t, r.Revocation)
		assert.Equal(t, "revoked", r.Revocation[0].Status)
		assert.True(t, r.Revocation[0].Offline)
	})
}
