package cfs

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Stamp is what the log fixes for one command: where and when it was
// received and where it sits in the log.
type Stamp struct {
	Index uint64 // log index
	Clock int64  // leader time, unix ms (monotonic across the log)
	Time  int64  // receiving node's clock, unix seconds (mtime)
	Node  string // receiving node (writer)
}

// Txn is an atomic change to the tree, built by one command. Changes are
// staged and become visible only if the command succeeds.
type Txn struct {
	st      *state
	reg     *Registry
	stamp   Stamp
	version uint64
	over    map[string]*Entry          // staged entries; nil value = deleted
	kids    map[string]map[string]bool // staged child membership per dir
	order   []string                   // staged paths in first-touch order
	locks   map[string]*Lock           // staged lock table changes; nil = removed
	fence   uint64
	warns   []string
}

func newTxn(st *state, reg *Registry, stamp Stamp) *Txn {
	return &Txn{st: st, reg: reg, stamp: stamp, version: st.version, fence: st.lockFence}
}

// Stamp returns the command's stamp.
func (tx *Txn) Stamp() Stamp { return tx.stamp }

// Warnings returns the parser warnings collected by writes in this txn.
func (tx *Txn) Warnings() []string { return tx.warns }

// Get returns the entry at p as this transaction sees it.
func (tx *Txn) Get(p string) (*Entry, bool) {
	if e, ok := tx.over[p]; ok {
		return e, e != nil
	}
	e, ok := tx.st.entries[p]
	return e, ok
}

// Model returns the current model of a registered file (parsed from no
// content if the file does not exist).
func (tx *Txn) Model(p string) (Model, error) {
	e, ok := tx.Get(p)
	if ok && e.model != nil {
		return e.model, nil
	}
	f, reg := tx.reg.Lookup(p)
	if !reg {
		return nil, &Error{Status: 500, Message: "unknown file type '" + p + "'"}
	}
	var data []byte
	if ok {
		data = e.data
	}
	m, _, err := f.Parse(data)
	return m, err
}

// Children lists the names inside dir, sorted.
func (tx *Txn) Children(dir string) []string {
	set := make(map[string]bool)
	for n := range tx.st.children[dir] {
		set[n] = true
	}
	for n, present := range tx.kids[dir] {
		set[n] = present
	}
	out := make([]string, 0, len(set))
	for n, present := range set {
		if present {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (tx *Txn) stage(p string, e *Entry) {
	if tx.over == nil {
		tx.over = make(map[string]*Entry)
		tx.kids = make(map[string]map[string]bool)
	}
	if _, seen := tx.over[p]; !seen {
		tx.order = append(tx.order, p)
	}
	tx.over[p] = e
	dir, name := parentOf(p), baseOf(p)
	k := tx.kids[dir]
	if k == nil {
		k = make(map[string]bool)
		tx.kids[dir] = k
	}
	k[name] = e != nil
}

func (tx *Txn) bump() uint64 {
	tx.version++
	return tx.version
}

func (tx *Txn) checkParent(p string) error {
	dir := parentOf(p)
	d, ok := tx.Get(dir)
	if !ok {
		return errNotFound(dir)
	}
	if !d.IsDir() {
		return errNotDir(dir)
	}
	return nil
}

// Mkdir creates a directory; the parent must exist (EEXIST if p exists).
func (tx *Txn) Mkdir(p string) error {
	if err := ValidatePath(p); err != nil {
		return Errorf(400, CodeInvalid, "%v", err)
	}
	if _, ok := tx.Get(p); ok {
		return Errorf(500, CodeExists, "'%s' already exists", p)
	}
	if err := tx.checkParent(p); err != nil {
		return err
	}
	v := tx.bump()
	tx.stage(p, &Entry{Path: p, Type: TypeDir, Inode: v, Version: v, Mtime: tx.stamp.Time, Writer: tx.stamp.Node})
	return nil
}

// MkdirAll creates p and any missing parents; existing directories are kept.
func (tx *Txn) MkdirAll(p string) error {
	if p == "" {
		return nil
	}
	if e, ok := tx.Get(p); ok {
		if !e.IsDir() {
			return errNotDir(p)
		}
		return nil
	}
	if err := tx.MkdirAll(parentOf(p)); err != nil {
		return err
	}
	return tx.Mkdir(p)
}

// WriteFile replaces (or creates) a file with raw bytes. A registered file
// is parsed: its warnings are collected, and with strict any warning
// refuses the write. Content must be UTF-8 and at most MaxFileSize bytes.
func (tx *Txn) WriteFile(p string, data []byte, strict bool) error {
	if err := ValidatePath(p); err != nil {
		return Errorf(400, CodeInvalid, "%v", err)
	}
	if len(data) > MaxFileSize {
		return Errorf(400, CodeInvalid, "unable to write '%s' - File too large (%d bytes, limit %d)", p, len(data), MaxFileSize)
	}
	if !utf8.Valid(data) {
		return Errorf(400, CodeInvalid, "unable to write '%s' - content is not valid UTF-8 text", p)
	}
	if f, ok := tx.reg.Lookup(p); ok {
		m, warns, err := f.Parse(data)
		if err != nil {
			return Errorf(400, CodeInvalid, "unable to parse '%s' - %v", p, err)
		}
		if strict && len(warns) > 0 {
			return Errorf(400, CodeInvalid, "refusing to write '%s' (strict): %s", p, strings.Join(warns, "; "))
		}
		tx.warns = append(tx.warns, warns...)
		return tx.put(p, nil, m)
	}
	return tx.put(p, append([]byte(nil), data...), nil)
}

// PutModel stores a new model for a registered file (copy-on-write: m must
// not be changed afterwards).
func (tx *Txn) PutModel(p string, m Model) error {
	if _, ok := tx.reg.Lookup(p); !ok {
		return &Error{Status: 500, Message: "unknown file type '" + p + "'"}
	}
	return tx.put(p, nil, m)
}

func (tx *Txn) put(p string, data []byte, m Model) error {
	old, exists := tx.Get(p)
	if exists && old.IsDir() {
		return Errorf(500, CodeExists, "'%s' is a directory", p)
	}
	if !exists {
		if err := tx.checkParent(p); err != nil {
			return err
		}
	}
	v := tx.bump()
	e := &Entry{Path: p, Type: TypeFile, Inode: v, Version: v, Mtime: tx.stamp.Time, Writer: tx.stamp.Node, data: data, model: m}
	if exists {
		e.Inode = old.Inode
	}
	tx.stage(p, e)
	return nil
}

// Delete removes a file or an empty directory.
func (tx *Txn) Delete(p string) error {
	e, ok := tx.Get(p)
	if !ok || p == "" {
		return errNotFound(p)
	}
	if e.IsDir() && len(tx.Children(p)) > 0 {
		return Errorf(500, CodeInvalid, "unable to remove '%s' - Directory not empty", p)
	}
	tx.bump()
	tx.stage(p, nil)
	return nil
}

// Rename moves a file or an empty directory; an existing target file is
// replaced. The entry keeps its inode and gets a new version.
func (tx *Txn) Rename(from, to string) error {
	if err := ValidatePath(to); err != nil {
		return Errorf(400, CodeInvalid, "%v", err)
	}
	e, ok := tx.Get(from)
	if !ok || from == "" {
		return errNotFound(from)
	}
	if e.IsDir() && len(tx.Children(from)) > 0 {
		return Errorf(500, CodeInvalid, "unable to rename '%s' - Directory not empty", from)
	}
	if strings.HasPrefix(to+"/", from+"/") {
		return Errorf(500, CodeInvalid, "unable to rename '%s' to '%s' - Invalid argument", from, to)
	}
	if strings.HasPrefix(from, "priv/lock/") {
		return Errorf(403, CodeInvalid, "unable to rename '%s' - Permission denied", from)
	}
	if t, exists := tx.Get(to); exists && t.IsDir() {
		return Errorf(500, CodeExists, "'%s' already exists", to)
	}
	if err := tx.checkParent(to); err != nil {
		return err
	}
	_, fromReg := tx.reg.Lookup(from)
	toFmt, toReg := tx.reg.Lookup(to)
	n := e.clone()
	n.Path = to
	n.Version = tx.bump()
	n.Mtime, n.Writer = tx.stamp.Time, tx.stamp.Node
	switch {
	case toReg && n.model == nil && !n.IsDir():
		m, warns, err := toFmt.Parse(n.data)
		if err != nil {
			return Errorf(400, CodeInvalid, "unable to parse '%s' - %v", to, err)
		}
		tx.warns = append(tx.warns, warns...)
		n.model, n.data = m, nil
	case fromReg && !toReg && n.model != nil:
		n.data, n.model = n.model.Render(), nil
	}
	tx.stage(from, nil)
	tx.stage(to, n)
	return nil
}

// commit makes the staged changes part of the state.
func (tx *Txn) commit() {
	st := tx.st
	for _, p := range tx.order {
		e := tx.over[p]
		dir, name := parentOf(p), baseOf(p)
		if e == nil {
			delete(st.entries, p)
			delete(st.children, p)
			delete(st.children[dir], name)
			continue
		}
		st.entries[p] = e
		if e.IsDir() && st.children[p] == nil {
			st.children[p] = make(map[string]struct{})
		}
		st.children[dir][name] = struct{}{}
	}
	for id, l := range tx.locks {
		if l == nil {
			delete(st.locks, id)
		} else {
			st.locks[id] = l
		}
	}
	if tx.version != st.version {
		st.version = tx.version
		st.mtime = tx.stamp.Time
		st.writer = tx.stamp.Node
		root := st.entries[""].clone()
		root.Version, root.Mtime, root.Writer = st.version, st.mtime, st.writer
		st.entries[""] = root
	}
	st.lockFence = tx.fence
}
