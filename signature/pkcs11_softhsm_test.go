//go:build cgo

package signature_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/signature"
)

// softHSMModule is where Debian's softhsm2 package installs the module.
const softHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// softHSM creates a SoftHSM2 token labelled "dpi" (user PIN 1234) in a temporary directory
// and imports the given keys into it, each under its label with the id at the same index
// (1, 2, ...). It returns the module path.
func softHSM(t testing.TB, keys map[string]crypto.Signer, order []string) string {
	t.Helper()
	if _, err := os.Stat(softHSMModule); err != nil {
		testenv.Missing(t, "SoftHSM2 (Debian package softhsm2, "+softHSMModule+")")
	}
	util := testenv.Tool(t, "softhsm2-util")
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tokens"), 0o700))
	conf := filepath.Join(dir, "softhsm2.conf")
	require.NoError(t, os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+
		"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600))
	// SoftHSM reads its configuration when the module is initialised, which OpenPKCS11 does.
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(args ...string) {
		out, err := exec.CommandContext(t.Context(), util, args...).CombinedOutput()
		require.NoError(t, err, "softhsm2-util %v: %s", args, out)
	}
	run("--init-token", "--free", "--label", "dpi", "--pin", "1234", "--so-pin", "5678")
	for i, label := range order {
		der, err := x509.MarshalPKCS8PrivateKey(keys[label])
		require.NoError(t, err)
		f := filepath.Join(dir, label+".pem")
		require.NoError(t, os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
		run("--import", f, "--token", "dpi", "--label", label, "--id", "0"+string(rune('1'+i)), "--pin", "1234")
	}
	return softHSMModule
}

func mustKey[K crypto.Signer](k K, err error) K {
	if err != nil {
		panic(err) // key generation failing is a broken machine, not a test outcome
	}
	return k
}

func TestPKCS11SoftHSM(t *testing.T) {
	ec256 := mustKey(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	ec384 := mustKey(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	rsa2048 := mustKey(rsa.GenerateKey(rand.Reader, 2048))
	rsa1024 := mustKey(rsa.GenerateKey(rand.Reader, 1024))
	keys := map[string]crypto.Signer{"ec256": ec256, "ec384": ec384, "rsa2048": rsa2048, "weak": rsa1024}
	module := softHSM(t, keys, []string{"ec256", "ec384", "rsa2048", "weak"})

	open := func(t *testing.T, uri string) *signature.PKCS11Signer {
		t.Helper()
		s, err := signature.OpenPKCS11(uri, signature.PKCS11Options{Module: module})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, s.Close()) })
		return s
	}
	doc := []byte("a document signed in an HSM")
	d256 := sha256.Sum256(doc)
	d384 := sha512.Sum384(doc)

	t.Run("ecdsa", func(t *testing.T) {
		for _, tc := range []struct {
			uri    string
			key    crypto.Signer
			hash   crypto.Hash
			digest []byte
		}{
			{"pkcs11:token=dpi;object=ec256?pin-value=1234", ec256, crypto.SHA256, d256[:]},
			{"pkcs11:token=dpi;id=%02;type=private?pin-value=1234", ec384, crypto.SHA384, d384[:]},
		} {
			s := open(t, tc.uri)
			require.True(t, tc.key.Public().(*ecdsa.PublicKey).Equal(s.Public()))
			sig, err := s.Sign(rand.Reader, tc.digest, tc.hash)
			require.NoError(t, err)
			assert.True(t, ecdsa.VerifyASN1(tc.key.Public().(*ecdsa.PublicKey), tc.digest, sig), tc.uri)
		}
	})

	t.Run("rsa", func(t *testing.T) {
		s := open(t, "pkcs11:token=dpi;object=rsa2048?pin-value=1234")
		pub := rsa2048.Public().(*rsa.PublicKey)
		require.True(t, pub.Equal(s.Public()))

		sig, err := s.Sign(nil, d256[:], crypto.SHA256)
		require.NoError(t, err)
		assert.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, d256[:], sig))
		sig, err = s.Sign(nil, d384[:], crypto.SHA384)
		require.NoError(t, err)
		assert.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA384, d384[:], sig))

		for _, salt := range []int{rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto, 20} {
			opts := &rsa.PSSOptions{SaltLength: salt, Hash: crypto.SHA256}
			sig, err := s.Sign(nil, d256[:], opts)
			require.NoError(t, err)
			want := salt
			if salt == rsa.PSSSaltLengthAuto {
				want = rsa.PSSSaltLengthEqualsHash
			}
			assert.NoError(t, rsa.VerifyPSS(pub, crypto.SHA256, d256[:], sig, &rsa.PSSOptions{SaltLength: want}), "salt %d", salt)
		}

		_, err = s.Sign(nil, d256[:5], crypto.SHA256)
		assert.ErrorIs(t, err, signature.ErrPKCS11)
		_, err = s.Sign(nil, d256[:20], crypto.SHA1)
		assert.ErrorIs(t, err, signature.ErrPKCS11)
	})

	t.Run("openssl verifies", func(t *testing.T) {
		bin := testenv.Tool(t, "openssl")
		s := open(t, "pkcs11:token=dpi;object=ec256?pin-value=1234")
		sig, err := s.Sign(nil, d256[:], crypto.SHA256)
		require.NoError(t, err)
		dir := t.TempDir()
		spki, err := x509.MarshalPKIXPublicKey(s.Public())
		require.NoError(t, err)
		files := map[string][]byte{"pub.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), "doc": doc, "sig": sig}
		for name, b := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
		}
		out, err := exec.CommandContext(t.Context(), bin, "dgst", "-sha256", "-verify", filepath.Join(dir, "pub.pem"),
			"-signature", filepath.Join(dir, "sig"), filepath.Join(dir, "doc")).CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Contains(t, string(out), "Verified OK")
	})

	// The HSM key signs real documents: a certificate from the test PKI for the token's
	// public key, a CAdES-T and a JAdES signature made through PKCS11Signer, validated by
	// this package and the CAdES one by openssl cms.
	t.Run("documents", func(t *testing.T) {
		pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
		require.NoError(t, err)
		t.Cleanup(pki.Close)
		for _, tc := range []struct {
			object string
			opts   signature.SignerOptions
		}{
			{"ec256", signature.SignerOptions{TSAURL: pki.TSAURL}},
			{"ec384", signature.SignerOptions{Format: signature.JAdES}},
			{"rsa2048", signature.SignerOptions{TSAURL: pki.TSAURL}},
			{"rsa2048", signature.SignerOptions{Format: signature.JAdES}},
		} {
			s := open(t, "pkcs11:token=dpi;object="+tc.object+"?pin-value=1234")
			cert, err := pki.IssueFor(s.Public(), dpitest.CertOptions{CommonName: "HSM " + tc.object})
			require.NoError(t, err)
			signer, err := signature.NewSigner(s, []*x509.Certificate{cert, pki.Intermediate}, tc.opts)
			require.NoError(t, err)
			sig, err := signer.Sign(t.Context(), bytes.NewReader(doc))
			require.NoError(t, err)
			rep, err := signature.Validate(t.Context(), bytes.NewReader(doc), sig, &signature.Policy{Roots: pki.Pool()})
			require.NoError(t, err)
			assert.Equal(t, signature.TotalPassed, rep.Indication, "%s %s: %+v", tc.object, tc.opts.Format, rep)

			if tc.opts.Format == signature.JAdES {
				continue
			}
			bin := testenv.Tool(t, "openssl")
			dir := t.TempDir()
			for name, b := range map[string][]byte{"root.pem": pki.RootsPEM(), "doc": doc, "sig.der": sig,
				"inter.pem": dpitest.CertsPEM(pki.Intermediate)} {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
			}
			out, err := exec.CommandContext(t.Context(), bin, "cms", "-verify", "-binary", "-inform", "DER",
				"-in", filepath.Join(dir, "sig.der"), "-content", filepath.Join(dir, "doc"),
				"-CAfile", filepath.Join(dir, "root.pem"), "-out", os.DevNull).CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Contains(t, string(out), "Verification successful")
		}
	})

	t.Run("pin-source and module-path", func(t *testing.T) {
		pinFile := filepath.Join(t.TempDir(), "pin")
		require.NoError(t, os.WriteFile(pinFile, []byte("1234\n"), 0o600))
		s, err := signature.OpenPKCS11("pkcs11:token=dpi;object=ec256?pin-source=file:"+pinFile+"&module-path="+module,
			signature.PKCS11Options{})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, s.Close()) })
		assert.True(t, ec256.Public().(*ecdsa.PublicKey).Equal(s.Public()))
	})

	t.Run("concurrent signers share the module", func(t *testing.T) {
		a := open(t, "pkcs11:token=dpi;object=ec256?pin-value=1234")
		b, err := signature.OpenPKCS11("pkcs11:token=dpi;object=ec384", signature.PKCS11Options{Module: module, PIN: "1234"})
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 8 {
			wg.Go(func() {
				_, err := a.Sign(nil, d256[:], crypto.SHA256)
				errs <- err
			})
			wg.Go(func() {
				_, err := b.Sign(nil, d384[:], crypto.SHA384)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		// While a is logged in, the token answers "already logged in" to any PIN; a wrong
		// one must still be refused.
		_, err = signature.OpenPKCS11("pkcs11:token=dpi;object=ec384?pin-value=9999", signature.PKCS11Options{Module: module})
		assert.ErrorIs(t, err, signature.ErrPKCS11)

		// Closing one signer leaves the other working.
		require.NoError(t, b.Close())
		require.NoError(t, b.Close(), "close is idempotent")
		_, err = b.Sign(nil, d384[:], crypto.SHA384)
		assert.ErrorIs(t, err, signature.ErrPKCS11)
		sig, err := a.Sign(nil, d256[:], crypto.SHA256)
		require.NoError(t, err)
		assert.True(t, ecdsa.VerifyASN1(ec256.Public().(*ecdsa.PublicKey), d256[:], sig))
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			uri  string
			opts signature.PKCS11Options
			want error
		}{
			{"wrong pin", "pkcs11:token=dpi;object=ec256?pin-value=9999", signature.PKCS11Options{Module: module}, signature.ErrPKCS11},
			{"no such key", "pkcs11:token=dpi;object=nope?pin-value=1234", signature.PKCS11Options{Module: module}, signature.ErrPKCS11},
			{"no such token", "pkcs11:token=other;object=ec256?pin-value=1234", signature.PKCS11Options{Module: module}, signature.ErrPKCS11},
			{"ambiguous", "pkcs11:token=dpi?pin-value=1234", signature.PKCS11Options{Module: module}, signature.ErrPKCS11},
			{"no module", "pkcs11:token=dpi;object=ec256", signature.PKCS11Options{PIN: "1234"}, signature.ErrPKCS11URI},
			{"relative module", "pkcs11:token=dpi;object=ec256?module-path=libsofthsm2.so", signature.PKCS11Options{}, signature.ErrPKCS11URI},
			{"contradicting module", "pkcs11:token=dpi?module-path=/usr/lib/other.so", signature.PKCS11Options{Module: module}, signature.ErrPKCS11URI},
			{"missing module", "pkcs11:token=dpi", signature.PKCS11Options{Module: "/nonexistent/libp11.so"}, signature.ErrPKCS11},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, err := signature.OpenPKCS11(tc.uri, tc.opts)
				require.Error(t, err)
				assert.Nil(t, s)
				assert.ErrorIs(t, err, tc.want)
				assert.False(t, strings.Contains(err.Error(), "1234") || strings.Contains(err.Error(), "9999"), "pin leaked: %v", err)
			})
		}
		_, err := signature.OpenPKCS11("pkcs11:token=dpi;object=weak?pin-value=1234", signature.PKCS11Options{Module: module})
		var ke *signature.KeyError
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, 1024, ke.Bits)
	})
}

// BenchmarkPKCS11Sign measures one ECDSA P-256 signature by SoftHSM through PKCS11Signer.
func BenchmarkPKCS11Sign(b *testing.B) {
	key := mustKey(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	module := softHSM(b, map[string]crypto.Signer{"k": key}, []string{"k"})
	s, err := signature.OpenPKCS11("pkcs11:token=dpi;object=k?pin-value=1234", signature.PKCS11Options{Module: module})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	d := sha256.Sum256([]byte("x"))
	for b.Loop() {
		if _, err := s.Sign(nil, d[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}
