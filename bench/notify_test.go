package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/notify"
	"github.com/dpiblocks/dpi/store"
)

// The end-to-end notification benchmarks: b.N notifications enqueued by notifyCallers
// concurrent callers and delivered by notifyWorkers workers to a webhook receiver on
// loopback, from the first enqueue to the last delivery. notify also signs each request
// (Standard Webhooks HMAC) and appends every status change (created, sending, delivered)
// to its evidence log in the same transaction; River's worker only POSTs the same JSON.
// DPI_BENCH_NOTIFY_CALLERS and DPI_BENCH_NOTIFY_WORKERS change them (a national service
// has many more callers than 16).
var (
	notifyCallers = benchEnvInt("DPI_BENCH_NOTIFY_CALLERS", 16)
	notifyWorkers = benchEnvInt("DPI_BENCH_NOTIFY_WORKERS", 32)
)

// benchEnvInt reads a positive integer from the environment, or gives def.
func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

const benchWebhookSecret = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

// countingReceiver answers 204 and closes done when it has seen want requests.
type countingReceiver struct {
	n    atomic.Int64
	want int64
	done chan struct{}
	once sync.Once
}

func newCountingReceiver(b *testing.B, want int) (*countingReceiver, *httptest.Server) {
	r := &countingReceiver{want: int64(want), done: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(req.Body)
		w.WriteHeader(http.StatusNoContent)
		if r.n.Add(1) >= r.want {
			r.once.Do(func() { close(r.done) })
		}
	}))
	b.Cleanup(srv.Close)
	return r, srv
}

func notifyLoopbackClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}

// enqueueConcurrently calls enqueue n times from notifyCallers goroutines.
func enqueueConcurrently(b *testing.B, n int, enqueue func(i int) error) {
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, notifyCallers)
	for range notifyCallers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := enqueue(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
}

// openBenchOutbox opens an outbox on a database handle of its own, with its evidence log
// and the webhook channel, as one service instance does.
func openBenchOutbox(b *testing.B, ctx context.Context, dsn string) *notify.Outbox {
	db, err := store.Open(ctx, dsn)
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	log, err := evidence.Open(ctx, db, evidence.Config{Origin: "bench.example/notify", Signer: ed25519.NewKeyFromSeed(make([]byte, 32))})
	require.NoError(b, err)
	hook, err := notify.NewWebhook(notify.WebhookConfig{Secrets: []string{benchWebhookSecret}, InsecureAllowHTTP: true, Client: notifyLoopbackClient()})
	require.NoError(b, err)
	o, err := notify.Open(ctx, db, notify.Config{Log: log, Channels: []notify.Channel{hook}})
	require.NoError(b, err)
	return o
}

// runNotifyEndToEnd times b.N sends, spread over the outboxes, from the first enqueue to the
// receiver's last delivery, with the dispatchers running.
func runNotifyEndToEnd(b *testing.B, outboxes []*notify.Outbox, dispatchers []*notify.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recv, srv := newCountingReceiver(b, b.N)
	tmpl, err := notify.ParseTemplate(notify.TextTemplate, "Dear ((name)), your application ((ref)) was approved.")
	require.NoError(b, err)

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, d := range dispatchers {
		wg.Go(func() { _ = d.Run(ctx) })
	}
	enqueueConcurrently(b, b.N, func(i int) error {
		_, err := outboxes[i%len(outboxes)].Send(ctx, notify.Message{Channel: "webhook", To: srv.URL + "/hook", Template: tmpl, Reference: fmt.Sprint("A-", i),
			Personalisation: map[string]any{"name": "Ana", "ref": fmt.Sprint("A-", i)}})
		return err
	})
	<-recv.done
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notifications/s")
}

func benchNotifyEndToEnd(b *testing.B, dsn string) {
	o := openBenchOutbox(b, context.Background(), dsn)
	d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: notifyWorkers, Poll: 10 * time.Millisecond})
	require.NoError(b, err)
	runNotifyEndToEnd(b, []*notify.Outbox{o}, []*notify.Dispatcher{d})
}

// notifyInstances is how many service instances the fan-out benchmark runs on one database;
// their workers add up to notifyWorkers, so that it does the same work as the end-to-end
// benchmark with the claims going through JetStream.
const notifyInstances = 2

// benchNotifyFanOut is the end-to-end benchmark with fan-out: notifyInstances instances,
// each with its own database handle, outbox, NATS connection and dispatcher, on one database
// and one embedded NATS server (JetStream on file storage in a temporary directory). Callers
// send through the instances in turn; each dispatcher publishes what it claims, and the
// workers of all share the stream's durable consumer.
func benchNotifyFanOut(b *testing.B, dsn string) {
	ctx := context.Background()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(b, err)
	srv.Start()
	require.True(b, srv.ReadyForConnections(10*time.Second))
	b.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	var outboxes []*notify.Outbox
	var dispatchers []*notify.Dispatcher
	for range notifyInstances {
		o := openBenchOutbox(b, ctx, dsn)
		nc, err := nats.Connect(srv.ClientURL())
		require.NoError(b, err)
		b.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		require.NoError(b, err)
		d, err := notify.NewDispatcher(o, notify.DispatcherConfig{Workers: notifyWorkers / notifyInstances, Poll: 10 * time.Millisecond,
			FanOut: &notify.FanOutConfig{JetStream: js}})
		require.NoError(b, err)
		outboxes, dispatchers = append(outboxes, o), append(dispatchers, d)
	}
	runNotifyEndToEnd(b, outboxes, dispatchers)
}

// riverWebhookArgs is River's job: the same JSON body notify sends.
type riverWebhookArgs struct {
	URL  string         `json:"url"`
	Body map[string]any `json:"body"`
}

func (riverWebhookArgs) Kind() string { return "webhook" }

type riverWebhookWorker struct {
	river.WorkerDefaults[riverWebhookArgs]
	client *http.Client
}

func (w *riverWebhookWorker) Work(ctx context.Context, job *river.Job[riverWebhookArgs]) error {
	body, err := json.Marshal(job.Args.Body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.Args.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func benchRiverEndToEnd(b *testing.B, dsn string) {
	u, err := url.Parse(dsn)
	require.NoError(b, err)
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(b, err)
	defer pool.Close()
	benchRiver(b, riverpgxv5.New(pool), u.Query().Get("search_path"))
}

// benchRiverSQLite runs River on a SQLite file through its riversqlite driver and the same
// modernc.org/sqlite driver dpi uses, in WAL mode with a busy timeout, as River's
// documentation for SQLite asks.
func benchRiverSQLite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "river.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)")
	require.NoError(b, err)
	defer db.Close()
	db.SetMaxOpenConns(1) // SQLite has one writer; River's tests run it so
	benchRiver(b, riversqlite.New(db), "")
}

// benchRiver times b.N River jobs that POST the same JSON as notify's webhook, from the first
// insert to the receiver's last request, with River's workers running.
func benchRiver[TTx any](b *testing.B, driver riverdriver.Driver[TTx], schema string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	recv, srv := newCountingReceiver(b, b.N)
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema})
	require.NoError(b, err)
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(b, err)
	workers := river.NewWorkers()
	river.AddWorker(workers, &riverWebhookWorker{client: notifyLoopbackClient()})
	client, err := river.NewClient(driver, &river.Config{Schema: schema, Workers: workers,
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: notifyWorkers}}})
	require.NoError(b, err)

	b.ResetTimer()
	start := time.Now()
	require.NoError(b, client.Start(ctx))
	enqueueConcurrently(b, b.N, func(i int) error {
		ref := fmt.Sprint("A-", i)
		_, err := client.Insert(ctx, riverWebhookArgs{URL: srv.URL + "/hook", Body: map[string]any{"type": "notification.sent",
			"data": map[string]any{"reference": ref, "text": "Dear Ana, your application " + ref + " was approved."}}}, nil)
		return err
	})
	<-recv.done
	elapsed := time.Since(start)
	b.StopTimer()
	stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	_ = client.Stop(stopCtx)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notifications/s")
}

func notifyPostgres(b *testing.B) string {
	base := os.Getenv("DPI_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("DPI_TEST_POSTGRES_URL is unset")
	}
	return storetest.FreshSchema(b, base)
}

func BenchmarkNotifyEndToEndSQLite(b *testing.B) {
	benchNotifyEndToEnd(b, "sqlite://"+filepath.Join(b.TempDir(), "notify.db"))
}

func BenchmarkNotifyEndToEndPostgres(b *testing.B) {
	benchNotifyEndToEnd(b, notifyPostgres(b))
}

func BenchmarkNotifyFanOutSQLite(b *testing.B) {
	benchNotifyFanOut(b, "sqlite://"+filepath.Join(b.TempDir(), "notify.db"))
}

func BenchmarkNotifyFanOutPostgres(b *testing.B) {
	benchNotifyFanOut(b, notifyPostgres(b))
}

func BenchmarkRiverEndToEndPostgres(b *testing.B) {
	benchRiverEndToEnd(b, notifyPostgres(b))
}

func BenchmarkRiverEndToEndSQLite(b *testing.B) {
	benchRiverSQLite(b)
}
