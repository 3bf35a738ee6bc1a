package notify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// rejectedProof makes the proof of a notice deemed rejected under Spain's rule, with its
// alert delivered, and returns it as JSON with the log's verifier.
func rejectedProof(t testing.TB, db *store.DB) (*legalFixture, string, []byte, *evidence.Verifier) {
	t.Helper()
	f := newLegalFixture(t, db, notify.RuleES, calendar(t, cet))
	id := f.send(t, f.notice("psn-ana", "exp-7"))
	f.clk.Set(at(cet, 2026, 3, 13, 0, 5))
	f.deem(t)
	p, err := f.legal.Proof(context.Background(), id)
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	v, err := evidence.NewVerifier(testOrigin, logKey.Public())
	require.NoError(t, err)
	return f, id, b, v
}

func TestProofVerifiesOffline(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		f, id, b, v := rejectedProof(t, db)
		st, err := notify.VerifyProof(b, &agencyKey.PublicKey, v)
		require.NoError(t, err)
		n, err := f.mailbox.Notice(ctx, "psn-ana", id)
		require.NoError(t, err)
		assert.Equal(t, id, st.ID)
		assert.Equal(t, "agency.example", st.Sender)
		assert.Equal(t, "psn-ana", st.Recipient)
		assert.Equal(t, "EXP-7", st.Reference)
		assert.Equal(t, notify.Content{Subject: n.Subject, Text: n.Text}.Hash(), st.ContentHash)
		assert.Equal(t, n.ContentHash, st.ContentHash)
		assert.Equal(t, notify.DeemedRejected, st.Status)
		assert.Equal(t, "ES-LPAC-43.2", st.Rule)
		assert.Equal(t, "ES", st.Country)
		assert.True(t, n.MadeAvailable.Equal(st.MadeAvailable))
		assert.False(t, st.Alerted.IsZero(), "the alert was delivered")
		assert.NotEmpty(t, st.AlertID)
		assert.True(t, st.Opened.IsZero())
		assert.True(t, at(cet, 2026, 3, 13, 0, 0).Equal(st.Served))
		require.Len(t, st.Evidence, 3)
		assert.Equal(t, []notify.Status{notify.MadeAvailable, notify.DeemedRejected, notify.Delivered},
			[]notify.Status{st.Evidence[0].Status, st.Evidence[1].Status, st.Evidence[2].Status})

		// ParseProof reads back what Proof made.
		p, err := notify.ParseProof(b)
		require.NoError(t, err)
		assert.Len(t, p.Inclusion, 3)
	})
}

func TestProofOpened(t *testing.T) {
	storetest.Run(t, func(t *testing.T, _ string, db *store.DB) {
		ctx := context.Background()
		ek := ed25519.NewKeyFromSeed(make([]byte, 32))
		f := newLegalFixture(t, db, notify.RuleBR, calendar(t, cet), func(c *notify.LegalConfig) { c.Signer = ek })
		n := f.notice("psn-ana", "")
		n.Alert = nil
		id := f.send(t, n)

		// Before it is opened: a proof of availability, not of service.
		p, err := f.legal.Proof(ctx, id)
		require.NoError(t, err)
		b, _ := json.Marshal(p)
		v, _ := evidence.NewVerifier(testOrigin, logKey.Public())
		st, err := notify.VerifyProof(b, ek.Public(), v)
		require.NoError(t, err)
		assert.Equal(t, notify.MadeAvailable, st.Status)
		assert.True(t, st.Served.IsZero())

		f.clk.Add(26 * 60 * 60 * 1e9)
		_, err = f.mailbox.Open(ctx, "psn-ana", id)
		require.NoError(t, err)
		p, err = f.legal.Proof(ctx, id)
		require.NoError(t, err)
		b, _ = json.Marshal(p)
		st, err = notify.VerifyProof(b, ek.Public(), v)
		require.NoError(t, err)
		assert.Equal(t, notify.Opened, st.Status)
		assert.True(t, st.Opened.Equal(f.clk.Now()))
		assert.True(t, st.Served.Equal(st.Opened), "served when consulted, Decreto 70.235 art. 23 §2 III b")
		assert.Len(t, st.Evidence, 2)
	})
}

// TestProofTampered: every change to a proof is refused, with the check that caught it.
func TestProofTampered(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	_, _, good, v := rejectedProof(t, db)

	edit := func(fn func(p map[string]any)) []byte {
		var p map[string]any
		require.NoError(t, json.Unmarshal(good, &p))
		fn(p)
		b, err := json.Marshal(p)
		require.NoError(t, err)
		return b
	}
	// resign replaces the statement with an edited one, signed by another key.
	statement := func(p map[string]any) map[string]any {
		parts := strings.Split(p["signed"].(string), ".")
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var st map[string]any
		require.NoError(t, json.Unmarshal(raw, &st))
		return st
	}
	setPayload := func(p map[string]any, st map[string]any) {
		parts := strings.Split(p["signed"].(string), ".")
		raw, _ := json.Marshal(st)
		parts[1] = base64.RawURLEncoding.EncodeToString(raw)
		p["signed"] = strings.Join(parts, ".")
	}
	tests := []struct {
		name  string
		proof []byte
		check string
	}{
		{"not JSON", []byte("{"), "format"},
		{"unknown field", edit(func(p map[string]any) { p["extra"] = 1 }), "format"},
		{"other format", edit(func(p map[string]any) { p["format"] = "dpi-notify-proof/v0" }), "format"},
		{"no inclusion", edit(func(p map[string]any) { p["inclusion"] = []any{} }), "evidence"},
		{"statement edited", edit(func(p map[string]any) {
			st := statement(p)
			st["recipient"] = "psn-bob"
			setPayload(p, st)
		}), "signature"},
		{"signature flipped", edit(func(p map[string]any) {
			s := p["signed"].(string)
			last := s[len(s)-2]
			repl := byte('A')
			if last == 'A' {
				repl = 'B'
			}
			p["signed"] = s[:len(s)-2] + string(repl) + s[len(s)-1:]
		}), "signature"},
		{"alg none", edit(func(p map[string]any) {
			parts := strings.Split(p["signed"].(string), ".")
			parts[0] = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpi-notify-proof+jws"}`))
			p["signed"] = parts[0] + "." + parts[1] + "."
		}), "format"},
		{"inclusion dropped", edit(func(p map[string]any) { p["inclusion"] = p["inclusion"].([]any)[:2] }), "evidence"},
		{"inclusions swapped", edit(func(p map[string]any) {
			inc := p["inclusion"].([]any)
			inc[0], inc[1] = inc[1], inc[0]
		}), "evidence"},
		{"leaf meta edited", edit(func(p map[string]any) {
			leaf := p["inclusion"].([]any)[1].(map[string]any)["leaf"].(map[string]any)
			leaf["meta"] = base64.StdEncoding.EncodeToString([]byte(`{"status":"deemed-served"}`))
		}), "inclusion"},
		{"audit path edited", edit(func(p map[string]any) {
			ip := p["inclusion"].([]any)[0].(map[string]any)
			hashes := ip["hashes"].([]any)
			require.NotEmpty(t, hashes)
			hashes[0] = base64.StdEncoding.EncodeToString(make([]byte, 32))
		}), "inclusion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.VerifyProof(tt.proof, &agencyKey.PublicKey, v)
			require.Error(t, err)
			assert.ErrorIs(t, err, notify.ErrProof)
			var e *notify.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.check, e.Check, err.Error())
			assert.NotContains(t, err.Error(), "psn-ana", "no personal data in errors")
		})
	}

	t.Run("another agency key", func(t *testing.T) {
		other := ed25519.NewKeyFromSeed(make([]byte, 32))
		_, err := notify.VerifyProof(good, other.Public(), v)
		assert.ErrorIs(t, err, notify.ErrProof)
	})
	t.Run("another log", func(t *testing.T) {
		ov, err := evidence.NewVerifier("other.example/notify", logKey.Public())
		require.NoError(t, err)
		_, err = notify.VerifyProof(good, &agencyKey.PublicKey, ov)
		var e *notify.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "log", e.Check)
	})
	t.Run("no trust given", func(t *testing.T) {
		_, err := notify.VerifyProof(good, nil, v)
		assert.ErrorIs(t, err, notify.ErrConfig)
		_, err = notify.VerifyProof(good, &agencyKey.PublicKey, nil)
		assert.ErrorIs(t, err, notify.ErrConfig)
	})
	t.Run("too large", func(t *testing.T) {
		_, err := notify.ParseProof(make([]byte, 1<<20))
		assert.ErrorIs(t, err, notify.ErrProof)
	})
}

func FuzzVerifyProof(f *testing.F) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(f, err)
	defer db.Close()
	_, _, good, v := rejectedProof(f, db)
	f.Add(good)
	f.Add([]byte(`{"format":"dpi-notify-proof/v1","signed":"a.b.c","inclusion":[{}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := notify.VerifyProof(b, &agencyKey.PublicKey, v)
		if err == nil {
			// Only the proof Proof made verifies: anything else that did would be a forgery.
			require.Equal(t, "psn-ana", st.Recipient)
			return
		}
		if !strings.Contains(err.Error(), "proof of delivery rejected") {
			t.Fatalf("not an ErrProof: %v", err)
		}
	})
}
