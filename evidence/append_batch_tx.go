package evidence

import (
	"context"
	"database/sql"
	"fmt"
)

// AppendBatchTx adds records inside tx, a transaction the caller opened on the log's
// database, as AppendTx adds one: they get consecutive sequence numbers, and they commit or
// roll back with the caller's own rows. It returns one receipt per record, in order, which
// holds once tx commits.
//
// It is what a block that changes many of its rows in one transaction uses (a dispatcher
// recording the outcomes of a batch of deliveries): one lock of the log's head and one
// insert for the whole batch, where AppendTx in a loop would take both per record. The
// log's head stays locked until tx ends, as with AppendTx: append last, and commit soon.
func (l *Log) AppendBatchTx(ctx context.Context, tx *sql.Tx, records []Record) ([]Receipt, error) {
	if l.readOnly {
		return nil, ErrReadOnly
	}
	if tx == nil {
		return nil, fmt.Errorf("%w: AppendBatchTx needs the caller's transaction", ErrInput)
	}
	if err := checkRecords(records); err != nil {
		return nil, err
	}
	rcs, _, err := l.write(ctx, tx, records, newSalts(len(records)), false)
	if err != nil {
		return nil, fmt.Errorf("evidence: append: %w", err)
	}
	// Only a prediction, checked by the next append under the head's lock: right once tx
	// commits, and costing that append one more query if tx rolls back.
	l.nextSeq.Store(int64(rcs[len(rcs)-1].Seq) + 1)
	return rcs, nil
}
