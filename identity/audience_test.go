package identity_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/identity"
)

// OpenID Connect Core 1.0 §3.1.3.7, ID Token Validation, step 3 (unchanged by errata set 2):
//
//	"The Client MUST validate that the aud (audience) Claim contains its client_id value
//	registered at the Issuer identified by the iss (issuer) Claim as an audience. The aud
//	(audience) Claim MAY contain an array with more than one element. The ID Token MUST be
//	rejected if the ID Token does not list the Client as a valid audience, or if it
//	contains additional audiences not trusted by the Client."
//
// Steps 4 and 5 (azp) come after and do not relax step 3: an azp naming the client does
// not make the other audiences trusted.
func TestVerifyAudiences(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		claims  map[string]any
		check   string // "" when the token must be accepted
	}{
		// §3.1.3.7 step 3: the outside corpus case dpi eid verify used to accept.
		{"extra untrusted audience with azp naming the client", nil,
			map[string]any{"aud": []string{"test-client", "other-client"}, "azp": "test-client"}, "aud"},
		{"extra audience not among the trusted ones", []string{"partner"},
			map[string]any{"aud": []string{"test-client", "other-client"}, "azp": "test-client"}, "aud"},
		// §3.1.3.7 step 3: additional audiences the client trusts are allowed.
		{"trusted extra audience", []string{"partner"},
			map[string]any{"aud": []string{"test-client", "partner"}, "azp": "test-client"}, ""},
		// §3.1.3.7 steps 4 and 5: azp, when present or with several audiences, names us.
		{"azp naming another client", []string{"partner"},
			map[string]any{"aud": []string{"test-client", "partner"}, "azp": "partner"}, "azp"},
		{"trusted extra audience without azp", []string{"partner"},
			map[string]any{"aud": []string{"test-client", "partner"}}, "azp"},
		{"single audience naming another client with trusted audiences", []string{"partner"},
			map[string]any{"aud": "partner"}, "aud"},
		// §3.1.3.7 step 3: the common case.
		{"single audience is the client", nil, map[string]any{"aud": "test-client"}, ""},
		{"single audience array is the client", nil, map[string]any{"aud": []string{"test-client"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			idp := startIdP(t, dpitest.IdPOptions{Now: clk.Now})
			v := newVerifier(t, identity.Config{Now: clk.Now, Issuers: []identity.Issuer{{
				URL: idp.Issuer(), ClientID: "test-client", TrustedAudiences: tt.trusted,
			}}})
			claims := map[string]any{"nonce": nonce}
			for k, val := range tt.claims {
				claims[k] = val
			}
			id, err := v.Verify(ctx(t), mint(t, idp, claims), identity.Expect{Nonce: nonce})
			if tt.check == "" {
				require.NoError(t, err)
				assert.Equal(t, dpitest.TestSubject, id.Subject)
				return
			}
			assert.ErrorIs(t, err, identity.ErrAudience)
			var re *identity.RejectedError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.check, re.Check)
		})
	}
}

func TestTrustedAudiencesConfig(t *testing.T) {
	_, err := identity.NewVerifier(identity.Config{Issuers: []identity.Issuer{{
		URL: "https://idp.example", ClientID: "c", TrustedAudiences: []string{""},
	}}})
	assert.ErrorIs(t, err, identity.ErrConfig)
}
