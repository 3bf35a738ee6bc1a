package interop_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/internal/limits"
	"github.com/dpiblocks/dpi/interop"
)

// TestSignedMessage signs messages outside HTTP and verifies them: the body byte for byte,
// the routing fields, the signer; then refuses a replay, an expired message, one from the
// future, and one edited on the way.
func TestSignedMessage(t *testing.T) {
	for _, kt := range []dpitest.KeyType{dpitest.ECDSAP256, dpitest.Ed25519} {
		t.Run(kt.String(), func(t *testing.T) {
			w := newWorld(t, kt)
			ctx := context.Background()
			body := []byte("\x00\xffnot UTF-8, and a trailing newline\n")
			at := time.Now().Add(-time.Minute).Truncate(time.Second).UTC()
			data, err := w.signA.SignMessage(&interop.SignedMessage{Client: agencyA, Service: service, ID: "m-1", SignedAt: at, Body: body})
			require.NoError(t, err)
			seen := interop.NewMemorySeenIDs(interop.SeenConfig{})
			m, err := w.verify.VerifyMessage(ctx, data, seen)
			require.NoError(t, err)
			assert.Equal(t, body, m.Body)
			assert.Equal(t, agencyA, m.Client)
			assert.Equal(t, service, m.Service)
			assert.Equal(t, "m-1", m.ID)
			assert.Equal(t, at, m.SignedAt)
			assert.Equal(t, at.Add(interop.DefaultMessageLifetime), m.Expires)
			assert.Equal(t, w.a.Cert.Raw, m.Signer.Raw)

			_, err = w.verify.VerifyMessage(ctx, data, seen)
			assert.ErrorIs(t, err, interop.ErrReplay)
			_, err = w.verify.VerifyMessage(ctx, data, nil)
			assert.ErrorIs(t, err, interop.ErrConfig, "a replay store is required")

			fresh := func() interop.SeenIDs { return interop.NewMemorySeenIDs(interop.SeenConfig{}) }
			late := w.verifier(t, interop.VerifierConfig{Now: func() time.Time { return at.Add(interop.DefaultMessageLifetime) }})
			_, err = late.VerifyMessage(ctx, data, fresh())
			assert.ErrorIs(t, err, interop.ErrExpired)
			early := w.verifier(t, interop.VerifierConfig{Now: func() time.Time { return at.Add(-time.Hour) }})
			_, err = early.VerifyMessage(ctx, data, fresh())
			assert.ErrorIs(t, err, interop.ErrClockSkew)

			// B's certificate is listed for B only.
			byB, err := w.signB.SignMessage(&interop.SignedMessage{Client: agencyA, Service: service, Body: body})
			require.NoError(t, err)
			_, err = w.verify.VerifyMessage(ctx, byB, fresh())
			assert.ErrorIs(t, err, interop.ErrUnknownMember)

			var flat map[string]string
			require.NoError(t, json.Unmarshal(data, &flat))
			reencode := func(f func(map[string]string)) []byte {
				c := map[string]string{}
				for k, v := range flat {
					c[k] = v
				}
				f(c)
				b, err := json.Marshal(c)
				require.NoError(t, err)
				return b
			}
			header := func(edit func(h map[string]any)) func(map[string]string) {
				return func(c map[string]string) {
					raw, err := base64URL.DecodeString(c["protected"])
					require.NoError(t, err)
					var h map[string]any
					require.NoError(t, json.Unmarshal(raw, &h))
					edit(h)
					b, err := json.Marshal(h)
					require.NoError(t, err)
					c["protected"] = base64URL.EncodeToString(b)
				}
			}
			for name, tc := range map[string]struct {
				data []byte
				want error
			}{
				"body swapped":      {reencode(func(c map[string]string) { c["payload"] = base64URL.EncodeToString([]byte("other")) }), interop.ErrSignature},
				"service changed":   {reencode(header(func(h map[string]any) { h["service"] = "EE/GOV/70000002/registry/other" })), interop.ErrSignature},
				"id changed":        {reencode(header(func(h map[string]any) { h["id"] = "m-2" })), interop.ErrSignature},
				"client changed":    {reencode(header(func(h map[string]any) { h["client"] = agencyB.String() })), interop.ErrUnknownMember},
				"kid added":         {reencode(header(func(h map[string]any) { h["kid"] = "x" })), interop.ErrMalformed},
				"exp missing":       {reencode(header(func(h map[string]any) { delete(h, "exp") })), interop.ErrMalformed},
				"exp far ahead":     {reencode(header(func(h map[string]any) { h["exp"] = at.Add(limits.MaxInteropMessageLifetime + time.Hour).Unix() })), interop.ErrMalformed},
				"alg none":          {reencode(header(func(h map[string]any) { h["alg"] = "none" })), interop.ErrAlgorithm},
				"typ of envelopes":  {reencode(header(func(h map[string]any) { h["typ"] = "dpi-interop+jws" })), interop.ErrMalformed},
				"unprotected field": {reencode(func(c map[string]string) { c["header"] = "x" }), interop.ErrMalformed},
				"general form": {[]byte(`{"payload":"` + flat["payload"] + `","signatures":[{"protected":"` + flat["protected"] +
					`","signature":"` + flat["signature"] + `"}]}`), interop.ErrMalformed},
				"compact":  {[]byte(flat["protected"] + "." + flat["payload"] + "." + flat["signature"]), interop.ErrMalformed},
				"empty":    {[]byte(" \n"), interop.ErrMalformed},
				"oversize": {[]byte(`{"payload":"` + strings.Repeat("A", limits.MaxInteropMessage) + `"}`), interop.ErrMalformed},
			} {
				_, err := w.verify.VerifyMessage(ctx, tc.data, fresh())
				assert.ErrorIs(t, err, tc.want, name)
			}
		})
	}
}

func TestSignMessageRefuses(t *testing.T) {
	w := newWorld(t, dpitest.ECDSAP256)
	now := time.Now()
	for name, m := range map[string]*interop.SignedMessage{
		"nil":             nil,
		"no client":       {Service: service},
		"no service":      {Client: agencyA},
		"id with a space": {Client: agencyA, Service: service, ID: "a b"},
		"lives too long":  {Client: agencyA, Service: service, SignedAt: now, Expires: now.Add(limits.MaxInteropMessageLifetime + time.Second)},
		"expires first":   {Client: agencyA, Service: service, SignedAt: now, Expires: now.Add(-time.Second)},
		"body too long":   {Client: agencyA, Service: service, Body: make([]byte, limits.MaxInteropMessageBody+1)},
	} {
		_, err := w.signA.SignMessage(m)
		assert.ErrorIs(t, err, interop.ErrConfig, name)
	}
}
