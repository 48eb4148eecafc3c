package cfs

import (
	"fmt"
	"sort"
	"sync"
)

// Model is the parsed, immutable content of a registered config file.
// Implementations must never be mutated after they are stored in the tree;
// a change builds a new Model (copy-on-write).
type Model interface {
	// Render returns the file's bytes exactly as the format's writer produces them.
	Render() []byte
}

// ParseFunc parses a file's raw bytes into its model. Like Proxmox's parsers it
// refuses nothing that is valid text: what it cannot use is dropped and reported
// as a warning (Proxmox's words). It returns an error only for input it cannot
// represent at all. data may be nil when the file does not exist.
type ParseFunc func(data []byte) (Model, []string, error)

// Format is the parser and writer of one registered file path.
type Format struct {
	// Path is the file path relative to the tree root, e.g. "user.cfg".
	Path string
	// Parse turns raw bytes into the model.
	Parse ParseFunc
}

// Registry maps file paths to their formats.
type Registry struct {
	mu      sync.RWMutex
	formats map[string]Format
}

// NewRegistry returns an empty format registry.
func NewRegistry() *Registry {
	return &Registry{formats: make(map[string]Format)}
}

// Register adds a format; registering the same path twice is an error.
func (r *Registry) Register(f Format) error {
	if f.Parse == nil {
		return fmt.Errorf("register %s: no parser", f.Path)
	}
	if err := ValidatePath(f.Path); err != nil {
		return fmt.Errorf("register %s: %w", f.Path, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.formats[f.Path]; ok {
		return fmt.Errorf("file '%s' already registered", f.Path)
	}
	r.formats[f.Path] = f
	return nil
}

// Lookup returns the format registered for path.
func (r *Registry) Lookup(path string) (Format, bool) {
	if r == nil {
		return Format{}, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.formats[path]
	return f, ok
}

// Paths lists the registered paths in sorted order.
func (r *Registry) Paths() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.formats))
	for p := range r.formats {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
