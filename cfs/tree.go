package cfs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"path"
	"sort"
	"strings"
	"sync"
)

// state is the whole replicated content at one point of the log.
// Only Apply (one goroutine) mutates it, under Tree.mu.
type state struct {
	version   uint64 // global version, +1 per change (pmxcfs memdb root version)
	mtime     int64  // mtime of the last change
	writer    string // node of the last change
	clock     int64  // leader time (unix ms) of the last applied entry; never goes back
	applied   uint64 // log index of the last applied entry
	entries   map[string]*Entry
	children  map[string]map[string]struct{} // dir path -> child names
	locks     map[string]*Lock
	lockFence uint64 // highest fencing token handed out
}

func newState() *state {
	st := &state{
		entries:  make(map[string]*Entry),
		children: make(map[string]map[string]struct{}),
		locks:    make(map[string]*Lock),
	}
	st.entries[""] = &Entry{Path: "", Type: TypeDir}
	st.children[""] = make(map[string]struct{})
	return st
}

// Tree is the replicated file tree (pmxcfs memdb). Reads are safe from any
// goroutine; changes happen only through Apply.
type Tree struct {
	reg      *Registry
	handlers *Handlers

	mu sync.RWMutex
	st *state
}

// NewTree returns an empty tree using the given file formats and command
// handlers (either may be nil).
func NewTree(reg *Registry, handlers *Handlers) *Tree {
	if reg == nil {
		reg = NewRegistry()
	}
	if handlers == nil {
		handlers = NewHandlers()
	}
	return &Tree{reg: reg, handlers: handlers, st: newState()}
}

// Registry returns the tree's file format registry.
func (t *Tree) Registry() *Registry { return t.reg }

// Handlers returns the tree's registered command handlers.
func (t *Tree) Handlers() *Handlers { return t.handlers }

// Get returns the entry at path ("" is the root).
func (t *Tree) Get(p string) (*Entry, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e, ok := t.st.entries[p]
	return e, ok
}

// Model returns the model of a registered file; a missing file yields the
// model its format parses from no content (Proxmox calls the parser even then).
func (t *Tree) Model(p string) (Model, uint64, error) {
	t.mu.RLock()
	e, ok := t.st.entries[p]
	t.mu.RUnlock()
	if ok && e.model != nil {
		return e.model, e.Version, nil
	}
	f, reg := t.reg.Lookup(p)
	if !reg {
		return nil, 0, &Error{Status: 500, Message: "unknown file type '" + p + "'"}
	}
	var data []byte
	var ver uint64
	if ok {
		data, ver = e.data, e.Version
	}
	m, _, err := f.Parse(data)
	return m, ver, err
}

// List returns the entries directly inside dir, sorted by name.
func (t *Tree) List(dir string) ([]*Entry, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	e, ok := t.st.entries[dir]
	if !ok {
		return nil, errNotFound(dir)
	}
	if !e.IsDir() {
		return nil, errNotDir(dir)
	}
	names := make([]string, 0, len(t.st.children[dir]))
	for n := range t.st.children[dir] {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*Entry, 0, len(names))
	for _, n := range names {
		out = append(out, t.st.entries[join(dir, n)])
	}
	return out, nil
}

// Version returns the global tree version (incremented by every change).
func (t *Tree) Version() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.st.version
}

// AppliedIndex returns the log index of the last applied command.
func (t *Tree) AppliedIndex() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.st.applied
}

// Clock returns the leader time (unix ms) of the last applied command.
func (t *Tree) Clock() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.st.clock
}

// Paths returns every path in the tree, sorted (the root excluded).
func (t *Tree) Paths() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]string, 0, len(t.st.entries))
	for p := range t.st.entries {
		if p != "" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Locks returns the current lock table, sorted by lock id.
func (t *Tree) Locks() []Lock {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Lock, 0, len(t.st.locks))
	for _, l := range t.st.locks {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Checksum is a SHA-256 over every entry's path, type, version, mtime,
// writer and content, plus the global version and lock table: equal
// checksums mean identical trees.
func (t *Tree) Checksum() string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	h := sha256.New()
	var buf [8]byte
	num := func(v uint64) { binary.BigEndian.PutUint64(buf[:], v); h.Write(buf[:]) }
	num(t.st.version)
	paths := make([]string, 0, len(t.st.entries))
	for p := range t.st.entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		e := t.st.entries[p]
		h.Write([]byte(p))
		h.Write([]byte{0, byte(e.Type)})
		num(e.Inode)
		num(e.Version)
		num(uint64(e.Mtime))
		h.Write([]byte(e.Writer))
		h.Write([]byte{0})
		if !e.IsDir() {
			b := e.Bytes()
			num(uint64(len(b)))
			h.Write(b)
		}
	}
	ids := make([]string, 0, len(t.st.locks))
	for id := range t.st.locks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		l := t.st.locks[id]
		h.Write([]byte(l.ID + "\x00" + l.Owner + "\x00"))
		num(l.Fence)
		num(uint64(l.Expires))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func parentOf(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

func baseOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
