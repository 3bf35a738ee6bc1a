package pades

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

// allocated is the bytes f allocates (runtime.MemStats.TotalAlloc), a count that does not
// depend on timing: what a reader that loads every stream would show at once.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A large scanned PDF is signed and validated without its streams in memory: the reader
// leaves stream contents in the file and the digests stream them. pdfcpu's own reader
// allocated each stream's /Length, more than the 48 MiB of images here.
func TestLargePDFBoundedMemory(t *testing.T) {
	f := newFixture(t)
	in := pdftest.New(pdftest.Options{Pages: 6, ImageBytes: 8 << 20})
	require.Greater(t, len(in), 48<<20)
	dir := t.TempDir()
	path := filepath.Join(dir, "in.pdf")
	require.NoError(t, os.WriteFile(path, in, 0o600))
	src, err := os.Open(path)
	require.NoError(t, err)
	defer src.Close()

	// Signed to a file: the original is written as it is hashed.
	for _, level := range []Level{LevelB, LevelLT} {
		t.Run(string(level), func(t *testing.T) {
			s := f.signer(t, level, Config{})
			out, err := os.Create(filepath.Join(dir, "signed-"+string(level)+".pdf"))
			require.NoError(t, err)
			defer out.Close()
			n := allocated(func() {
				require.NoError(t, s.Sign(context.Background(), src, int64(len(in)), out))
			})
			assert.Less(t, n, uint64(16<<20), "sign allocated %d bytes", n)
			signed, err := os.ReadFile(out.Name())
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(signed, in))

			g, err := os.Open(out.Name())
			require.NoError(t, err)
			defer g.Close()
			var reps []Report
			n = allocated(func() {
				reps, err = Validate(context.Background(), g, int64(len(signed)), f.policy())
				require.NoError(t, err)
			})
			assert.Less(t, n, uint64(16<<20), "validate allocated %d bytes", n)
			require.Len(t, reps, 1)
			assert.Equal(t, signature.TotalPassed, reps[0].Indication, reps[0].Errors)
		})
	}
}

// Signing into a file writes the original while hashing it; an error (the TSA down) takes
// the file back to what it held, and a file not positioned at its end, a pipe or a buffer
// gets the original copied at the end instead. Each gets the same document.
func TestSignToFile(t *testing.T) {
	f := newFixture(t)
	in := pdftest.New(pdftest.Options{Pages: 2})
	s := f.signer(t, LevelT, Config{})
	dir := t.TempDir()

	t.Run("error leaves the file as it was", func(t *testing.T) {
		out, err := os.Create(filepath.Join(dir, "kept.pdf"))
		require.NoError(t, err)
		defer out.Close()
		_, err = out.WriteString("before\n")
		require.NoError(t, err)
		f.pki.SetTSAAvailable(false)
		defer f.pki.SetTSAAvailable(true)
		require.Error(t, s.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), out))
		got, err := os.ReadFile(out.Name())
		require.NoError(t, err)
		assert.Equal(t, "before\n", string(got))
		pos, err := out.Seek(0, 1)
		require.NoError(t, err)
		assert.Equal(t, int64(len("before\n")), pos)
	})

	for _, tc := range []struct {
		name string
		out  func(t *testing.T) (w interface{ Write([]byte) (int, error) }, read func() []byte)
	}{
		{"file at its end", func(t *testing.T) (interface{ Write([]byte) (int, error) }, func() []byte) {
			out, err := os.Create(filepath.Join(dir, "end.pdf"))
			require.NoError(t, err)
			t.Cleanup(func() { out.Close() })
			return out, func() []byte { b, _ := os.ReadFile(out.Name()); return b }
		}},
		{"file not at its end", func(t *testing.T) (interface{ Write([]byte) (int, error) }, func() []byte) {
			out, err := os.Create(filepath.Join(dir, "middle.pdf"))
			require.NoError(t, err)
			t.Cleanup(func() { out.Close() })
			_, err = out.WriteString("0123456789")
			require.NoError(t, err)
			_, err = out.Seek(0, 0)
			require.NoError(t, err)
			return out, func() []byte {
				b, _ := os.ReadFile(out.Name())
				if len(b) == 10 {
					return nil
				}
				return b
			}
		}},
		{"buffer", func(t *testing.T) (interface{ Write([]byte) (int, error) }, func() []byte) {
			var b bytes.Buffer
			return &b, b.Bytes
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, read := tc.out(t)
			require.NoError(t, s.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), w))
			signed := read()
			require.True(t, bytes.HasPrefix(signed, in))
			reps := f.validate(t, signed, f.policy())
			require.Len(t, reps, 1)
			assert.Equal(t, signature.TotalPassed, reps[0].Indication, reps[0].Errors)
			assert.Equal(t, "PAdES-BASELINE-T", reps[0].Format)
		})
	}
}
