package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	xtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

// Benchmarks of package evidence, the tamper-evident log (BENCHMARKS.md, "Tamper-evident
// log"). They keep their historical Tlog names, which BENCHMARKS.md's commands use.
//
//	go test -run '^$' -bench Tlog -benchtime 20000x          append and proofs at 100,000 entries
//	go test -run '^$' -bench 'TlogAppendConcurrent' -benchtime 20000x
//	go test -run '^$' -bench 'TlogAppendTxConcurrent' -benchtime 5000x
//	                                 Append (group commit) and AppendTx from 1, 8 and 64
//	                                 goroutines; publish PostgreSQL figures only from a
//	                                 cluster with fsync on (the benchmark logs it)
//	DPI_BENCH_TLOG_10M=1 go test -run '^$' -bench 'Tlog.*10M' -timeout 3h
//	                                 proofs at 10 million entries; the log is built once through
//	                                 AppendBatch and cached in $DPI_BENCH_TLOG_DIR (default
//	                                 $TMPDIR/dpi-bench-tlog)

const tlogOrigin = "bench.example/log"

var tlogKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

func tlogRecord(i int) evidence.Record {
	return evidence.Record{
		Kind:    "consent.given",
		Meta:    fmt.Appendf(nil, `{"purpose":"benefits","controller":"agency.example","n":%d}`, i),
		Payload: fmt.Appendf(nil, `{"subject":"person-%08d","name":"Ana Maria da Silva"}`, i),
	}
}

// benchAppend appends b.N entries in batches of batch records and reports entries/s.
func benchAppend(b *testing.B, dsn string, batch int) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	require.NoError(b, err)
	defer db.Close()
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: tlogOrigin, Signer: tlogKey})
	require.NoError(b, err)
	recs := make([]evidence.Record, batch)
	for i := range recs {
		recs[i] = tlogRecord(i)
	}
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n += batch {
		k := min(batch, b.N-n)
		if _, err := l.AppendBatch(ctx, recs[:k]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
}

func BenchmarkTlogAppendSQLite(b *testing.B) {
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			benchAppend(b, "sqlite://"+filepath.Join(b.TempDir(), "log.db"), batch)
		})
	}
}

func BenchmarkTlogAppendPostgres(b *testing.B) {
	base := os.Getenv("DPI_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("DPI_TEST_POSTGRES_URL is unset")
	}
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			benchAppend(b, storetest.FreshSchema(b, base), batch)
		})
	}
}

// concurrentCallers are the goroutine counts of the concurrent append benchmarks; 64 is
// issue 9's target case.
var concurrentCallers = []int{1, 8, 64}

// openDurable opens dsn through store.Open and checks that a commit is durable there: SQLite
// in WAL mode with synchronous=FULL (2), PostgreSQL with fsync and synchronous_commit, which
// it logs (the CI cluster runs with fsync=off: its figures are not the ones to publish).
func openDurable(b *testing.B, dsn string) *store.DB {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	switch db.Dialect() {
	case store.SQLite:
		var sync int
		var mode string
		require.NoError(b, db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
		require.NoError(b, db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
		require.Equal(b, 2, sync, "PRAGMA synchronous: 2 is FULL")
		require.Equal(b, "wal", mode)
	case store.Postgres:
		var fsync, syncCommit string
		require.NoError(b, db.QueryRowContext(ctx, "SHOW fsync").Scan(&fsync))
		require.NoError(b, db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&syncCommit))
		b.Logf("PostgreSQL fsync=%s synchronous_commit=%s", fsync, syncCommit)
	}
	return db
}

// runCallers runs callers goroutines that share b.N calls of fn (fn(i) for i in [0, b.N))
// and reports the calls per second. The first error stops every goroutine.
func runCallers(b *testing.B, callers int, unit string, fn func(i int) error) {
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := fn(int(i)); err != nil {
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
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
}

// benchAppendConcurrent has callers goroutines call Append, one record each, until b.N
// records are appended, and reports appends/s. Each Append returns once its group is durable.
func benchAppendConcurrent(b *testing.B, dsn string, callers int) {
	ctx := context.Background()
	db := openDurable(b, dsn)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: tlogOrigin, Signer: tlogKey})
	require.NoError(b, err)
	recs := make([]evidence.Record, 1024)
	for i := range recs {
		recs[i] = tlogRecord(i)
	}
	runCallers(b, callers, "appends/s", func(i int) error {
		_, err := l.Append(ctx, recs[i%len(recs)])
		return err
	})
	size, err := l.Size(ctx)
	require.NoError(b, err)
	require.Equal(b, uint64(b.N), size)
	// A group is stamped with one time under the log's lock: count the groups, after the
	// clock stopped, from the entries' times.
	groups := 0
	var last time.Time
	for e, err := range l.Scan(ctx, evidence.Filter{}) {
		require.NoError(b, err)
		if groups == 0 || !e.Time.Equal(last) {
			groups++
			last = e.Time
		}
	}
	b.ReportMetric(float64(b.N)/float64(groups), "records/group")
}

// benchAppendTxConcurrent has callers goroutines run b.N transactions between them, each
// one append in a transaction of the caller's own, as a block writing its row and its
// evidence together: BeginTx, one INSERT of the
// caller's row, AppendTx, Commit. A transaction that lost a race store.Retryable says a second
// run can win (SQLite busy past its timeout, a PostgreSQL serialization failure or deadlock)
// is run again; the retries are reported per append.
func benchAppendTxConcurrent(b *testing.B, dsn string, callers int) {
	ctx := context.Background()
	db := openDurable(b, dsn)
	// Keep a connection per caller in the pool, as a service with that many concurrent
	// requests would configure it; database/sql keeps only 2 idle connections by default,
	// and reconnecting for every transaction would measure connection setup.
	db.SetMaxIdleConns(callers)
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: tlogOrigin, Signer: tlogKey})
	require.NoError(b, err)
	_, err = db.ExecContext(ctx, "CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, body TEXT NOT NULL, seq BIGINT NOT NULL)")
	require.NoError(b, err)
	insert := db.Rebind("INSERT INTO bench_rows (id, body, seq) VALUES (?, ?, ?)")
	recs := make([]evidence.Record, 1024)
	for i := range recs {
		recs[i] = tlogRecord(i)
	}
	var retries atomic.Int64
	once := func(i int) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() // a no-op after Commit
		// The caller's own row first, then its evidence: the log's head stays locked from
		// AppendTx to Commit, so the row is written outside that window.
		if _, err := tx.ExecContext(ctx, insert, i, "block row", -1); err != nil {
			return err
		}
		if _, err := l.AppendTx(ctx, tx, recs[i%len(recs)]); err != nil {
			return err
		}
		return tx.Commit()
	}
	runCallers(b, callers, "appends/s", func(i int) error {
		for {
			err := once(i)
			if err == nil || !store.Retryable(err) {
				return err
			}
			retries.Add(1)
		}
	})
	b.ReportMetric(float64(retries.Load())/float64(b.N), "retries/op")
	size, err := l.Size(ctx)
	require.NoError(b, err)
	require.Equal(b, uint64(b.N), size)
	var rows int
	require.NoError(b, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM bench_rows").Scan(&rows))
	require.Equal(b, b.N, rows)
}

func BenchmarkTlogAppendConcurrentSQLite(b *testing.B) {
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchAppendConcurrent(b, "sqlite://"+filepath.Join(b.TempDir(), "log.db"), c)
		})
	}
}

func BenchmarkTlogAppendConcurrentPostgres(b *testing.B) {
	base := os.Getenv("DPI_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("DPI_TEST_POSTGRES_URL is unset")
	}
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchAppendConcurrent(b, storetest.FreshSchema(b, base), c)
		})
	}
}

func BenchmarkTlogAppendTxConcurrentSQLite(b *testing.B) {
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchAppendTxConcurrent(b, "sqlite://"+filepath.Join(b.TempDir(), "log.db"), c)
		})
	}
}

func BenchmarkTlogAppendTxConcurrentPostgres(b *testing.B) {
	base := os.Getenv("DPI_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("DPI_TEST_POSTGRES_URL is unset")
	}
	for _, c := range concurrentCallers {
		b.Run(fmt.Sprintf("callers=%d", c), func(b *testing.B) {
			benchAppendTxConcurrent(b, storetest.FreshSchema(b, base), c)
		})
	}
}

// buildLog returns a log of size entries with a checkpoint at that size, built through
// AppendBatch into the SQLite file path and reused when it already holds them.
func buildLog(b *testing.B, path string, size int) (*store.DB, *evidence.Log) {
	return buildLogDSN(b, "sqlite://"+path, size)
}

func buildLogDSN(b *testing.B, dsn string, size int) (*store.DB, *evidence.Log) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: tlogOrigin, Signer: tlogKey})
	require.NoError(b, err)
	have, err := l.Size(ctx)
	require.NoError(b, err)
	const batch = 10000
	recs := make([]evidence.Record, batch)
	start := time.Now()
	for n := int(have); n < size; n += batch {
		k := min(batch, size-n)
		for i := range k {
			recs[i] = tlogRecord(n + i)
		}
		_, err := l.AppendBatch(ctx, recs[:k])
		require.NoError(b, err)
		if (n/batch)%100 == 0 {
			b.Logf("built %d of %d entries in %s", n+k, size, time.Since(start).Round(time.Second))
		}
	}
	if have < uint64(size) {
		b.Logf("built %d entries in %s", size, time.Since(start).Round(time.Second))
	}
	_, err = l.Checkpoint(ctx)
	require.NoError(b, err)
	return db, l
}

func tlogProofBenches(b *testing.B, l *evidence.Log, size int) {
	ctx := context.Background()
	v, err := evidence.NewVerifier(tlogOrigin, tlogKey.Public())
	require.NoError(b, err)
	cp, err := l.LatestCheckpoint(ctx)
	require.NoError(b, err)
	require.Equal(b, uint64(size), cp.Size)
	// Spread the proven entries over the whole log.
	seqs := make([]uint64, 1024)
	for i := range seqs {
		seqs[i] = uint64(i) * 7919 * 1009 % uint64(size)
	}
	proofs := make([]*evidence.InclusionProof, len(seqs))
	for i, s := range seqs {
		proofs[i], err = l.ProveInclusion(ctx, s, 0)
		require.NoError(b, err)
	}
	b.Run("prove-hot", func(b *testing.B) {
		// The same 1024 entries over and over: their database pages stay cached.
		for i := 0; b.Loop(); i++ {
			if _, err := l.ProveInclusion(ctx, seqs[i%len(seqs)], 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prove", func(b *testing.B) {
		// A fresh random entry each time: the database pages it needs are rarely cached.
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			if _, err := l.ProveInclusion(ctx, r.Uint64N(uint64(size)), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-cold", func(b *testing.B) {
		// A verifier that has not seen the checkpoint: its Ed25519 signature, the leaf hash
		// and the audit path.
		for i := 0; b.Loop(); i++ {
			fresh, err := evidence.NewVerifier(tlogOrigin, tlogKey.Public())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := fresh.VerifyInclusion(proofs[i%len(proofs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		// A verifier checking many proofs against one checkpoint checks its signature once:
		// the leaf hash and the audit path.
		for i := 0; b.Loop(); i++ {
			if _, err := v.VerifyInclusion(proofs[i%len(proofs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-path-only", func(b *testing.B) {
		// The audit path alone, for a verifier that checked the checkpoint's signature once.
		for i := 0; b.Loop(); i++ {
			p := proofs[i%len(proofs)]
			hashes := make(xtlog.RecordProof, len(p.Hashes))
			for k, h := range p.Hashes {
				hashes[k] = xtlog.Hash(h)
			}
			if err := xtlog.CheckRecord(hashes, int64(cp.Size), xtlog.Hash(cp.Root), int64(p.Leaf.Seq), xtlog.Hash(p.Leaf.Hash(tlogOrigin))); err != nil {
				b.Fatal(err)
			}
		}
	})
	var n int
	for _, p := range proofs {
		n += len(p.Hashes)
	}
	b.Logf("size %d: %.1f hashes per inclusion proof on average (%d bytes)", size, float64(n)/float64(len(proofs)), n*32/len(proofs))
}

func BenchmarkTlogProof100k(b *testing.B) {
	_, l := buildLog(b, filepath.Join(b.TempDir(), "log.db"), 100_000)
	tlogProofBenches(b, l, 100_000)
}

func BenchmarkTlogProofPostgres100k(b *testing.B) {
	base := os.Getenv("DPI_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("DPI_TEST_POSTGRES_URL is unset")
	}
	_, l := buildLogDSN(b, storetest.FreshSchema(b, base), 100_000)
	tlogProofBenches(b, l, 100_000)
}

func BenchmarkTlogProof10M(b *testing.B) {
	if os.Getenv("DPI_BENCH_TLOG_10M") != "1" {
		b.Skip("set DPI_BENCH_TLOG_10M=1 to build (once, cached) and measure a 10-million-entry log")
	}
	dir := os.Getenv("DPI_BENCH_TLOG_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "dpi-bench-tlog")
	}
	require.NoError(b, os.MkdirAll(dir, 0o700))
	path := filepath.Join(dir, "log-10M.db")
	// The same file through package store's default SQLite settings (64 MiB page cache
	// per connection), then with a memory map over the whole file (?mmap_size=).
	for _, tc := range []struct{ name, params string }{{"default", ""}, {"mmap", "?mmap_size=17179869184"}} {
		b.Run(tc.name, func(b *testing.B) {
			_, l := buildLogDSN(b, "sqlite://"+path+tc.params, 10_000_000)
			tlogProofBenches(b, l, 10_000_000)
		})
	}
}

func benchVerifyLog(b *testing.B, l *evidence.Log) {
	v, err := evidence.NewVerifier(tlogOrigin, tlogKey.Public())
	require.NoError(b, err)
	var size uint64
	for b.Loop() {
		rep, err := l.Verify(context.Background(), v)
		if err != nil {
			b.Fatal(err)
		}
		size = rep.Size
	}
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkTlogVerifyLog100k(b *testing.B) {
	_, l := buildLog(b, filepath.Join(b.TempDir(), "log.db"), 100_000)
	benchVerifyLog(b, l)
}

func BenchmarkTlogVerifyLog10M(b *testing.B) {
	if os.Getenv("DPI_BENCH_TLOG_10M") != "1" {
		b.Skip("set DPI_BENCH_TLOG_10M=1 to build (once, cached) and verify a 10-million-entry log")
	}
	dir := os.Getenv("DPI_BENCH_TLOG_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "dpi-bench-tlog")
	}
	require.NoError(b, os.MkdirAll(dir, 0o700))
	_, l := buildLog(b, filepath.Join(dir, "log-10M.db"), 10_000_000)
	benchVerifyLog(b, l)
}

// BenchmarkHashChainVerify10M is the hash chain a consent history without a Merkle tree
// keeps (each record carries SHA-256 of the previous record's hash and its own content, as
// GovStack's consent building block describes): proving that record i is in the history
// means handing over and re-hashing every record from i to the head, 10 million in the worst
// case.
func BenchmarkHashChainVerify10M(b *testing.B) {
	const n = 10_000_000
	var leaf [32]byte
	for b.Loop() {
		var h [32]byte
		var buf [64]byte
		for i := range n {
			leaf[0], leaf[1], leaf[2] = byte(i), byte(i>>8), byte(i>>16)
			copy(buf[:32], h[:])
			copy(buf[32:], leaf[:])
			h = sha256.Sum256(buf[:])
		}
		_ = h
	}
	b.ReportMetric(n*32/1e6, "MB-proof")
}
