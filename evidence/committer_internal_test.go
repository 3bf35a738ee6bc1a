package evidence

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/store"
)

func memoryLog(t *testing.T) *Log {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	l, err := Open(context.Background(), db, Config{Origin: "agency.example/committer"})
	require.NoError(t, err)
	return l
}

// A caller whose context ends while its request waits for a group withdraws it: the call
// returns the context's error and the record is never written.
func TestWaitingAppendWithdrawsOnCancel(t *testing.T) {
	l := memoryLog(t)
	// Another caller is committing a group.
	l.group.busy = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Append(ctx, Record{Kind: "k"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, l.group.queue, "the request left the queue")
	assert.True(t, l.group.busy, "the committing caller still leads")

	// That caller finishes and hands off to nobody: the next append leads at once.
	l.group.mu.Lock()
	l.group.handOff()
	l.group.mu.Unlock()
	assert.False(t, l.group.busy)
	rc, err := l.Append(context.Background(), Record{Kind: "k"})
	require.NoError(t, err)
	assert.Zero(t, rc.Seq, "the withdrawn record took no sequence number")
}

// A request handed the lead just as its caller gives up passes the lead on, so the requests
// behind it are not stranded.
func TestWithdrawPassesTheLeadOn(t *testing.T) {
	l := memoryLog(t)
	g := &l.group
	first := &appendReq{records: []Record{{Kind: "a"}}, salts: newSalts(1), done: make(chan struct{}), lead: make(chan struct{}, 1)}
	second := &appendReq{records: []Record{{Kind: "b"}}, salts: newSalts(1), done: make(chan struct{}), lead: make(chan struct{}, 1)}
	g.busy = true
	g.queue = []*appendReq{first, second}
	g.mu.Lock()
	g.handOff() // the previous leader finished: first is handed the lead
	g.mu.Unlock()

	require.True(t, g.withdraw(first))
	select {
	case <-second.lead:
	default:
		t.Fatal("the lead was not passed to the next waiting request")
	}
	assert.True(t, g.busy)
	l.lead(context.Background())
	<-second.done
	require.NoError(t, second.err)
	assert.Equal(t, "b", second.records[0].Kind)
	assert.Zero(t, second.receipts[0].Seq)
	assert.False(t, g.busy)
}

// The group a leader takes never exceeds the batch cap, and always holds the oldest request.
func TestGroupTakesUpToTheBatchCap(t *testing.T) {
	g := &committer{}
	big := &appendReq{records: make([]Record, 6000)}
	also := &appendReq{records: make([]Record, 5000)}
	small := &appendReq{records: make([]Record, 1)}
	g.queue = []*appendReq{big, also, small}
	assert.Equal(t, []*appendReq{big}, g.take())
	assert.Equal(t, []*appendReq{also, small}, g.take())
	assert.Empty(t, g.queue)
}

// A group's AppendWith functions run without savepoints; when one fails, the group's
// transaction is rolled back and run again with a savepoint around each function, so that
// the failing function's writes go and the others' land, each once.
func TestAppendWithGroupFallsBackToSavepoints(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		fail map[int]string // request index: "error", "panic" or "bad record"
	}{
		{"all succeed", nil},
		{"one returns an error", map[int]string{2: "error"}},
		{"one panics", map[int]string{0: "panic"}},
		{"one returns a bad record", map[int]string{4: "bad record"}},
		{"several fail", map[int]string{1: "error", 3: "panic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(ctx, "sqlite://:memory:")
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			l, err := Open(ctx, db, Config{Origin: "agency.example/committer", Signer: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))})
			require.NoError(t, err)
			_, err = l.db.ExecContext(ctx, "CREATE TABLE items (id TEXT PRIMARY KEY)")
			require.NoError(t, err)
			const n = 6
			runs := make([]int, n)
			reqs := make([]*appendReq, n)
			for i := range reqs {
				id := fmt.Sprintf("item-%d", i)
				reqs[i] = &appendReq{salts: newSalts(1), done: make(chan struct{}), lead: make(chan struct{}, 1), fn: func(ctx context.Context, tx *sql.Tx) (Record, error) {
					runs[i]++
					if _, err := tx.ExecContext(ctx, "INSERT INTO items (id) VALUES (?)", id); err != nil {
						return Record{}, err
					}
					switch tc.fail[i] {
					case "error":
						return Record{}, errors.New("refused")
					case "panic":
						panic("a bug")
					case "bad record":
						return Record{Kind: "bad\x00kind"}, nil
					}
					return Record{Kind: "item", Ref: id}, nil
				}}
			}
			// An Append in the same group lands too.
			plain := &appendReq{records: []Record{{Kind: "plain"}}, salts: newSalts(1), done: make(chan struct{}), lead: make(chan struct{}, 1)}
			l.group.busy = true
			l.group.queue = append(append([]*appendReq{}, reqs[:3]...), append([]*appendReq{plain}, reqs[3:]...)...)
			l.lead(ctx)
			require.NoError(t, plain.err)

			landed := 1
			for i, req := range reqs {
				<-req.done
				id := fmt.Sprintf("item-%d", i)
				var rows int
				require.NoError(t, l.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE id = ?", id).Scan(&rows))
				// Once without savepoints, up to the first that fails; then each once with
				// its savepoint.
				want := 1
				if first := firstFailing(tc.fail); first >= 0 && i <= first {
					want = 2
				}
				assert.Equal(t, want, runs[i], "runs of %s", id)
				if tc.fail[i] != "" {
					assert.Error(t, req.err, id)
					assert.Zero(t, rows, "the failed function's row is rolled back: %s", id)
					continue
				}
				require.NoError(t, req.err, id)
				assert.Equal(t, 1, rows, id)
				assert.True(t, req.receipts[0].Matches(Record{Kind: "item", Ref: id}))
				landed++
			}
			size, err := l.Size(ctx)
			require.NoError(t, err)
			assert.Equal(t, uint64(landed), size)
			_, err = l.Checkpoint(ctx)
			require.NoError(t, err)
			_, err = l.Verify(ctx, l.Verifier())
			require.NoError(t, err)
		})
	}
}

// firstFailing is the lowest index in fail, or -1.
func firstFailing(fail map[int]string) int {
	first := -1
	for i := range fail {
		if first < 0 || i < first {
			first = i
		}
	}
	return first
}
