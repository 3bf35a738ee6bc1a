package evidence_test

import (
	"bufio"
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/internal/storetest"
	"github.com/dpiblocks/dpi/store"
)

func TestEraseKeepsProofs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		l := openLog(t, db, key)
		v := independent(t, key)
		appendN(t, l, 10)
		_, err := l.Checkpoint(ctx)
		require.NoError(t, err)

		before, err := l.ProveInclusion(ctx, 4, 0)
		require.NoError(t, err)
		require.NoError(t, l.Erase(ctx, 4))
		require.NoError(t, l.Erase(ctx, 4), "erasing twice does nothing")

		e, err := l.Get(ctx, 4)
		require.NoError(t, err)
		assert.True(t, e.Erased)
		assert.Nil(t, e.Payload)
		assert.Nil(t, e.Salt)

		after, err := l.ProveInclusion(ctx, 4, 0)
		require.NoError(t, err)
		assert.Equal(t, before, after)
		_, err = v.VerifyInclusion(after)
		require.NoError(t, err)

		rep, err := l.Verify(ctx, v)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), rep.Erased)

		// An erasure is not a licence to delete other payloads behind the log's back.
		sqlExec(t, db, "UPDATE tlog_entries SET payload = NULL, salt = NULL WHERE log_id = "+logID+" AND seq = 5")
		_, err = l.Verify(ctx, v)
		faults := faultsOf(t, err)
		require.Len(t, faults, 1)
		assert.Equal(t, evidence.FaultPayload, faults[0].Kind)
		assert.Equal(t, uint64(5), faults[0].Seq)
	})
}

func TestTypedFace(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	require.NoError(t, err)
	defer db.Close()
	l := openLog(t, db, newKey(t))
	type event struct{ Purpose string }
	type subject struct{ Name string }
	h, err := evidence.NewTyped[event, subject](l, "consent.given")
	require.NoError(t, err)
	rc, err := h.Append(ctx, "consent-1", event{"benefits"}, subject{"Ana"})
	require.NoError(t, err)
	seq := rc.Seq
	m, p, err := h.Get(ctx, seq)
	require.NoError(t, err)
	assert.Equal(t, "benefits", m.Purpose)
	require.NotNil(t, p)
	assert.Equal(t, "Ana", p.Name)
	require.NoError(t, h.Log().Erase(ctx, seq))
	m, p, err = h.Get(ctx, seq)
	require.NoError(t, err)
	assert.Equal(t, "benefits", m.Purpose)
	assert.Nil(t, p)

	other, err := evidence.NewTyped[event, subject](l, "consent.withdrawn")
	require.NoError(t, err)
	_, _, err = other.Get(ctx, seq)
	assert.ErrorIs(t, err, evidence.ErrNotFound)
	_, err = evidence.NewTyped[event, subject](l, "")
	assert.ErrorIs(t, err, evidence.ErrConfig)
}

func TestRejectsBadProofsAndCheckpoints(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "log.db"))
	require.NoError(t, err)
	defer db.Close()
	key := newKey(t)
	l := openLog(t, db, key)
	v := independent(t, key)
	appendN(t, l, 10)
	_, err = l.Checkpoint(ctx)
	require.NoError(t, err)
	appendN(t, l, 10)
	_, err = l.Checkpoint(ctx)
	require.NoError(t, err)

	good, err := l.ProveInclusion(ctx, 3, 20)
	require.NoError(t, err)
	_, err = v.VerifyInclusion(good)
	require.NoError(t, err)
	small, err := l.ProveInclusion(ctx, 3, 10)
	require.NoError(t, err)
	cons, err := l.ProveConsistency(ctx, 10, 20)
	require.NoError(t, err)

	clone := func() *evidence.InclusionProof {
		c := *good
		c.Hashes = append([]evidence.Hash(nil), good.Hashes...)
		c.Leaf.Meta = append([]byte(nil), good.Leaf.Meta...)
		return &c
	}
	otherKey := independentFor(t, origin, newKey(t))
	otherLog, err := evidence.NewVerifier("agency.example/other-log", key.Public())
	require.NoError(t, err)

	cases := []struct {
		name   string
		v      *evidence.Verifier
		proof  func() *evidence.InclusionProof
		target error
		check  string
	}{
		{"bad signature", v, func() *evidence.InclusionProof {
			p := clone()
			i := strings.LastIndex(p.Checkpoint, " ")
			sig := []byte(p.Checkpoint[i+1:])
			// Change one signature character to another valid base64 character.
			if sig[10] == 'A' {
				sig[10] = 'B'
			} else {
				sig[10] = 'A'
			}
			p.Checkpoint = p.Checkpoint[:i+1] + string(sig)
			return p
		}, evidence.ErrCheckpoint, "signature"},
		{"another key", otherKey, clone, evidence.ErrCheckpoint, "signature: not signed by the log's key"},
		{"another log", otherLog, clone, evidence.ErrCheckpoint, "signature: not signed by the log's key"},
		{"proof for another tree", v, func() *evidence.InclusionProof {
			p := clone()
			p.Hashes = small.Hashes
			return p
		}, evidence.ErrProof, "audit path"},
		{"checkpoint of another tree", v, func() *evidence.InclusionProof {
			p := clone()
			p.Checkpoint = small.Checkpoint
			return p
		}, evidence.ErrProof, "audit path"},
		{"truncated proof", v, func() *evidence.InclusionProof {
			p := clone()
			p.Hashes = p.Hashes[:len(p.Hashes)-1]
			return p
		}, evidence.ErrProof, "audit path"},
		{"edited leaf", v, func() *evidence.InclusionProof {
			p := clone()
			p.Leaf.Meta = []byte(`{"n":99}`)
			return p
		}, evidence.ErrProof, "audit path"},
		{"other position", v, func() *evidence.InclusionProof {
			p := clone()
			p.Leaf.Seq = 2
			return p
		}, evidence.ErrProof, "audit path"},
		{"beyond the tree", v, func() *evidence.InclusionProof {
			p := clone()
			p.Leaf.Seq = 20
			return p
		}, evidence.ErrProof, "tree size"},
		{"wrong format", v, func() *evidence.InclusionProof {
			p := clone()
			p.Format = "x"
			return p
		}, evidence.ErrProof, "format"},
		{"truncated checkpoint", v, func() *evidence.InclusionProof {
			p := clone()
			p.Checkpoint = p.Checkpoint[:len(p.Checkpoint)/2]
			return p
		}, evidence.ErrCheckpoint, "format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.VerifyInclusion(tc.proof())
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.target)
			var ce *evidence.CheckError
			require.True(t, errors.As(err, &ce))
			assert.True(t, strings.HasPrefix(ce.Check, tc.check), "check %q", ce.Check)
		})
	}

	t.Run("consistency", func(t *testing.T) {
		_, _, err := v.VerifyConsistency(cons)
		require.NoError(t, err)
		bad := *cons
		bad.Hashes = cons.Hashes[1:]
		_, _, err = v.VerifyConsistency(&bad)
		assert.ErrorIs(t, err, evidence.ErrProof)
		swapped := *cons
		swapped.Old, swapped.New = cons.New, cons.Old
		_, _, err = v.VerifyConsistency(&swapped)
		assert.ErrorIs(t, err, evidence.ErrProof)
		_, _, err = otherKey.VerifyConsistency(cons)
		assert.ErrorIs(t, err, evidence.ErrCheckpoint)
	})

	t.Run("json round trip", func(t *testing.T) {
		b, err := jsonMarshal(good)
		require.NoError(t, err)
		p, err := evidence.ParseInclusionProof(b)
		require.NoError(t, err)
		_, err = v.VerifyInclusion(p)
		require.NoError(t, err)
		_, err = evidence.ParseInclusionProof([]byte(`{"format":"dpi-tlog-inclusion/v1","hashes":["AAAA"]}`))
		assert.ErrorIs(t, err, evidence.ErrProof)
	})
}

func independentFor(t *testing.T, origin string, key crypto.Signer) *evidence.Verifier {
	t.Helper()
	v, err := evidence.NewVerifier(origin, key.Public())
	require.NoError(t, err)
	return v
}

func TestConcurrentAppenders(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		key := newKey(t)
		const writers, each = 6, 20
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			// Each writer has a connection pool of its own, as a separate process would.
			wdb, err := store.Open(ctx, dsn)
			require.NoError(t, err)
			t.Cleanup(func() { wdb.Close() })
			l := openLog(t, wdb, key)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					rs := []evidence.Record{record(w*1000 + i)}
					if i%4 == 0 {
						rs = append(rs, record(w*1000+i+500))
					}
					if _, err := l.AppendBatch(ctx, rs); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		l := openLog(t, db, key)
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(writers*(each+each/4)), size)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		_, err = l.Verify(ctx, independent(t, key))
		require.NoError(t, err)
	})
}

// The kill -9 test re-runs the test binary as a child that appends until it is killed.
const childEnv = "DPI_TLOG_TEST_CHILD_DSN"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(childEnv); dsn != "" {
		os.Exit(appendForever(dsn, os.Getenv(childEnv+"_KEY")))
	}
	os.Exit(m.Run())
}

// appendForever appends batches of 1 to 13 records until it is killed or, when
// DPI_TLOG_TEST_CHILD_BATCHES is set, until it has appended that many batches.
func appendForever(dsn, seed string) int {
	limit, _ := strconv.Atoi(os.Getenv(childEnv + "_BATCHES"))
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	l, err := evidence.Open(ctx, db, evidence.Config{Origin: origin, Signer: keyFromSeed(seed), CheckpointEvery: 50})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for i := 0; limit == 0 || i < limit; i++ {
		rs := make([]evidence.Record, 1+i%13)
		for k := range rs {
			rs[k] = record(i)
		}
		if _, err := l.AppendBatch(ctx, rs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println("appended", i)
	}
	return 0
}

// batchesRecords is how many records appendForever appends in n batches.
func batchesRecords(n int) int {
	total := 0
	for i := range n {
		total += 1 + i%13
	}
	return total
}

// Three processes append to one log at once; the tree must hold every entry exactly once.
func TestManyProcessesAppendOneTree(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		seed, key := seededKey(t)
		const procs, batches = 3, 30
		cmds := make([]*exec.Cmd, procs)
		for i := range cmds {
			cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
			cmds[i].Env = append(os.Environ(), childEnv+"="+dsn, childEnv+"_KEY="+seed, childEnv+"_BATCHES="+strconv.Itoa(batches))
			cmds[i].Stderr = os.Stderr
			require.NoError(t, cmds[i].Start())
		}
		for _, c := range cmds {
			require.NoError(t, c.Wait())
		}
		l := openLog(t, db, key)
		size, err := l.Size(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(procs*batchesRecords(batches)), size)
		_, err = l.Checkpoint(ctx)
		require.NoError(t, err)
		rep, err := l.Verify(ctx, independent(t, key))
		require.NoError(t, err)
		assert.Equal(t, size, rep.Size)
	})
}

func TestKilledAppenderLeavesAVerifiableLog(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string, db *store.DB) {
		ctx := context.Background()
		seed, key := seededKey(t)
		for round := range 3 {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+dsn, childEnv+"_KEY="+seed)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = os.Stderr
			require.NoError(t, cmd.Start())
			// Wait until the child has committed a number of batches, then kill it wherever
			// it is: most likely inside a transaction.
			sc := bufio.NewScanner(out)
			for n := 0; n < 40+round*20 && sc.Scan(); n++ {
			}
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()

			l := openLog(t, db, key)
			rep, err := l.Verify(ctx, independent(t, key))
			require.NoError(t, err, "round %d", round)
			assert.Greater(t, rep.Size, uint64(0))
			assert.Greater(t, rep.Checkpoints, 0)
		}
	})
}
