package interop_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/interop"
)

// prRestVectors is testdata/pr-rest-vectors.json: the worked examples of the X-Road message
// protocol for REST, and cases derived from its rules.
type prRestVectors struct {
	Clients []struct {
		Section, Text, Canonical, Error string
		Parts                           []string
	}
	Services []struct {
		Section, Text, DecodedCode, Error string
		Parts                             []string
	}
	RepresentedParties []struct {
		Section, Text, Class, Code, Error string
	}
	Requests []struct {
		Section, Method, Target, Client, Service, Path, Error string
	}
	Faults []struct {
		Section, Header, Body string
		Status                int
	}
	RequestHashes struct {
		Values []struct{ Section, Value string }
	}
}

func loadVectors(t *testing.T) *prRestVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/pr-rest-vectors.json")
	require.NoError(t, err)
	var v prRestVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Clients)
	return &v
}

func assertIdentifierError(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, interop.ErrIdentifier)
	var e *interop.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, interop.CheckIdentifier, e.Check)
	assert.Contains(t, e.Reason, want)
}

func TestClientIDVectors(t *testing.T) {
	for _, v := range loadVectors(t).Clients {
		t.Run(v.Section+" "+v.Text, func(t *testing.T) {
			id, err := interop.ParseClientID(v.Text)
			if v.Error != "" {
				assertIdentifierError(t, err, v.Error)
				return
			}
			require.NoError(t, err)
			got := []string{id.Instance, id.Class, id.Member}
			if id.IsSubsystem() {
				got = append(got, id.Subsystem)
			}
			assert.Equal(t, v.Parts, got)
			want := v.Canonical
			if want == "" {
				want = v.Text
			}
			assert.Equal(t, want, id.String())
			assert.NoError(t, id.Validate())
			again, err := interop.ParseClientID(id.String())
			require.NoError(t, err)
			assert.Equal(t, id, again)
			assert.Equal(t, interop.ClientID{Instance: id.Instance, Class: id.Class, Member: id.Member}, id.MemberID())
		})
	}
}

func TestServiceIDVectors(t *testing.T) {
	for _, v := range loadVectors(t).Services {
		t.Run(v.Section+" "+v.Text, func(t *testing.T) {
			id, err := interop.ParseServiceID(v.Text)
			if v.Error != "" {
				assertIdentifierError(t, err, v.Error)
				return
			}
			require.NoError(t, err)
			got := []string{id.Provider.Instance, id.Provider.Class, id.Provider.Member, id.Provider.Subsystem, id.Code}
			if id.Version != "" {
				got = append(got, id.Version)
			}
			assert.Equal(t, v.Parts, got)
			assert.Equal(t, v.Text, id.String())
			assert.NoError(t, id.Validate())
		})
	}
}

func TestRepresentedPartyVectors(t *testing.T) {
	for _, v := range loadVectors(t).RepresentedParties {
		t.Run(v.Section+" "+v.Text, func(t *testing.T) {
			p, err := interop.ParseRepresentedParty(v.Text)
			if v.Error != "" {
				assertIdentifierError(t, err, v.Error)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, interop.RepresentedParty{Class: v.Class, Code: v.Code}, p)
			assert.Equal(t, v.Text, p.String())
		})
	}
}

// TestRequestHashVectors checks that the request hashes of the document's examples have the
// form this package's hashes have: base64 of the 64 bytes of a SHA-512.
func TestRequestHashVectors(t *testing.T) {
	for _, v := range loadVectors(t).RequestHashes.Values {
		b, err := base64.StdEncoding.Strict().DecodeString(v.Value)
		require.NoError(t, err, v.Section)
		assert.Len(t, b, 64, v.Section)
	}
}

func TestIdentifierText(t *testing.T) {
	c := interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000310", Subsystem: "a?b"}
	b, err := json.Marshal(map[string]any{"client": c})
	require.NoError(t, err)
	assert.JSONEq(t, `{"client":"EE/GOV/70000310/a%3Fb"}`, string(b))
	var back map[string]interop.ClientID
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back["client"])

	s := interop.ServiceID{Provider: interop.ClientID{Instance: "EE", Class: "GOV", Member: "1", Subsystem: "reg"}, Code: "person", Version: "v2"}
	b, err = s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "EE/GOV/1/reg/person/v2", string(b))
	var s2 interop.ServiceID
	require.NoError(t, s2.UnmarshalText(b))
	assert.Equal(t, s, s2)

	for _, bad := range []any{
		interop.ClientID{},
		interop.ClientID{Instance: "EE", Class: "GOV", Member: "1 2"},
		interop.ServiceID{Provider: interop.ClientID{Instance: "EE", Class: "GOV", Member: "1"}, Code: "x"},
		interop.ServiceID{Provider: interop.ClientID{Instance: "EE", Class: "GOV", Member: "1", Subsystem: "s"}},
	} {
		_, err := json.Marshal(bad)
		assert.ErrorIs(t, err, interop.ErrIdentifier, "%#v", bad)
	}
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'a'
	}
	_, err = interop.ParseClientID("EE/GOV/" + string(long))
	assertIdentifierError(t, err, "longer")
	assert.ErrorIs(t, interop.RepresentedParty{Class: "_"}.Validate(), interop.ErrIdentifier)
}
