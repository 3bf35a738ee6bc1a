package pades

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/pdftest"
	"github.com/dpiblocks/dpi/signature"
)

// A /ByteRange that is not exactly the file but this signature's /Contents is refused with
// a named reason, and the CMS is not read: values past the file or near the int64 limit
// included, so no arithmetic on them overflows.
func TestByteRangeRefused(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, f.signer(t, LevelB, Config{}), pdftest.New(pdftest.Options{}))
	at := bytes.Index(signed, []byte("/ByteRange ["))
	require.Positive(t, at)
	at += len("/ByteRange ")
	var br [4]int64
	for i, n := range strings.Fields(strings.Trim(string(signed[at:at+len(byteRangePlaceholder)]), "[]")) {
		_, err := fmt.Sscan(n, &br[i])
		require.NoError(t, err)
	}
	size := int64(len(signed))
	for _, tc := range []struct {
		name, value, reason string
	}{
		{"not at 0", fmt.Sprintf("[1 %d %d %d]", br[1], br[2], br[3]), "byteRange: does not start at 0"},
		{"three numbers", fmt.Sprintf("[0 %d %d]", br[1], br[2]), "byteRange: 3 numbers, not 4"},
		{"negative", fmt.Sprintf("[0 %d -%d %d]", br[1], br[2], br[3]), "byteRange: a negative number"},
		{"past the end", fmt.Sprintf("[0 %d %d %d]", br[1], br[2], br[3]+1), "byteRange: beyond the end of the file"},
		{"int64 max", fmt.Sprintf("[0 9223372036854775807 %d %d]", br[2], br[3]), "byteRange: beyond the end of the file"},
		{"reversed", fmt.Sprintf("[0 %d %d %d]", br[2], br[1], size-br[1]), "byteRange: the gap for /Contents is empty, too short or reversed"},
		{"not a revision end", fmt.Sprintf("[0 %d %d %d]", br[1], br[2], br[3]-10), "byteRange: does not end at the end of a revision"},
		{"gap shifted", fmt.Sprintf("[0 %d %d %d]", br[1]+1, br[2], br[3]), "contents: the gap of the byte range is not a hex string"},
		{"gap inside", fmt.Sprintf("[0 %d %d %d]", br[1]+2, br[2]-1, br[3]+1), "contents: the gap of the byte range is not a hex string"},
		{"reals", fmt.Sprintf("[0 %d.0 %d %d]", br[1], br[2], br[3]), "byteRange: not four integers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.value
			require.LessOrEqual(t, len(v), len(byteRangePlaceholder))
			v = strings.Replace(v, "]", strings.Repeat(" ", len(byteRangePlaceholder)-len(v))+"]", 1)
			pdf := append([]byte(nil), signed...)
			copy(pdf[at:], v)
			reps := f.validate(t, pdf, f.policy())
			require.Len(t, reps, 1)
			r := reps[0]
			assert.Equal(t, signature.TotalFailed, r.Indication)
			assert.Equal(t, signature.FormatFailure, r.SubIndication)
			require.NotEmpty(t, r.Errors)
			assert.True(t, strings.HasPrefix(r.Errors[0], tc.reason), "%q does not begin with %q", r.Errors[0], tc.reason)
		})
	}
}
