package evidence

import (
	"context"
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
