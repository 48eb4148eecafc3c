// Package shadow implements priv/shadow.cfg, the password hashes of the "pve"
// realm, and the crypt(3) hashes stored in it.
//
// The file holds one "<name>:<crypt-hash>:" line per user, keyed by the bare
// user name without "@pve" (Proxmox stores alice@pve as "alice"). Proxmox writes
// the lines in hash order; pvecfs writes them sorted by name so that every node
// renders identical bytes.
package shadow

import (
	"errors"
	"fmt"
	"strings"

	iradix "github.com/hashicorp/go-immutable-radix"

	"github.com/pvecfs/pvecfs/cfs"
)

// Path is the file's path relative to the tree root.
const Path = "priv/shadow.cfg"

// Errors of a password check, in Proxmox's words (PVE::Auth::PVE).
var (
	ErrNoPassword         = errors.New("no password")
	ErrNoPasswordSet      = errors.New("no password set")
	ErrInvalidCredentials = errors.New("invalid credentials")
)

// Shadow is the immutable model of priv/shadow.cfg. The zero value is empty and
// ready to use; changes return new values that share structure with the old.
type Shadow struct {
	tree *iradix.Tree
}

var _ cfs.Model = (*Shadow)(nil)

// Format returns the registered format of priv/shadow.cfg.
func Format() cfs.Format {
	return cfs.Format{
		Path: Path,
		Parse: func(data []byte) (cfs.Model, []string, error) {
			s, warnings := Parse(data)
			return s, warnings, nil
		},
	}
}

// New returns an empty shadow file.
func New() *Shadow {
	return &Shadow{tree: iradix.New()}
}

func (s *Shadow) root() *iradix.Tree {
	if s == nil || s.tree == nil {
		return iradix.New()
	}
	return s.tree
}

// Parse reads shadow.cfg like Proxmox: every trimmed, non-empty line must look
// like "name:hash:"; anything else is dropped with a warning. A later line for
// the same name replaces an earlier one.
func Parse(data []byte) (*Shadow, []string) {
	txn := iradix.New().Txn()
	var warnings []string
	for i, raw := range strings.Split(string(data), "\n") {
		line := trimSpace(raw)
		if line == "" {
			continue
		}
		name, hash, ok := splitLine(line)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("pve shadow password: ignore invalid line %d", i+1))
			continue
		}
		txn.Insert([]byte(name), hash)
	}
	return &Shadow{tree: txn.Commit()}, warnings
}

// splitLine checks a trimmed line against Proxmox's ^\S+:\S+:$ and returns
// its first two ':'-separated fields, as Perl's split does.
func splitLine(line string) (name, hash string, ok bool) {
	if len(line) < 4 || line[len(line)-1] != ':' || strings.IndexFunc(line, isSpaceRune) >= 0 {
		return "", "", false
	}
	// The regex needs a ':' with at least one byte on either side before the
	// final ':'.
	body := line[:len(line)-1]
	if i := strings.IndexByte(body[1:], ':'); i < 0 || i+2 >= len(body) {
		return "", "", false
	}
	fields := strings.Split(body, ":")
	name, hash = fields[0], fields[1]
	// Perl would keep empty fields here ("::x:"); such a line cannot be
	// written back, so it is dropped as invalid instead.
	if name == "" || hash == "" {
		return "", "", false
	}
	return name, hash, true
}

// Render writes the file: "name:hash:\n" per user, sorted by name.
func (s *Shadow) Render() []byte {
	t := s.root()
	var b strings.Builder
	t.Root().Walk(func(k []byte, v interface{}) bool {
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(v.(string))
		b.WriteString(":\n")
		return false
	})
	return []byte(b.String())
}

// Len returns the number of users with a password.
func (s *Shadow) Len() int {
	return s.root().Len()
}

// Names returns the user names with a password, sorted.
func (s *Shadow) Names() []string {
	out := make([]string, 0, s.Len())
	s.root().Root().Walk(func(k []byte, _ interface{}) bool {
		out = append(out, string(k))
		return false
	})
	return out
}

// Get returns the stored hash of a user (bare name, without "@pve").
func (s *Shadow) Get(name string) (string, bool) {
	v, ok := s.root().Get([]byte(name))
	if !ok {
		return "", false
	}
	return v.(string), true
}

// With returns a copy in which name has the given crypt hash. Both must be
// non-empty and free of whitespace and ':', so that the line reads back
// unchanged.
func (s *Shadow) With(name, hash string) (*Shadow, error) {
	if !validField(name) {
		return nil, fmt.Errorf("shadow: invalid user name %q", name)
	}
	if !validField(hash) {
		return nil, fmt.Errorf("shadow: invalid password hash for user '%s'", name)
	}
	t, _, _ := s.root().Insert([]byte(name), hash)
	return &Shadow{tree: t}, nil
}

// Without returns a copy without name's entry (the same value if absent).
func (s *Shadow) Without(name string) *Shadow {
	t, _, ok := s.root().Delete([]byte(name))
	if !ok {
		return s
	}
	return &Shadow{tree: t}
}

// Check authenticates a pve-realm user as PVE::Auth::PVE does: an empty
// password is ErrNoPassword, a user without an entry ErrNoPasswordSet, and a
// wrong password ErrInvalidCredentials.
func (s *Shadow) Check(name, password string) error {
	if password == "" {
		return ErrNoPassword
	}
	hash, ok := s.Get(name)
	if !ok {
		return ErrNoPasswordSet
	}
	if !Verify(password, hash) {
		return ErrInvalidCredentials
	}
	return nil
}

func validField(f string) bool {
	return f != "" && strings.IndexFunc(f, func(r rune) bool { return r == ':' || isSpaceRune(r) }) < 0
}

// isSpaceRune matches Perl's \s on byte strings: space, \t, \n, \v, \f, \r.
func isSpaceRune(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// trimSpace trims Perl \s characters from both ends.
func trimSpace(s string) string {
	return strings.TrimFunc(s, isSpaceRune)
}
