package cfs

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxFileSize is pmxcfs's per-file limit (MEMDB_MAX_FILE_SIZE, 1 MiB).
const MaxFileSize = 1024 * 1024

// MaxNameLen is the longest name of one path component (pmxcfs f_namemax).
const MaxNameLen = 255

// ErrInvalidPath reports a path that pmxcfs would refuse.
var ErrInvalidPath = errors.New("invalid path")

// CleanPath turns "/etc/pve/a//b/" or "a/b" into the canonical "a/b" form;
// the tree root is "".
func CleanPath(p string) string {
	p = strings.TrimPrefix(p, "/etc/pve")
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

// ValidatePath checks a canonical path: UTF-8, no empty, ".", ".." or
// over-long components, no control characters.
func ValidatePath(p string) error {
	if p == "" {
		return fmt.Errorf("%w: empty path", ErrInvalidPath)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidPath)
	}
	for _, name := range strings.Split(p, "/") {
		switch {
		case name == "" || name == "." || name == "..":
			return fmt.Errorf("%w: bad component %q in %q", ErrInvalidPath, name, p)
		case len(name) > MaxNameLen:
			return fmt.Errorf("%w: component of %q longer than %d bytes", ErrInvalidPath, p, MaxNameLen)
		}
		for _, r := range name {
			if r < 0x20 || r == 0x7f {
				return fmt.Errorf("%w: control character in %q", ErrInvalidPath, p)
			}
		}
	}
	return nil
}

// IsPrivate reports whether p is under priv/ or nodes/<n>/priv/ (root only).
func IsPrivate(p string) bool {
	if p == "priv" || strings.HasPrefix(p, "priv/") {
		return true
	}
	parts := strings.SplitN(p, "/", 4)
	return len(parts) >= 3 && parts[0] == "nodes" && parts[2] == "priv"
}
