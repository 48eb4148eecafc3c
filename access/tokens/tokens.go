// Package tokens implements priv/token.cfg, the API token secrets.
//
// Proxmox stores one "<user>@<realm>!<tokenid> <secret>" line per token with
// the secret (a random UUID) in clear text. pvecfs stores only a one-way hash
// of it:
//
//	<user>@<realm>!<tokenid> $pvecfs-sha256$<64 lower-case hex digits>
//
// The hash is plain SHA-256 of the secret. Secrets are random v4 UUIDs (122
// random bits), so no salt or slow KDF is needed: guessing is as hard as
// guessing the secret, and the same secret hashes the same on every node and
// cluster. A Proxmox line with a clear secret is converted to this form when
// parsed (import), so rendering never writes a usable secret.
package tokens

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
	iradix "github.com/hashicorp/go-immutable-radix"

	"github.com/pvecfs/pvecfs/cfs"
)

// Path is the file's path relative to the tree root.
const Path = "priv/token.cfg"

// HashPrefix marks a stored secret hash.
const HashPrefix = "$pvecfs-sha256$"

// warnInvalid is Proxmox's warning for a line it cannot use.
const warnInvalid = "skipping invalid token.cfg entry"

// Perl's \s on byte strings is [ \t\n\v\f\r]; RE2's \s lacks \v, so the
// classes are spelled out.
const (
	userRE  = `[^\t\n\v\f\r :/]+`
	realmRE = `[A-Za-z][A-Za-z0-9.\-_]+`
)

var (
	tokenIDRe = regexp.MustCompile(`^` + userRE + `@` + realmRE + `!` + realmRE + `$`)
	subIDRe   = regexp.MustCompile(`^` + realmRE + `$`)
	lineRe    = regexp.MustCompile(`^([^\t\n\v\f\r ]+) ([^\t\n\v\f\r ]+)$`)
)

// Store is the immutable model of priv/token.cfg: full token id to secret
// hash. The zero value is empty and ready to use; changes return new values
// that share structure with the old.
type Store struct {
	tree *iradix.Tree
}

var _ cfs.Model = (*Store)(nil)

// Format returns the registered format of priv/token.cfg.
func Format() cfs.Format {
	return cfs.Format{
		Path: Path,
		Parse: func(data []byte) (cfs.Model, []string, error) {
			s, warnings := Parse(data)
			return s, warnings, nil
		},
	}
}

// New returns an empty store.
func New() *Store {
	return &Store{tree: iradix.New()}
}

func (s *Store) root() *iradix.Tree {
	if s == nil || s.tree == nil {
		return iradix.New()
	}
	return s.tree
}

// Parse reads token.cfg like Proxmox: blank lines are skipped, every other
// line must be "<tokenid> <value>" with a valid full token id, or it is
// dropped with Proxmox's warning. A value in pvecfs's hash form is kept; any
// other value is a clear secret (Proxmox's form) and is stored as its hash.
// A later line for the same token replaces an earlier one.
func Parse(data []byte) (*Store, []string) {
	txn := iradix.New().Txn()
	var warnings []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimLeft(line, " \t\n\v\f\r") == "" {
			continue
		}
		m := lineRe.FindStringSubmatch(line)
		if m == nil || !ValidTokenID(m[1]) {
			warnings = append(warnings, warnInvalid)
			continue
		}
		value := m[2]
		if !IsHash(value) {
			value = HashSecret(value)
		}
		txn.Insert([]byte(m[1]), value)
	}
	return &Store{tree: txn.Commit()}, warnings
}

// Render writes "<tokenid> <hash>\n" per token, sorted by token id.
func (s *Store) Render() []byte {
	var b strings.Builder
	s.root().Root().Walk(func(k []byte, v interface{}) bool {
		b.Write(k)
		b.WriteByte(' ')
		b.WriteString(v.(string))
		b.WriteByte('\n')
		return false
	})
	return []byte(b.String())
}

// HashSecret returns the stored form of a token secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return HashPrefix + hex.EncodeToString(sum[:])
}

// IsHash reports whether v is a secret hash as HashSecret makes it.
func IsHash(v string) bool {
	if len(v) != len(HashPrefix)+2*sha256.Size || !strings.HasPrefix(v, HashPrefix) {
		return false
	}
	for _, c := range v[len(HashPrefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// NewSecret returns a new random token secret: a canonical lower-case v4 UUID,
// as Proxmox generates.
func NewSecret() (string, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generate token secret: %w", err)
	}
	return u.String(), nil
}

// ValidTokenID reports whether id is a full token id "<user>@<realm>!<tokenid>"
// as Proxmox's pve_verify_tokenid accepts it.
func ValidTokenID(id string) bool {
	return tokenIDRe.MatchString(id)
}

// Len returns the number of tokens.
func (s *Store) Len() int {
	return s.root().Len()
}

// TokenIDs returns all full token ids, sorted.
func (s *Store) TokenIDs() []string {
	out := make([]string, 0, s.Len())
	s.root().Root().Walk(func(k []byte, _ interface{}) bool {
		out = append(out, string(k))
		return false
	})
	return out
}

// Has reports whether the token has a stored secret.
func (s *Store) Has(tokenid string) bool {
	_, ok := s.root().Get([]byte(tokenid))
	return ok
}

// Hash returns the stored secret hash of a token.
func (s *Store) Hash(tokenid string) (string, bool) {
	v, ok := s.root().Get([]byte(tokenid))
	if !ok {
		return "", false
	}
	return v.(string), true
}

// Verify reports whether secret is the token's secret. Like pmxcfs it refuses
// a value containing a newline or NUL; the hash comparison takes constant time.
func (s *Store) Verify(tokenid, secret string) bool {
	if secret == "" || strings.ContainsAny(secret, "\n\x00") {
		return false
	}
	want, ok := s.Hash(tokenid)
	if !ok {
		return false
	}
	got := HashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// With returns a copy in which tokenid has the given secret hash (from
// HashSecret), replacing any earlier one. A clear secret is refused.
func (s *Store) With(tokenid, hash string) (*Store, error) {
	if !ValidTokenID(tokenid) {
		return nil, fmt.Errorf("value '%s' does not look like a valid token ID", tokenid)
	}
	if !IsHash(hash) {
		return nil, fmt.Errorf("token '%s': value is not a secret hash", tokenid)
	}
	t, _, _ := s.root().Insert([]byte(tokenid), hash)
	return &Store{tree: t}, nil
}

// Without returns a copy without the token (the same value if absent).
func (s *Store) Without(tokenid string) *Store {
	t, _, ok := s.root().Delete([]byte(tokenid))
	if !ok {
		return s
	}
	return &Store{tree: t}
}

// WithoutUser returns a copy without any token of userid ("user@realm"). A
// token belongs to the user whose id is everything before its last '!'.
func (s *Store) WithoutUser(userid string) *Store {
	prefix := userid + "!"
	var drop [][]byte
	s.root().Root().WalkPrefix([]byte(prefix), func(k []byte, _ interface{}) bool {
		// A longer user id can share the prefix ("a@pve!x@pve!t" starts with
		// "a@pve!"); the rest must be a bare token name.
		if subIDRe.Match(k[len(prefix):]) {
			drop = append(drop, k)
		}
		return false
	})
	if len(drop) == 0 {
		return s
	}
	txn := s.root().Txn()
	for _, k := range drop {
		txn.Delete(k)
	}
	return &Store{tree: txn.Commit()}
}
