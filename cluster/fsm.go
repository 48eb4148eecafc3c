package cluster

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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
	onApply atomic.Pointer[func(d time.Duration)]
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
	if fn := f.onApply.Load(); fn != nil {
		(*fn)(time.Since(start))
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

// indexWaiter lets goroutines wait until the applied index reaches a
// value. Each waiter is woken once, when its index is reached (no
// thundering herd on every apply).
type indexWaiter struct {
	mu      sync.Mutex
	idx     uint64
	waiters []waiter
}

type waiter struct {
	idx uint64
	ch  chan struct{}
}

func newIndexWaiter() *indexWaiter { return &indexWaiter{} }

func (w *indexWaiter) set(i uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i > w.idx {
		w.idx = i
	}
	if len(w.waiters) == 0 {
		return
	}
	kept := w.waiters[:0]
	for _, x := range w.waiters {
		if x.idx <= w.idx {
			close(x.ch)
		} else {
			kept = append(kept, x)
		}
	}
	for j := len(kept); j < len(w.waiters); j++ {
		w.waiters[j] = waiter{}
	}
	w.waiters = kept
}

func (w *indexWaiter) get() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.idx
}

// register returns a channel closed once the index reaches i (nil if it has).
func (w *indexWaiter) register(i uint64) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.idx >= i {
		return nil
	}
	ch := make(chan struct{})
	w.waiters = append(w.waiters, waiter{idx: i, ch: ch})
	return ch
}

func (w *indexWaiter) unregister(ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for j, x := range w.waiters {
		if x.ch == ch {
			w.waiters = append(w.waiters[:j], w.waiters[j+1:]...)
			return
		}
	}
}

// wait blocks until the applied index is at least i. Entries that never
// reach the FSM (no-ops, barriers, configuration changes) are seen through
// other, polled every few milliseconds; pass nil when i is the index of a
// command (which the FSM applies).
func (w *indexWaiter) wait(ctx context.Context, i uint64, other func() uint64) error {
	ch := w.register(i)
	if ch == nil {
		return nil
	}
	defer w.unregister(ch)
	var tick <-chan time.Time
	if other != nil {
		if other() >= i {
			return nil
		}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ch:
			return nil
		case <-tick:
			if other() >= i {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d: %w", i, ctx.Err())
		}
	}
}
