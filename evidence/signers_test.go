package evidence_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/store"
)

// splitNote returns a signed note's text and the signature bytes after the 4-byte key ID.
func splitNote(t *testing.T, signed []byte) (text, sig []byte) {
	t.Helper()
	i := bytes.LastIndex(signed, []byte("\n\n"))
	require.Positive(t, i)
	line := strings.TrimSuffix(string(signed[i+2:]), "\n")
	b64 := line[strings.LastIndex(line, " ")+1:]
	raw, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	return signed[:i+1], raw[4:]
}

func TestCheckpointSignersAgainstOpenSSL(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	_, ec := ecdsaKey(t)
	for name, key := range map[string]crypto.Signer{"ed25519": newKey(t), "ecdsa-p256": ec} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, "sqlite://:memory:")
			require.NoError(t, err)
			defer db.Close()
			l, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, Signer: key})
			require.NoError(t, err)
			appendN(t, l, 9)
			cp, err := l.Checkpoint(ctx)
			require.NoError(t, err)

			// The independent verifier, from the public key or from the published key string.
			v, err := evidence.NewVerifier(origin, key.Public())
			require.NoError(t, err)
			fromKey, err := evidence.ParseVerifierKey(v.Key())
			require.NoError(t, err)
			p, err := l.ProveInclusion(ctx, 4, 0)
			require.NoError(t, err)
			for _, vv := range []*evidence.Verifier{v, fromKey} {
				_, err = vv.VerifyInclusion(p)
				require.NoError(t, err)
			}
			_, err = l.Verify(ctx, v)
			require.NoError(t, err)

			// A key string whose hash does not match its key is refused.
			parts := strings.SplitN(v.Key(), "+", 3)
			_, err = evidence.ParseVerifierKey(parts[0] + "+00000000+" + parts[2])
			assert.ErrorIs(t, err, evidence.ErrConfig)

			// openssl checks the note signature over the checkpoint text.
			dir := t.TempDir()
			text, sig := splitNote(t, cp.Note)
			der, err := x509.MarshalPKIXPublicKey(key.Public())
			require.NoError(t, err)
			pub := filepath.Join(dir, "pub.pem")
			require.NoError(t, os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
			msg, sigFile := filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
			require.NoError(t, os.WriteFile(msg, text, 0o600))
			require.NoError(t, os.WriteFile(sigFile, sig, 0o600))
			var cmd *exec.Cmd
			if name == "ed25519" {
				cmd = exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", msg, "-sigfile", sigFile)
			} else {
				cmd = exec.Command(openssl, "dgst", "-sha256", "-verify", pub, "-signature", sigFile, msg)
			}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Contains(t, strings.ToLower(string(out)), "verified")
		})
	}
}
