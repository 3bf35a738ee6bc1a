package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/interop"
	"github.com/dpiblocks/dpi/store"
)

// Benchmarks of package interop (BENCHMARKS.md, "interop"): request/response pairs over
// loopback, plain HTTP beside signed envelopes on the same handler, the signature arithmetic
// alone, and events through an embedded NATS JetStream server.
//
//	go test -run '^$' -bench 'InteropPairs|InteropArithmetic' -benchtime 3s -count 3
//	go test -run '^$' -bench 'InteropEvents' -benchtime 20000x -count 3

var (
	benchClientA = interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000001", Subsystem: "benefits"}
	benchAgencyB = interop.ClientID{Instance: "EE", Class: "GOV", Member: "70000002", Subsystem: "registry"}
	benchService = interop.ServiceID{Provider: benchAgencyB, Code: "person"}
)

// interopClients is how many goroutines send pairs at once (b.RunParallel with
// GOMAXPROCS × this): enough to keep both cores busy while others wait on the loopback.
// DPI_BENCH_INTEROP_CLIENTS overrides it, to see how logged pairs, which wait on two durable
// commits each, scale with the pairs in flight.
var interopClients = func() int {
	if n, err := strconv.Atoi(os.Getenv("DPI_BENCH_INTEROP_CLIENTS")); err == nil && n > 0 && n <= 256 {
		return n
	}
	return 8
}()

// The request and response bodies: a small JSON query and answer, as agencies exchange.
var (
	interopQuery  = []byte(`{"country":"BR","scheme":"cpf","nationalId":"39053344705","purpose":"housing-benefit"}`)
	interopAnswer = []byte(`{"year":2025,"monthlyBRL":4200,"employer":"Agency C","declaredAt":"2026-04-30T12:00:00Z"}` + "\n")
)

func interopHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(interopAnswer)
	})
}

// interopWorld is both agencies' keys and trust, as in the examples.
type interopWorld struct {
	pki          *dpitest.PKI
	signA, signB *interop.Signer
	credA        *dpitest.Credential
	verifier     *interop.Verifier
}

func newInteropWorld(b *testing.B, kt dpitest.KeyType) *interopWorld {
	b.Helper()
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	require.NoError(b, err)
	b.Cleanup(pki.Close)
	credA, err := pki.Issue(dpitest.CertOptions{CommonName: "agency A", KeyType: kt})
	require.NoError(b, err)
	credB, err := pki.Issue(dpitest.CertOptions{CommonName: "agency B", KeyType: kt})
	require.NoError(b, err)
	w := &interopWorld{pki: pki, credA: credA}
	w.signA, err = interop.NewSigner(credA.Key, credA.Chain)
	require.NoError(b, err)
	w.signB, err = interop.NewSigner(credB.Key, credB.Chain)
	require.NoError(b, err)
	dir, err := interop.NewStaticDirectory(
		interop.Member{ID: benchClientA, Certificates: credA.Chain[:1]},
		interop.Member{ID: benchAgencyB, Certificates: credB.Chain[:1]},
	)
	require.NoError(b, err)
	// Revocation is the caller's seam (an OCSP cache, CRLs); it is left out of the
	// measurement, which covers what interop itself does.
	w.verifier, err = interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, SkipRevocationUnsafe: true})
	require.NoError(b, err)
	return w
}

// benchLog opens an agency's evidence log in its own SQLite file (WAL, synchronous=FULL).
func benchLog(b *testing.B, origin string) *evidence.Log {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "evidence.db"))
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, Signer: key})
	require.NoError(b, err)
	return l
}

func loopbackClient(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}
}

func baseTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 4 * interopClients * 2
	return t
}

// runPairs posts the query b.N times from GOMAXPROCS × interopClients goroutines, reads each
// answer to its end, and reports pairs/s and the process's CPU time per pair (cpu-µs/op:
// both agencies, client and server, run in this process), which holds on a shared machine.
func runPairs(b *testing.B, client *http.Client, url string) {
	b.Helper()
	var failed atomic.Int64
	b.SetParallelism(interopClients)
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", bytes.NewReader(interopQuery))
			if err != nil {
				failed.Add(1)
				continue
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, interopAnswer) {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	cpu.report(b, b.N)
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d pairs failed", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkInteropPairsPlain: the same handler and bodies over plain HTTP, no envelope, no log.
func BenchmarkInteropPairsPlain(b *testing.B) {
	srv := httptest.NewServer(interopHandler())
	b.Cleanup(srv.Close)
	runPairs(b, loopbackClient(baseTransport()), srv.URL+"/v1/income")
}

func benchPairsSigned(b *testing.B, kt dpitest.KeyType) {
	for _, logged := range []bool{false, true} {
		name := "unlogged"
		if logged {
			name = "logged"
		}
		b.Run(name, func(b *testing.B) {
			w := newInteropWorld(b, kt)
			hcfg := interop.HandlerConfig{Provider: benchAgencyB, Signer: w.signB, Verifier: w.verifier}
			tcfg := interop.TransportConfig{Client: benchClientA, Service: benchService, Signer: w.signA, Verifier: w.verifier, Base: baseTransport()}
			if logged {
				hcfg.Log = benchLog(b, "agency-b.example/interop")
				tcfg.Log = benchLog(b, "agency-a.example/interop")
			}
			h, err := interop.NewHandler(hcfg, interopHandler())
			require.NoError(b, err)
			srv := httptest.NewServer(h)
			b.Cleanup(srv.Close)
			t, err := interop.NewTransport(tcfg)
			require.NoError(b, err)
			runPairs(b, loopbackClient(t), srv.URL+"/v1/income")
		})
	}
}

// BenchmarkInteropPairsES256: each request and response signed with ECDSA P-256, verified
// (chain to the root, directory, window, replay store in memory) and, in "logged", appended
// to each agency's evidence log in SQLite.
func BenchmarkInteropPairsES256(b *testing.B) { benchPairsSigned(b, dpitest.ECDSAP256) }

// BenchmarkInteropPairsEdDSA: the same with Ed25519 keys.
func BenchmarkInteropPairsEdDSA(b *testing.B) { benchPairsSigned(b, dpitest.Ed25519) }

// BenchmarkInteropArithmetic is the signature arithmetic of one message alone: a signature
// and its verification over a SHA-256 of a message the size of an envelope's signing input,
// and the two certificate signatures x509 checks for the chain (leaf by intermediate,
// intermediate by root, ECDSA P-256 in the test PKI).
func BenchmarkInteropArithmetic(b *testing.B) {
	w := newInteropWorld(b, dpitest.ECDSAP256)
	msg := []byte(strings.Repeat("x", 480)) // a request envelope's signing input is ~450 to 500 bytes
	b.Run("ES256-sign+verify", func(b *testing.B) {
		key := w.credA.Key.(*ecdsa.PrivateKey)
		for b.Loop() {
			h := sha256.Sum256(msg)
			sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
			if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, h[:], sig) {
				b.Fatal("ES256 failed")
			}
		}
	})
	b.Run("EdDSA-sign+verify", func(b *testing.B) {
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(b, err)
		for b.Loop() {
			if !ed25519.Verify(pub, msg, ed25519.Sign(key, msg)) {
				b.Fatal("EdDSA failed")
			}
		}
	})
	b.Run("x509-chain", func(b *testing.B) {
		inter := x509.NewCertPool()
		inter.AddCert(w.credA.Chain[1])
		opts := x509.VerifyOptions{Roots: w.pki.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		for b.Loop() {
			if _, err := w.credA.Chain[0].Verify(opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchNATS starts an embedded NATS server with JetStream on a temporary store and a stream
// capturing bench.>, with a durable pull consumer.
func benchNATS(b *testing.B) (jetstream.JetStream, jetstream.Consumer) {
	b.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(b, err)
	srv.Start()
	require.True(b, srv.ReadyForConnections(10*time.Second))
	b.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	require.NoError(b, err)
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(b, err)
	ctx := context.Background()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}, Storage: jetstream.FileStorage, Duplicates: interop.DefaultMaxSkew})
	require.NoError(b, err)
	c, err := js.CreateOrUpdateConsumer(ctx, "BENCH", jetstream.ConsumerConfig{Durable: "reader", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(b, err)
	return js, c
}

// publishParallel calls publish b.N times from GOMAXPROCS × interopClients goroutines.
func publishParallel(b *testing.B, publish func(i int64) error) {
	b.Helper()
	var n, failed atomic.Int64
	b.SetParallelism(interopClients)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if publish(n.Add(1)) != nil {
				failed.Add(1)
			}
		}
	})
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d publishes failed", f, b.N)
	}
}

// BenchmarkInteropEvents: b.N events published (each stored in the stream, file storage,
// with de-duplication by ID) and then consumed with explicit acknowledgements. "plain"
// publishes the same event JSON unsigned and acknowledges what it reads; "signed" goes
// through interop's Publisher and Consumer (sign, verify, strict parse). Each reports
// published/s and consumed/s.
func BenchmarkInteropEvents(b *testing.B) {
	ctx := context.Background()
	event := func(i int64) *interop.Event {
		return &interop.Event{ID: fmt.Sprintf("evt-%d", i), Type: "record.shared", Subject: "record-42", DataContentType: "application/json", Data: interopAnswer[:len(interopAnswer)-1]}
	}
	consume := func(b *testing.B, c jetstream.Consumer, run func(ctx context.Context, done func()) error) {
		b.Helper()
		start := time.Now()
		ctx, cancel := context.WithCancel(ctx)
		require.NoError(b, run(ctx, cancel))
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "consumed/s")
	}
	b.Run("plain", func(b *testing.B) {
		js, c := benchNATS(b)
		body := []byte(`{"specversion":"1.0","id":"evt-0","source":"EE/GOV/70000002/registry","type":"record.shared","subject":"record-42","datacontenttype":"application/json","data":` + strings.TrimSpace(string(interopAnswer)) + `}`)
		start := time.Now()
		publishParallel(b, func(i int64) error {
			_, err := js.Publish(ctx, "bench.record.shared", body, jetstream.WithMsgID(fmt.Sprintf("evt-%d", i)))
			return err
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "published/s")
		consume(b, c, func(ctx context.Context, done func()) error {
			it, err := c.Messages()
			if err != nil {
				return err
			}
			defer it.Stop()
			for range b.N {
				m, err := it.Next(jetstream.NextContext(ctx))
				if err != nil {
					return err
				}
				if err := m.Ack(); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("signed", func(b *testing.B) {
		js, c := benchNATS(b)
		w := newInteropWorld(b, dpitest.ECDSAP256)
		p, err := interop.NewPublisher(interop.PublisherConfig{Source: benchAgencyB, Signer: w.signB, JetStream: js, Subject: "bench"})
		require.NoError(b, err)
		start := time.Now()
		publishParallel(b, func(i int64) error {
			_, err := p.Publish(ctx, event(i))
			return err
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "published/s")
		consume(b, c, func(ctx context.Context, done func()) error {
			var got atomic.Int64
			cons, err := interop.NewConsumer(interop.ConsumerConfig{Consumer: c, Verifier: w.verifier,
				Handler: func(context.Context, *interop.Event) error {
					if got.Add(1) == int64(b.N) {
						done()
					}
					return nil
				},
				Refused: func(_ jetstream.Msg, err error) { b.Error(err) },
			})
			if err != nil {
				return err
			}
			return cons.Run(ctx)
		})
	})
}
