package evidence_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/testenv"
)

// leafVector is one entry of testdata/leaf-vectors.json: a leaf's fields, its canonical
// encoding and its RFC 6962 leaf hash, for other implementations to check against.
type leafVector struct {
	Origin      string `json:"origin"`
	Seq         uint64 `json:"seq"`
	TimeNanos   int64  `json:"timeUnixNano"`
	Kind        string `json:"kind"`
	Ref         string `json:"ref"`
	MetaHex     string `json:"metaHex"`
	SaltHex     string `json:"saltHex"`
	PayloadHex  string `json:"payloadHex"`
	PayloadHash string `json:"payloadHashHex"`
	LeafHex     string `json:"leafBytesHex"`
	LeafHash    string `json:"leafHashHex"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestLeafVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/leaf-vectors.json")
	require.NoError(t, err)
	var vs []leafVector
	require.NoError(t, json.Unmarshal(b, &vs))
	require.NotEmpty(t, vs)
	for _, v := range vs {
		ph := evidence.PayloadHash(unhex(t, v.SaltHex), unhex(t, v.PayloadHex))
		assert.Equal(t, v.PayloadHash, hex.EncodeToString(ph[:]))
		leaf := evidence.Leaf{Seq: v.Seq, Time: time.Unix(0, v.TimeNanos).UTC(), Kind: v.Kind, Ref: v.Ref, Meta: unhex(t, v.MetaHex), PayloadHash: ph}
		assert.Equal(t, v.LeafHex, hex.EncodeToString(leaf.Bytes(v.Origin)))
		h := leaf.Hash(v.Origin)
		assert.Equal(t, v.LeafHash, hex.EncodeToString(h[:]))
	}
}

// TestLeafVectorsPython recomputes the vectors with an independent implementation of the
// encoding in Python's standard library.
func TestLeafVectorsPython(t *testing.T) {
	py := testenv.Tool(t, "python3")
	out, err := exec.Command(py, "testdata/leafhash.py", "testdata/leaf-vectors.json").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "ok")
}
