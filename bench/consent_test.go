package bench

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// Benchmarks of package consent (BENCHMARKS.md, "consent"): issue 11 asks for Authorize's
// p99 under 100 µs with 1 million records on SQLite, and at least 5,000 consent events/s
// (signed, logged, durable) on SQLite from concurrent callers, with PostgreSQL beside them.
//
//	go test -run '^$' -bench 'ConsentGiveConcurrent' -benchtime 20000x
//	go test -run '^$' -bench 'ConsentAuthorizeConcurrent' -benchtime 20000x
//	                                 Give and Authorize from 1, 8 and 64 goroutines on a fresh
//	                                 store; publish PostgreSQL figures only from a cluster
//	                                 with fsync on (the benchmark logs it)
//	DPI_BENCH_CONSENT_1M=1 go test -run '^$' -bench 'Consent.*1M' -benchtime 20000x -timeout 1h
//	                                 Check and Authorize latency (p50, p99) on a store of
//	                                 1,000,000 persons, built once through Give from 64
//	                                 goroutines (about 8 minutes on the project's machine) and
//	                                 cached in $DPI_BENCH_CONSENT_DIR (default
//	                                 $TMPDIR/dpi-bench-consent, 2.7 GB); without
//	                                 DPI_BENCH_CONSENT_1M=1 they skip
//
// Every call is timed on its own: the benchmarks report the p50, p99 and p99.9 of the calls'
// durations, calls per second, and the process's CPU time per call (cpu-µs/op), which holds on
// a machine shared with other jobs where the wall times do not. The keys are fixed, so that a
// cached store opens with the keys it was built with.

const consentOrigin = "bench.example/consent"

var (
	consentLogKey     = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	consentReceiptKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	consentPseudo     = func() *consent.Pseudonymizer {
		p, err := consent.NewPseudonymizer(bytes.Repeat([]byte{3}, consent.MinPersonKey))
		if err != nil {
			panic(err)
		}
		return p
	}()
)

// consentPerson is person i of the benchmarks' population, by an 11-digit CPF-like number.
func consentPerson(i int) consent.PersonRef {
	return consentPseudo.Person("BR", "cpf", fmt.Sprintf("%011d", i))
}

// consentManyBase numbers the persons with several records, apart from the others.
const consentManyBase = 90_000_000_000

// consentGrant is a realistic grant (consent/store_test.go's), to recipient. Its validity
// is ten years rather than the test's 90 days so that a cached store still allows when the
// benchmark is run again months later.
func consentGrant(person consent.PersonRef, recipient string) consent.Grant {
	return consent.Grant{
		Person:         person,
		Controller:     "agency-b.example",
		Recipients:     []string{recipient},
		Purposes:       []consent.Purpose{{Code: "benefits", Text: "Decide your application for housing benefit"}},
		DataCategories: []string{"income", "address"},
		LegalBasis:     "BR-LGPD-7-I",
		Notice:         consent.Notice{URL: "https://agency-b.example/notice", Version: "3", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Language:       "pt-BR",
		Method:         "web-form",
		ValidFor:       10 * 365 * 24 * time.Hour,
		Withdrawal:     "https://agency-b.example/my-data",
	}
}

func consentRequest(person consent.PersonRef, recipient string) consent.Request {
	return consent.Request{Person: person, Controller: "agency-b.example", Recipient: recipient, Purpose: "benefits", DataCategories: []string{"income"}}
}

// consentBench is a consent store on its own evidence log.
type consentBench struct {
	db  *store.DB
	log *evidence.Log
	st  *consent.Store
}

// openConsent opens a consent store on dsn through openDurable (which checks and logs that
// commits are durable). idle connections are kept in the pool, as a service with that many
// concurrent requests would configure it: database/sql keeps 2 by default, and reconnecting
// for every read would measure connection setup.
func openConsent(b *testing.B, dsn string, idle int) *consentBench {
	ctx := context.Background()
	db := openDurable(b, dsn)
	db.SetMaxIdleConns(idle)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: consentOrigin, Signer: consentLogKey})
	require.NoError(b, err)
	st, err := consent.Open(ctx, db, consent.Config{Log: l, Signer: consentReceiptKey})
	require.NoError(b, err)
	return &consentBench{db: db, log: l, st: st}
}

// processCPU returns the CPU time (user and system, every thread) the process has used, from
// /proc/self/stat in clock ticks of 10 ms, and false where there is no such file.
func processCPU() (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The fields after the command name, which is in parentheses: state is field 3, utime 14
	// and stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+s) * 10 * time.Millisecond, true
}

// cpuMeter reports the process's CPU time per call between its start and report: on a
// machine shared with other jobs, what a call costs whatever share of the cores it got.
// On PostgreSQL it leaves out the server's own processes.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	t, ok := processCPU()
	return cpuMeter{start: t, ok: ok}
}

// report reports the CPU time per call, when there is at least a quarter of a second of it:
// /proc counts in ticks of 10 ms, too coarse for less.
func (m cpuMeter) report(b *testing.B, calls int) {
	if t, ok := processCPU(); ok && m.ok && calls > 0 && t-m.start >= 250*time.Millisecond {
		b.ReportMetric(float64((t-m.start).Microseconds())/float64(calls), "cpu-µs/op")
	}
}

// latencies collects the duration of each call; each index is written by one goroutine.
type latencies []time.Duration

// report reports the calls per second over elapsed and the p50, p99 and p99.9 of the
// calls' durations, in microseconds.
func (d latencies) report(b *testing.B, elapsed time.Duration, unit string) {
	b.ReportMetric(float64(len(d))/elapsed.Seconds(), unit)
	s := slices.Clone(d)
	slices.Sort(s)
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50-µs", 0.50}, {"p99-µs", 0.99}, {"p99.9-µs", 0.999}} {
		// The nearest-rank percentile: the smallest duration with at least q of them at or
		// below it.
		k := max(int(float64(len(s))*p.q+0.999999)-1, 0)
		b.ReportMetric(float64(s[k].Nanoseconds())/1e3, p.name)
	}
}

// timedCallers runs callers goroutines that share b.N calls of fn (fn(i) for i in
// [0, b.N)), times each call, and reports calls per second (as unit) and the percentiles of
// the calls' durations. The first error stops every goroutine.
func timedCallers(b *testing.B, callers int, unit string, fn func(i int) error) {
	d := make(latencies, b.N)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu := startCPU()
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				err := fn(int(i))
				d[i] = time.Since(t0)
				if err != nil {
					if failed.CompareAndSwap(false, true) {
						b.Error(err)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if !failed.Load() {
		d.report(b, elapsed, unit)
		cpu.report(b, b.N)
	}
}

// giveAll gives persons [from, to) one record each from callers goroutines, logging its
// progress every 30 seconds when progress is set.
func giveAll(b *testing.B, cb *consentBench, from, to, callers int, progress bool) {
	ctx := context.Background()
	var next, done atomic.Int64
	next.Store(int64(from))
	var failed atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	stop := make(chan struct{})
	if progress {
		go func() {
			t := time.NewTicker(30 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					n := done.Load()
					el := time.Since(start)
					b.Logf("gave %d of %d records in %s (%.0f/s)", n, to-from, el.Round(time.Second), float64(n)/el.Seconds())
				}
			}
		}()
	}
	for range callers {
		wg.Go(func() {
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= int64(to) {
					return
				}
				ch, err := cb.st.Give(ctx, consentGrant(consentPerson(int(i)), "agency-a.example"))
				if err == nil && ch.Receipt == "" {
					err = fmt.Errorf("person %d: no receipt", i)
				}
				if err != nil {
					if failed.CompareAndSwap(false, true) {
						b.Error(err)
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	if failed.Load() {
		b.FailNow()
	}
	if progress {
		el := time.Since(start)
		b.Logf("gave %d records in %s (%.0f/s)", to-from, el.Round(time.Second), float64(to-from)/el.Seconds())
	}
}

// The 1M store: consent1M persons with one record each, and consentMany persons with
// consentManyRecords records each (one per recipient "recipient-K.example"), all under one
// controller.
const (
	consent1M          = 1_000_000
	consentMany        = 100
	consentManyRecords = 10
)

// consentRecipient is the recipient of record k of a person with several records.
func consentRecipient(k int) string { return fmt.Sprintf("recipient-%d.example", k) }

// buildConsent1M opens the cached 1M store, building it first when it is not complete: a
// store whose build did not finish (no ".done" file beside it) is deleted and built again.
func buildConsent1M(b *testing.B) *consentBench {
	return openConsent1M(b, "")
}

// openConsent1M is buildConsent1M, the store opened with params added to its DSN once built.
func openConsent1M(b *testing.B, params string) *consentBench {
	if os.Getenv("DPI_BENCH_CONSENT_1M") != "1" {
		b.Skip("set DPI_BENCH_CONSENT_1M=1 to build (once, cached) and measure a store of 1,000,000 records")
	}
	dir := os.Getenv("DPI_BENCH_CONSENT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "dpi-bench-consent")
	}
	require.NoError(b, os.MkdirAll(dir, 0o700))
	path := filepath.Join(dir, "consent-1M.db")
	marker := path + ".done"
	want := consent1M + consentMany*consentManyRecords
	if _, err := os.Stat(marker); err != nil {
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			require.NoError(b, os.RemoveAll(p))
		}
		cb := openConsent(b, "sqlite://"+path, 64)
		start := time.Now()
		// The persons with several records first, one Give per record, then everyone else.
		ctx := context.Background()
		for j := range consentMany {
			for k := range consentManyRecords {
				_, err := cb.st.Give(ctx, consentGrant(consentPerson(consentManyBase+j), consentRecipient(k)))
				require.NoError(b, err)
			}
		}
		giveAll(b, cb, 0, consent1M, 64, true)
		b.Logf("built the store of %d records in %s", want, time.Since(start).Round(time.Second))
		require.NoError(b, cb.db.Close())
		require.NoError(b, os.WriteFile(marker, []byte(strconv.Itoa(want)+" records\n"), 0o600))
	}
	cb := openConsent(b, "sqlite://"+path+params, 64)
	var n int
	require.NoError(b, cb.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM consent_records").Scan(&n))
	require.Equal(b, want, n, "records in %s", path)
	return cb
}

// consentCases are the requests the 1M benchmarks time, each for a random person: one of the
// million with one record, one with ten records (all of them read, the last one names the
// recipient), and one the store does not know (denied, no record).
var consentCases = []struct {
	name  string
	req   func(r *rand.Rand) consent.Request
	allow bool
}{
	{"one-record", func(r *rand.Rand) consent.Request {
		return consentRequest(consentPerson(r.IntN(consent1M)), "agency-a.example")
	}, true},
	{"ten-records", func(r *rand.Rand) consent.Request {
		return consentRequest(consentPerson(consentManyBase+r.IntN(consentMany)), consentRecipient(consentManyRecords-1))
	}, true},
	{"no-record", func(r *rand.Rand) consent.Request {
		return consentRequest(consentPerson(consent1M+r.IntN(consent1M)), "agency-a.example")
	}, false},
}

// consentDecide times b.N calls of decide, one caller at a time, each on a request req makes
// for a random person, and reports their percentiles. The request is made (an HMAC) outside
// the timed call.
func consentDecide(b *testing.B, allow bool, req func(*rand.Rand) consent.Request, decide func(context.Context, consent.Request) (*consent.Decision, error)) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	d := make(latencies, b.N)
	b.ResetTimer()
	cpu := startCPU()
	start := time.Now()
	for i := range b.N {
		q := req(r)
		t0 := time.Now()
		dec, err := decide(ctx, q)
		d[i] = time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if dec.Allow != allow {
			b.Fatalf("allow = %v (%s), want %v", dec.Allow, dec.Reason, allow)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	d.report(b, elapsed, "calls/s")
	cpu.report(b, b.N)
}

// BenchmarkConsentCheck1M times Check, the decision alone (one indexed read of the person's
// records, JSON decoding, the rules; nothing written), one call at a time: on the store as
// store.Open opens it ("default": a 64 MiB page cache per connection, the file read with
// pread), and with a memory map over the whole file ("mmap": ?mmap_size= in the DSN, which
// package store offers).
func BenchmarkConsentCheck1M(b *testing.B) {
	buildConsent1M(b)
	for _, v := range []struct{ name, params string }{{"default", ""}, {"mmap", "?mmap_size=17179869184"}} {
		b.Run(v.name, func(b *testing.B) {
			cb := openConsent1M(b, v.params)
			for _, tc := range consentCases {
				b.Run(tc.name, func(b *testing.B) {
					consentDecide(b, tc.allow, tc.req, cb.st.Check)
				})
			}
		})
	}
}

// BenchmarkConsentAuthorize1M times Authorize, the decision and, when it allows, the use
// recorded durably (an evidence log entry and the record's use count, in a group commit)
// before it returns: one call at a time ("callers=1", each call waits for its own commit),
// and from 64 goroutines on random persons (each waits for its group). Each run adds its
// allowed uses to the cached store's log; the records stay the same.
func BenchmarkConsentAuthorize1M(b *testing.B) {
	cb := buildConsent1M(b)
	for _, tc := range consentCases {
		b.Run(tc.name+"/callers=1", func(b *testing.B) {
			consentDecide(b, tc.allow, tc.req, cb.st.Authorize)
		})
	}
	b.Run("one-record/callers=64", func(b *testing.B) {
		ctx := context.Background()
		var seed atomic.Uint64
		seed.Store(uint64(time.Now().UnixNano()))
		pool := sync.Pool{New: func() any { return rand.New(rand.NewPCG(seed.Add(1), 12)) }}
		timedCallers(b, 64, "uses/s", func(int) error {
			r := pool.Get().(*rand.Rand)
			q := consentCases[0].req(r)
			pool.Put(r)
			d, err := cb.st.Authorize(ctx, q)
			if err == nil && !d.Allow {
				err = fmt.Errorf("denied: %s", d.Reason)
			}
			return err
		})
	})
}

// benchGiveConcurrent has callers goroutines give b.N records between them, one per person,
// on a fresh store: each Give writes the record's row and its event's evidence entry in a
// group commit, durably, and signs the person's receipt (Ed25519) before it returns.
// It reports events/s and the percentiles of each Give's duration.
func benchGiveConcurrent(b *testing.B, dsn string, callers int) {
	ctx := context.Background()
	cb := openConsent(b, dsn, callers)
	var last atomic.Value
	timedCallers(b, callers, "events/s", func(i int) error {
		ch, err := cb.st.Give(ctx, consentGrant(consentPerson(i), "agency-a.example"))
		if err != nil {
			return err
		}
		if ch.Receipt == "" {
			return fmt.Errorf("person %d: no receipt", i)
		}
		last.Store(ch.Receipt)
		return nil
	})
	if b.Failed() {
		return
	}
	size, err := cb.log.Size(ctx)
	require.NoError(b, err)
	require.Equal(b, uint64(b.N), size)
	var rows int
	require.NoError(b, cb.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM consent_records").Scan(&rows))
	require.Equal(b, b.N, rows)
	_, err = consent.VerifyReceipt(last.Load().(string), consentReceiptKey.Public())
	require.NoError(b, err)
	b.ReportMetric(consentRecordsPerGroup(b, cb.log, consent.KindEvent), "records/group")
}

// consentRecordsPerGroup counts the log's entries of kind and the groups they were committed
// in, after the clock stopped: a group is stamped with one time under the log's lock (as
// benchAppendConcurrent counts them).
func consentRecordsPerGroup(b *testing.B, l *evidence.Log, kind string) float64 {
	entries, groups := 0, 0
	var last time.Time
	for e, err := range l.Scan(context.Background(), evidence.Filter{Kind: kind}) {
		require.NoError(b, err)
		entries++
		if groups == 0 || !e.Time.Equal(last) {
			groups++
			last = e.Time
		}
	}
	return float64(entries) / float64(max(groups, 1))
}

// consentAuthorizePersons bounds the persons benchAuthorizeConcurrent gives a record to
// before the clock starts.
const consentAuthorizePersons = 10_000

// benchAuthorizeConcurrent gives min(b.N, 10,000) persons a record each, then has callers
// goroutines call Authorize b.N times between them, call i for person i modulo that, every
// call allowed: each decides, then records the use (an evidence entry and the record's use
// count) in a group commit, durably, before it returns. It reports uses/s and the
// percentiles of each Authorize's duration.
func benchAuthorizeConcurrent(b *testing.B, dsn string, callers int) {
	ctx := context.Background()
	cb := openConsent(b, dsn, max(callers, 64))
	persons := min(b.N, consentAuthorizePersons)
	giveAll(b, cb, 0, persons, 64, false)
	reqs := make([]consent.Request, persons)
	for i := range reqs {
		reqs[i] = consentRequest(consentPerson(i), "agency-a.example")
	}
	timedCallers(b, callers, "uses/s", func(i int) error {
		d, err := cb.st.Authorize(ctx, reqs[i%persons])
		if err == nil && !d.Allow {
			err = fmt.Errorf("person %d denied: %s", i%persons, d.Reason)
		}
		return err
	})
	if b.Failed() {
		return
	}
	size, err := cb.log.Size(ctx)
	require.NoError(b, err)
	require.Equal(b, uint64(persons+b.N), size, "one event per person and one use per call")
	var uses int
	require.NoError(b, cb.db.QueryRowContext(ctx, "SELECT SUM(uses) FROM consent_records").Scan(&uses))
	require.Equal(b, b.N, uses)
	b.ReportMetric(consentRecordsPerGroup(b, cb.log, consent.KindUse), "records/group")
}

// consentPostgres returns a fresh schema on DPI_TEST_POSTGRES_URL, or skips.
func consentPostgres(b *testing.B) string {
	base := os.Getenv("DPI_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("DPI_TEST_POSTGRES_URL is unset")
	}
	return storetest.FreshSchema(b, base)
}

func BenchmarkConsentGiveConcurrentSQLite(b *testing.B) {
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchGiveConcurrent(b, "sqlite://"+filepath.Join(b.TempDir(), "consent.db"), c)
		})
	}
}

func BenchmarkConsentGiveConcurrentPostgres(b *testing.B) {
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchGiveConcurrent(b, consentPostgres(b), c)
		})
	}
}

func BenchmarkConsentAuthorizeConcurrentSQLite(b *testing.B) {
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchAuthorizeConcurrent(b, "sqlite://"+filepath.Join(b.TempDir(), "consent.db"), c)
		})
	}
}

func BenchmarkConsentAuthorizeConcurrentPostgres(b *testing.B) {
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchAuthorizeConcurrent(b, consentPostgres(b), c)
		})
	}
}
