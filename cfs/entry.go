package cfs

import (
	"crypto/sha1"
	"encoding/hex"
	"sync"
)

// EntryType tells a file from a directory.
type EntryType uint8

const (
	// TypeFile is a regular file.
	TypeFile EntryType = 1
	// TypeDir is a directory.
	TypeDir EntryType = 2
)

// Entry is one immutable node of the tree: a file or a directory.
// A change to a file replaces its Entry; readers may keep old ones.
type Entry struct {
	Path    string    `json:"path"`
	Type    EntryType `json:"type"`
	Inode   uint64    `json:"inode"`
	Version uint64    `json:"version"`
	Mtime   int64     `json:"mtime"`
	Writer  string    `json:"writer"`

	data  []byte // plain file content (unregistered files)
	model Model  // parsed content (registered files)

	once     sync.Once
	rendered []byte
	digest   string
}

// IsDir reports whether the entry is a directory.
func (e *Entry) IsDir() bool { return e.Type == TypeDir }

// Bytes returns the file content; a registered file is rendered by its
// format's writer once per version. The slice must not be modified.
func (e *Entry) Bytes() []byte {
	if e.model == nil {
		return e.data
	}
	e.once.Do(e.fill)
	return e.rendered
}

func (e *Entry) fill() {
	if e.model != nil {
		e.rendered = e.model.Render()
		e.digest = sha1hex(e.rendered)
	} else {
		e.digest = sha1hex(e.data)
	}
}

// Model returns the parsed model of a registered file, or nil.
func (e *Entry) Model() Model { return e.model }

// Size is the length of the file content in bytes.
func (e *Entry) Size() int { return len(e.Bytes()) }

// Digest returns the SHA-1 hex digest of the content, as Proxmox computes it.
func (e *Entry) Digest() string {
	if e.IsDir() {
		return ""
	}
	e.once.Do(e.fill)
	return e.digest
}

func sha1hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// clone returns a copy of e with the same content and metadata.
func (e *Entry) clone() *Entry {
	return &Entry{Path: e.Path, Type: e.Type, Inode: e.Inode, Version: e.Version, Mtime: e.Mtime, Writer: e.Writer, data: e.data, model: e.model}
}
