package cluster

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/pvecfs/pvecfs/cfs"
)

// FSM adapts the cfs tree to hashicorp/raft. It adds nothing to the
// deterministic apply except an applied-index notifier for waiters.
type FSM struct {
	tree    *cfs.Tree
	applied *indexWaiter
	// onApply, if set, observes each apply's duration (metrics).
	onApply func(d time.Duration)
}

// NewFSM wraps a tree.
func NewFSM(tree *cfs.Tree) *FSM {
	return &FSM{tree: tree, applied: newIndexWaiter()}
}

// Apply applies one committed log entry to the tree.
func (f *FSM) Apply(l *raft.Log) any {
	start := time.Now()
	var ms int64
	if !l.AppendedAt.IsZero() {
		ms = l.AppendedAt.UnixMilli()
	}
	res := f.tree.Apply(l.Index, ms, l.Data)
	f.applied.set(l.Index)
	if f.onApply != nil {
		f.onApply(time.Since(start))
	}
	return res
}

// Snapshot captures the tree; Persist may run while later entries apply.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{snap: f.tree.Snapshot()}, nil
}

// Restore replaces the tree with a snapshot.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.tree.Restore(rc); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.applied.set(f.tree.AppliedIndex())
	return nil
}

type fsmSnapshot struct{ snap *cfs.Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.snap.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

// indexWaiter lets goroutines wait until the applied index reaches a value.
type indexWaiter struct {
	mu  sync.Mutex
	idx uint64
	ch  chan struct{}
}

func newIndexWaiter() *indexWaiter { return &indexWaiter{ch: make(chan struct{})} }

func (w *indexWaiter) set(i uint64) {
	w.mu.Lock()
	if i > w.idx {
		w.idx = i
	}
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

func (w *indexWaiter) get() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.idx
}

// wait blocks until the applied index is at least i. Entries that never
// reach the FSM (no-ops, barriers, configuration changes) are seen through
// other, polled every few milliseconds while waiting.
func (w *indexWaiter) wait(ctx context.Context, i uint64, other func() uint64) error {
	var tick <-chan time.Time
	if other != nil {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	for {
		w.mu.Lock()
		if w.idx >= i {
			w.mu.Unlock()
			return nil
		}
		ch := w.ch
		w.mu.Unlock()
		if other != nil && other() >= i {
			return nil
		}
		select {
		case <-ch:
		case <-tick:
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d: %w", i, ctx.Err())
		}
	}
}
