package interop

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTargetVectors splits the request targets of PR-REST §4.1 and §6 into the service and
// the service's own path.
func TestTargetVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/pr-rest-vectors.json")
	require.NoError(t, err)
	var v struct {
		Requests []struct{ Section, Target, Service, Path, Error string }
	}
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Requests)
	for _, r := range v.Requests {
		t.Run(r.Section+" "+r.Target, func(t *testing.T) {
			svc, path, err := parseTarget(r.Target)
			if r.Error != "" {
				var e *Error
				require.True(t, errors.As(err, &e), "%v", err)
				assert.Equal(t, r.Error, e.Check)
				assert.ErrorIs(t, err, ErrProtocol)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, r.Service, svc.String())
			assert.Equal(t, r.Path, path)
		})
	}
}

// TestPercentEncoding is PR-REST §4.2: the path separator is encoded only inside a part.
func TestPercentEncoding(t *testing.T) {
	assert.Equal(t, "BAR%2FSERVICE", escapePart("BAR/SERVICE"))
	assert.Equal(t, "a%3Fb", escapePart("a?b"))
	assert.Equal(t, "Sub(1)+x,y=z.", escapePart("Sub(1)+x,y=z."))
	assert.Equal(t, "%C3%84%20", escapePart("Ä "))
	got, err := decodeSegment("BAR%2FSERVICE")
	require.NoError(t, err)
	assert.Equal(t, "BAR/SERVICE", got)
	got, err = decodeSegment("%c3%84")
	require.NoError(t, err)
	assert.Equal(t, "Ä", got)
}
