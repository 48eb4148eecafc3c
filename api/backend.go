package api

import (
	"context"
	"sync"
	"time"

	"github.com/pvecfs/pvecfs/cfs"
)

// Backend is what handlers need of the node: the local tree, the write path
// through the log, and read consistency.
type Backend interface {
	// Name is the local node name.
	Name() string
	// Tree is the local replica (reads serve it directly).
	Tree() *cfs.Tree
	// Apply sends a command through the log; it returns once the local tree
	// has applied it. A command failure is in Result.Err.
	Apply(ctx context.Context, cmd *cfs.Command) (*cfs.Result, error)
	// LinearizableRead waits until the local tree reflects every write
	// acknowledged anywhere before the call.
	LinearizableRead(ctx context.Context) error
}

// LocalBackend is a single-process Backend that applies commands directly
// to a tree, in order. It is for unit tests of handlers; the daemon uses
// the Raft node.
type LocalBackend struct {
	NodeName string
	T        *cfs.Tree
	mu       sync.Mutex
	index    uint64
}

// NewLocalBackend returns a LocalBackend over tree.
func NewLocalBackend(name string, tree *cfs.Tree) *LocalBackend {
	return &LocalBackend{NodeName: name, T: tree}
}

// Name implements Backend.
func (b *LocalBackend) Name() string { return b.NodeName }

// Tree implements Backend.
func (b *LocalBackend) Tree() *cfs.Tree { return b.T }

// Apply implements Backend.
func (b *LocalBackend) Apply(_ context.Context, cmd *cfs.Command) (*cfs.Result, error) {
	if cmd.V == 0 {
		cmd.V = cfs.CommandVersion
	}
	if cmd.Time == 0 {
		cmd.Time = time.Now().Unix()
	}
	if cmd.Node == "" {
		cmd.Node = b.NodeName
	}
	data, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.index++
	return b.T.Apply(b.index, time.Now().UnixMilli(), data), nil
}

// LinearizableRead implements Backend.
func (b *LocalBackend) LinearizableRead(context.Context) error { return nil }
