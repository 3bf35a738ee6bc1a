package notify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/internal/testenv"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// standardWebhooksNPM is the reference JavaScript library of Standard Webhooks that our
// signatures must verify with.
const standardWebhooksNPM = "standardwebhooks@1.1.1"

// verifyScript checks a request we signed with the reference library (v1) and with node's
// own Ed25519 (v1a, which the library does not verify), checks that a changed body is
// refused, and signs a body for us to verify.
const verifyScript = `
const { Webhook } = require("standardwebhooks");
const crypto = require("node:crypto");
const fs = require("node:fs");
const c = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const headers = { "webhook-id": c.id, "webhook-timestamp": c.timestamp, "webhook-signature": c.signature };
const wh = new Webhook(c.secret);
const payload = wh.verify(c.body, headers);
let tamperedRefused = false;
try { wh.verify(c.body + " ", headers); } catch (e) { tamperedRefused = true; }
const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(c.publicKey, "base64")]);
const key = crypto.createPublicKey({ key: spki, format: "der", type: "spki" });
const v1a = c.signature.split(" ").find((s) => s.startsWith("v1a,")).slice(4);
const ed25519 = crypto.verify(null, Buffer.from(c.id + "." + c.timestamp + "." + c.body), key, Buffer.from(v1a, "base64"));
const now = new Date();
const nodeSignature = wh.sign("msg_from_node", now, c.body);
console.log(JSON.stringify({ id: payload.data.id, text: payload.data.text, tamperedRefused, ed25519,
  nodeSignature, nodeTimestamp: String(Math.floor(now.getTime() / 1000)) }));
`

// Our webhooks verify with the npm standardwebhooks package, and its signatures verify with
// ours.
func TestStandardWebhooksNPM(t *testing.T) {
	node := testenv.Tool(t, "node")
	npm := testenv.Tool(t, "npm")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, standardWebhooksNPM)
	install.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(dir, ".npm"))
	if out, err := install.CombinedOutput(); err != nil {
		t.Logf("npm install: %v\n%s", err, out)
		testenv.Missing(t, "the npm package "+standardWebhooksNPM+" (npm install failed)")
	}

	c := &capture{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	key := ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	w, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{testSecret}, Keys: []ed25519.PrivateKey{key}, InsecureAllowHTTP: true})
	require.NoError(t, err)
	text := "Estimada Ana: su solicitud «A-42» fue aprobada ✓\n\n• pasaporte\n• foto"
	require.NoError(t, w.Deliver(ctx, &notify.Delivery{ID: "ntf_interop", Attempt: 1, To: srv.URL, Reference: "A-42",
		Created: time.Now(), Content: notify.Content{Text: text}}))
	c.mu.Lock()
	header, body := c.header, c.body
	c.mu.Unlock()

	in, err := json.Marshal(map[string]string{
		"secret": testSecret, "publicKey": base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
		"id": header.Get(notify.HeaderWebhookID), "timestamp": header.Get(notify.HeaderWebhookTimestamp),
		"signature": header.Get(notify.HeaderWebhookSignature), "body": string(body),
	})
	require.NoError(t, err)
	inFile := filepath.Join(dir, "request.json")
	require.NoError(t, os.WriteFile(inFile, in, 0o600))
	script := filepath.Join(dir, "verify.js")
	require.NoError(t, os.WriteFile(script, []byte(verifyScript), 0o600))
	run := exec.CommandContext(ctx, node, script, inFile)
	run.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	run.Dir = dir
	out, err := run.Output()
	require.NoError(t, err, "node refused our webhook: %s", exitStderr(err))
	var got struct {
		ID              string `json:"id"`
		Text            string `json:"text"`
		TamperedRefused bool   `json:"tamperedRefused"`
		Ed25519         bool   `json:"ed25519"`
		NodeSignature   string `json:"nodeSignature"`
		NodeTimestamp   string `json:"nodeTimestamp"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, "ntf_interop", got.ID)
	assert.Equal(t, text, got.Text)
	assert.True(t, got.TamperedRefused)
	assert.True(t, got.Ed25519, "node's Ed25519 verifies our v1a signature")

	v, err := notify.NewWebhookVerifier(notify.WebhookVerifierConfig{Secrets: []string{testSecret}})
	require.NoError(t, err)
	h := http.Header{}
	h.Set(notify.HeaderWebhookID, "msg_from_node")
	h.Set(notify.HeaderWebhookTimestamp, got.NodeTimestamp)
	h.Set(notify.HeaderWebhookSignature, got.NodeSignature)
	assert.NoError(t, v.Verify(h, body), "the library's signature verifies with ours")
	_, err = strconv.ParseInt(got.NodeTimestamp, 10, 64)
	assert.NoError(t, err)

	// A status callback, sent through the outbox, verifies with the library too.
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	cbSrv := httptest.NewServer(&capture{})
	defer cbSrv.Close()
	cbCapture := cbSrv.Config.Handler.(*capture)
	o, err := notify.Open(ctx, db, notify.Config{Log: openLog(t, db), Channels: []notify.Channel{w}, Callbacks: w})
	require.NoError(t, err)
	m := message(srv.URL, "interop-callback")
	m.CallbackURL = cbSrv.URL
	id, err := o.Send(ctx, m)
	require.NoError(t, err)
	require.NoError(t, dispatcher(t, o, 1).RunUntilEmpty(ctx))
	cbCapture.mu.Lock()
	header, body = cbCapture.header, cbCapture.body
	cbCapture.mu.Unlock()
	require.NotNil(t, header, "the callback was sent")
	in, err = json.Marshal(map[string]string{"secret": testSecret, "id": header.Get(notify.HeaderWebhookID),
		"timestamp": header.Get(notify.HeaderWebhookTimestamp), "signature": header.Get(notify.HeaderWebhookSignature), "body": string(body)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(inFile, in, 0o600))
	script = filepath.Join(dir, "callback.js")
	require.NoError(t, os.WriteFile(script, []byte(callbackScript), 0o600))
	run = exec.CommandContext(ctx, node, script, inFile)
	run.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	run.Dir = dir
	out, err = run.Output()
	require.NoError(t, err, "node refused our status callback: %s", exitStderr(err))
	var cb notify.StatusCallback
	require.NoError(t, json.Unmarshal(out, &cb), "%s", out)
	assert.Equal(t, notify.StatusCallbackEventType, cb.Type)
	assert.Equal(t, id, cb.Data.ID)
	assert.Equal(t, notify.Delivered, cb.Data.Status)
}

// callbackScript verifies a status callback with the reference library and prints its
// payload.
const callbackScript = `
const { Webhook } = require("standardwebhooks");
const fs = require("node:fs");
const c = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const headers = { "webhook-id": c.id, "webhook-timestamp": c.timestamp, "webhook-signature": c.signature };
console.log(JSON.stringify(new Webhook(c.secret).verify(c.body, headers)));
`

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
