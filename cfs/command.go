package cfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// CommandVersion is the envelope version written into every command.
const CommandVersion = 1

// Command is one Raft log entry: a typed, versioned, deterministic change.
// Everything it needs of time, identity or secrets is stamped by the node
// that received the request before it enters the log.
type Command struct {
	V    int    `json:"v"`
	Op   string `json:"op"`
	Time int64  `json:"time"` // receiving node's clock, unix seconds (becomes mtime)
	Node string `json:"node"` // receiving node's name (becomes writer)
	// Fence makes the command valid only while the named lock is still held
	// with this fencing token.
	Fence *Fence `json:"fence,omitempty"`
	// Await lists locks that must not be held by anyone but Owner; if one is,
	// the command fails with CodeLockBusy and changes nothing.
	Await []string `json:"await,omitempty"`
	// Owner identifies the issuer for Await (a holder's own writes pass).
	Owner string          `json:"owner,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
}

// Fence names a lock and the fencing token of its grant.
type Fence struct {
	Lock  string `json:"lock"`
	Token uint64 `json:"token"`
}

// Result is what applying a command returns on every node.
type Result struct {
	Index uint64          `json:"index"`
	Value json.RawMessage `json:"value,omitempty"`
	Err   *Error          `json:"err,omitempty"`
}

// Error returns the command's failure, or nil.
func (r *Result) Error() error {
	if r == nil || r.Err == nil {
		return nil
	}
	return r.Err
}

// Decode unmarshals the result value into v.
func (r *Result) Decode(v any) error {
	if len(r.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Value, v)
}

// NewCommand builds a command with op and a JSON-encoded body.
func NewCommand(op string, body any) (*Command, error) {
	c := &Command{V: CommandVersion, Op: op}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", op, err)
		}
		c.Body = b
	}
	return c, nil
}

// Encode serialises the command for the log: the envelope as one JSON
// line, then the body. Apply parses the small envelope and hands the body
// to the handler as is, so the body is decoded once, not twice.
func (c *Command) Encode() ([]byte, error) {
	env := *c
	env.Body = nil
	b, err := json.Marshal(&env)
	if err != nil {
		return nil, err
	}
	return append(append(b, '\n'), c.Body...), nil
}

// DecodeCommand parses a log entry (the envelope line and the body; an
// entry that is a single JSON object with a "body" field is read too).
func DecodeCommand(b []byte) (*Command, error) {
	var c Command
	head, body, split := bytes.Cut(b, []byte{'\n'})
	if err := json.Unmarshal(head, &c); err != nil {
		return nil, fmt.Errorf("decode command: %w", err)
	}
	if split {
		if c.Body != nil {
			return nil, errors.New("decode command: body given twice")
		}
		if len(body) > 0 {
			c.Body = body
		}
	}
	if c.V != CommandVersion {
		return nil, fmt.Errorf("decode command: unsupported version %d", c.V)
	}
	return &c, nil
}

// Handler applies a registered command to a transaction. It must be
// deterministic: no clock, randomness, I/O or map-order-dependent output.
// A returned error discards every change of the transaction.
type Handler func(tx *Txn, body json.RawMessage) (any, error)

// Handlers is the registry of command handlers by op name.
type Handlers struct {
	mu sync.RWMutex
	m  map[string]Handler
}

// NewHandlers returns a registry holding the built-in file and lock ops.
func NewHandlers() *Handlers {
	h := &Handlers{m: make(map[string]Handler)}
	for op, fn := range builtinOps() {
		h.m[op] = fn
	}
	return h
}

// Register adds a handler; registering an op twice is an error.
func (h *Handlers) Register(op string, fn Handler) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.m[op]; ok {
		return fmt.Errorf("command %q already registered", op)
	}
	h.m[op] = fn
	return nil
}

// MustRegister is Register for program start-up wiring; it panics on a duplicate.
func (h *Handlers) MustRegister(op string, fn Handler) {
	if err := h.Register(op, fn); err != nil {
		panic(err)
	}
}

func (h *Handlers) get(op string) (Handler, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	fn, ok := h.m[op]
	return fn, ok
}

// Ops lists the registered op names.
func (h *Handlers) Ops() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.m))
	for op := range h.m {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}
