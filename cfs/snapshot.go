package cfs

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// snapshotFormat names the snapshot stream format.
const snapshotFormat = "pvecfs-tree-v1"

type snapHeader struct {
	Format  string `json:"format"`
	Version uint64 `json:"version"`
	Mtime   int64  `json:"mtime"`
	Writer  string `json:"writer"`
	Clock   int64  `json:"clock"`
	Applied uint64 `json:"applied"`
	Fence   uint64 `json:"fence"`
	Locks   []Lock `json:"locks"`
	Entries int    `json:"entries"`
}

type snapEntry struct {
	Path    string    `json:"path"`
	Type    EntryType `json:"type"`
	Inode   uint64    `json:"inode"`
	Version uint64    `json:"version"`
	Mtime   int64     `json:"mtime"`
	Writer  string    `json:"writer"`
	Data    []byte    `json:"data,omitempty"`
}

// Snapshot is a point-in-time copy of the tree that can be written while
// the tree goes on changing.
type Snapshot struct {
	hdr     snapHeader
	entries []*Entry
}

// Snapshot captures the current state. It is cheap: entries are immutable
// and shared; only the index is copied.
func (t *Tree) Snapshot() *Snapshot {
	t.mu.RLock()
	defer t.mu.RUnlock()
	st := t.st
	s := &Snapshot{hdr: snapHeader{Format: snapshotFormat, Version: st.version, Mtime: st.mtime, Writer: st.writer,
		Clock: st.clock, Applied: st.applied, Fence: st.lockFence}}
	for _, l := range st.locks {
		s.hdr.Locks = append(s.hdr.Locks, *l)
	}
	sort.Slice(s.hdr.Locks, func(i, j int) bool { return s.hdr.Locks[i].ID < s.hdr.Locks[j].ID })
	s.entries = make([]*Entry, 0, len(st.entries))
	for p, e := range st.entries {
		if p != "" {
			s.entries = append(s.entries, e)
		}
	}
	sort.Slice(s.entries, func(i, j int) bool { return s.entries[i].Path < s.entries[j].Path })
	s.hdr.Entries = len(s.entries)
	return s
}

// WriteTo streams the snapshot: a JSON header line, then one JSON line per
// entry in path order, every file as bytes. Same state, same bytes.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(s.hdr); err != nil {
		return cw.n, fmt.Errorf("write snapshot header: %w", err)
	}
	for _, e := range s.entries {
		se := snapEntry{Path: e.Path, Type: e.Type, Inode: e.Inode, Version: e.Version, Mtime: e.Mtime, Writer: e.Writer}
		if !e.IsDir() {
			se.Data = e.Bytes()
		}
		if err := enc.Encode(se); err != nil {
			return cw.n, fmt.Errorf("write snapshot entry %s: %w", e.Path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore replaces the whole tree with a snapshot stream; registered files
// are parsed again. On error the tree is unchanged.
func (t *Tree) Restore(r io.Reader) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	var hdr snapHeader
	if err := dec.Decode(&hdr); err != nil {
		return fmt.Errorf("read snapshot header: %w", err)
	}
	if hdr.Format != snapshotFormat {
		return fmt.Errorf("read snapshot: unknown format %q", hdr.Format)
	}
	st := newState()
	st.version, st.mtime, st.writer = hdr.Version, hdr.Mtime, hdr.Writer
	st.clock, st.applied, st.lockFence = hdr.Clock, hdr.Applied, hdr.Fence
	st.entries[""] = &Entry{Path: "", Type: TypeDir, Version: hdr.Version, Mtime: hdr.Mtime, Writer: hdr.Writer}
	for i := range hdr.Locks {
		l := hdr.Locks[i]
		st.locks[l.ID] = &l
	}
	for i := 0; i < hdr.Entries; i++ {
		var se snapEntry
		if err := dec.Decode(&se); err != nil {
			return fmt.Errorf("read snapshot entry %d: %w", i, err)
		}
		if err := ValidatePath(se.Path); err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
		dir := parentOf(se.Path)
		if _, ok := st.children[dir]; !ok {
			return fmt.Errorf("read snapshot: %s before its directory", se.Path)
		}
		e := &Entry{Path: se.Path, Type: se.Type, Inode: se.Inode, Version: se.Version, Mtime: se.Mtime, Writer: se.Writer}
		switch se.Type {
		case TypeDir:
			st.children[se.Path] = make(map[string]struct{})
		case TypeFile:
			if f, ok := t.reg.Lookup(se.Path); ok {
				m, _, err := f.Parse(se.Data)
				if err != nil {
					return fmt.Errorf("read snapshot: parse %s: %w", se.Path, err)
				}
				e.model = m
			} else {
				e.data = se.Data
				if e.data == nil {
					e.data = []byte{}
				}
			}
		default:
			return fmt.Errorf("read snapshot: %s has unknown type %d", se.Path, se.Type)
		}
		st.entries[se.Path] = e
		st.children[dir][baseOf(se.Path)] = struct{}{}
	}
	t.mu.Lock()
	t.st = st
	t.mu.Unlock()
	return nil
}
