package cfs

import (
	"encoding/json"
	"fmt"
)

// WriteRequest is the body of the "write" op (raw file put).
type WriteRequest struct {
	Path    string `json:"path"`
	Data    []byte `json:"data"`
	Digest  string `json:"digest,omitempty"`
	Strict  bool   `json:"strict,omitempty"`
	Parents bool   `json:"parents,omitempty"`
}

// WriteResult is what a write returns.
type WriteResult struct {
	Path     string   `json:"path"`
	Version  uint64   `json:"version"`
	Digest   string   `json:"digest"`
	Warnings []string `json:"warnings,omitempty"`
}

// PathRequest is the body of "mkdir" and "delete".
type PathRequest struct {
	Path    string `json:"path"`
	Digest  string `json:"digest,omitempty"`
	Parents bool   `json:"parents,omitempty"`
}

// RenameRequest is the body of "rename".
type RenameRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// BatchOp is one step of a "batch" command.
type BatchOp struct {
	Op   string          `json:"op"`
	Body json.RawMessage `json:"body"`
}

// Built-in op names.
const (
	OpWrite       = "write"
	OpMkdir       = "mkdir"
	OpDelete      = "delete"
	OpRename      = "rename"
	OpBatch       = "batch"
	OpLockAcquire = "lock.acquire"
	OpLockRenew   = "lock.renew"
	OpLockRelease = "lock.release"
	OpNoop        = "noop"
)

func builtinOps() map[string]Handler {
	return map[string]Handler{
		OpWrite:       opWrite,
		OpMkdir:       opMkdir,
		OpDelete:      opDelete,
		OpRename:      opRename,
		OpBatch:       opBatch,
		OpLockAcquire: opLockAcquire,
		OpLockRenew:   opLockRenew,
		OpLockRelease: opLockRelease,
		OpNoop:        func(*Txn, json.RawMessage) (any, error) { return nil, nil },
	}
}

func decodeBody(body json.RawMessage, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf(400, CodeInvalid, "bad request body: %v", err)
	}
	return nil
}

func checkDigest(tx *Txn, p, digest string) error {
	if digest == "" {
		return nil
	}
	if e, ok := tx.Get(p); ok && !e.IsDir() && e.Digest() != digest {
		return &Error{Status: 500, Code: CodeDigest, Message: DigestMismatch}
	}
	return nil
}

func opWrite(tx *Txn, body json.RawMessage) (any, error) {
	var r WriteRequest
	if err := decodeBody(body, &r); err != nil {
		return nil, err
	}
	if err := ValidatePath(r.Path); err != nil {
		return nil, Errorf(400, CodeInvalid, "%v", err)
	}
	if err := checkDigest(tx, r.Path, r.Digest); err != nil {
		return nil, err
	}
	if r.Parents {
		if err := tx.MkdirAll(parentOf(r.Path)); err != nil {
			return nil, err
		}
	}
	before := len(tx.warns)
	if err := tx.WriteFile(r.Path, r.Data, r.Strict); err != nil {
		return nil, err
	}
	e, _ := tx.Get(r.Path)
	return WriteResult{Path: r.Path, Version: e.Version, Digest: e.Digest(), Warnings: tx.warns[before:]}, nil
}

func opMkdir(tx *Txn, body json.RawMessage) (any, error) {
	var r PathRequest
	if err := decodeBody(body, &r); err != nil {
		return nil, err
	}
	if r.Parents {
		return nil, tx.MkdirAll(r.Path)
	}
	return nil, tx.Mkdir(r.Path)
}

func opDelete(tx *Txn, body json.RawMessage) (any, error) {
	var r PathRequest
	if err := decodeBody(body, &r); err != nil {
		return nil, err
	}
	if err := checkDigest(tx, r.Path, r.Digest); err != nil {
		return nil, err
	}
	return nil, tx.Delete(r.Path)
}

func opRename(tx *Txn, body json.RawMessage) (any, error) {
	var r RenameRequest
	if err := decodeBody(body, &r); err != nil {
		return nil, err
	}
	return nil, tx.Rename(r.From, r.To)
}

// opBatch runs built-in ops in order as one atomic change.
func opBatch(tx *Txn, body json.RawMessage) (any, error) {
	var ops []BatchOp
	if err := decodeBody(body, &ops); err != nil {
		return nil, err
	}
	results := make([]any, 0, len(ops))
	builtins := builtinOps()
	for i, op := range ops {
		fn, ok := builtins[op.Op]
		if !ok || op.Op == OpBatch {
			return nil, Errorf(400, CodeInvalid, "batch step %d: unknown op %q", i, op.Op)
		}
		res, err := fn(tx, op.Body)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	}
	return results, nil
}

// Apply runs one log entry against the tree. It is deterministic: the same
// (index, logTime, data) sequence gives byte-identical trees on every node.
// logTime is the leader's append time in unix milliseconds.
func (t *Tree) Apply(index uint64, logTime int64, data []byte) *Result {
	st := t.st // only Apply and Restore replace st; both run on the apply goroutine
	clock := st.clock
	if logTime > clock {
		clock = logTime
	}
	res := &Result{Index: index}
	cmd, err := DecodeCommand(data)
	var tx *Txn
	if err == nil {
		tx = newTxn(st, t.reg, Stamp{Index: index, Clock: clock, Time: cmd.Time, Node: cmd.Node})
		err = t.run(tx, cmd, res)
	}
	t.mu.Lock()
	if err == nil {
		tx.commit()
	} else {
		res.Err = AsError(err)
	}
	st.clock = clock
	st.applied = index
	t.mu.Unlock()
	return res
}

func (t *Tree) run(tx *Txn, cmd *Command, res *Result) error {
	fn, ok := t.handlers.get(cmd.Op)
	if !ok {
		return Errorf(500, CodeInvalid, "unknown command %q", cmd.Op)
	}
	if err := tx.checkFence(cmd.Fence); err != nil {
		return err
	}
	if err := tx.checkAwait(cmd.Await, cmd.Owner); err != nil {
		return err
	}
	v, err := fn(tx, cmd.Body)
	if err != nil {
		return err
	}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode result of %s: %w", cmd.Op, err)
		}
		res.Value = b
	}
	return nil
}
