// Package ticket implements Proxmox VE's authentication tickets, CSRF
// prevention tokens and the key material behind them (reference
// access-control.md §2.5, §8.2, §8.3), as pure functions of their inputs:
// the current time is always a parameter.
//
// A ticket is
//
//	PVE:<data, ':' escaped as %3A>:<8 upper-case hex digits of the epoch>::<base64 signature>
//
// signed with the cluster's RSA key (priv/authkey.key) over everything
// before the "::" (plus ":<aad>" for two-factor half tickets). pvecfs signs
// with RSASSA-PKCS1-v1_5 over SHA-1, as PVE did with Crypt::OpenSSL::RSA's
// historic defaults, and verifies PKCS#1 v1.5 with SHA-1 or SHA-256 and PSS
// with SHA-256, so that tickets of every PVE generation verify. Tickets live
// two hours (Lifetime) with five minutes of clock grace (GracePeriod); the
// key pair is rotated after a day (KeyLifetime) and the previous public key
// (authkey.pub.old) keeps verifying the tickets it signed. The key's age is
// the mtime of authkey.pub in the tree.
package ticket

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
)

// Lifetimes in seconds, as PVE::AccessControl sets them.
const (
	// Lifetime is how long a ticket (and a CSRF token) is valid.
	Lifetime = 7200
	// GracePeriod is the clock skew tolerated between nodes.
	GracePeriod = 300
	// KeyLifetime is the age after which the signing key is rotated.
	KeyLifetime = 86400
)

// Prefix is the prefix of user tickets.
const Prefix = "PVE"

// ErrInvalid is the error of every ticket that does not verify, in
// PVE::Ticket's words.
var ErrInvalid = errors.New("permission denied - invalid PVE ticket")

// Ticket is a ticket split into its parts; its signature is not yet checked.
type Ticket struct {
	// Prefix is the ticket kind ("PVE").
	Prefix string
	// Plain is the signed text: "<prefix>:<escaped data>:<HEX>".
	Plain string
	// Data is the unescaped data part ("" when the ticket has none).
	Data string
	// Time is the creation time (unix seconds).
	Time int64
	sig  []byte
}

// Assemble signs a ticket like PVE::Ticket::assemble_rsa_ticket: data (if
// not empty) has ':' escaped, aad ("" for none) is signed but not included.
func Assemble(key *rsa.PrivateKey, prefix, data, aad string, now int64) (string, error) {
	if key == nil {
		return "", errors.New("assemble ticket: no signing key")
	}
	if now < 0 || now > 0xFFFFFFFF {
		return "", fmt.Errorf("assemble ticket: time %d out of range", now)
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte(':')
	if data != "" {
		b.WriteString(strings.ReplaceAll(data, ":", "%3A"))
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%08X", now)
	plain := b.String()
	full := plain
	if aad != "" {
		full += ":" + aad
	}
	h := sha1.Sum([]byte(full))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA1, h[:])
	if err != nil {
		return "", fmt.Errorf("assemble ticket: sign: %w", err)
	}
	return plain + "::" + base64.StdEncoding.EncodeToString(sig), nil
}

// Create returns a user ticket "PVE:<userid>:<HEX>::<sig>".
func Create(key *rsa.PrivateKey, userid string, now int64) (string, error) {
	return Assemble(key, Prefix, userid, "", now)
}

// Parse splits a ticket as verify_rsa_ticket does: ^(<prefix>:\S+)::([^:\s]+)$
// and then ^<prefix>:(?:(\S+):)?([A-Z0-9]{8})$ on the signed part. It checks
// no signature. Only upper-case hexadecimal timestamps are accepted.
func Parse(s, prefix string) (*Ticket, error) {
	i := strings.LastIndex(s, "::")
	if i < 0 {
		return nil, ErrInvalid
	}
	plain, sig64 := s[:i], s[i+2:]
	if !strings.HasPrefix(plain, prefix+":") || len(plain) <= len(prefix)+1 {
		return nil, ErrInvalid
	}
	if hasSpace(plain) || sig64 == "" || strings.ContainsAny(sig64, ": \t\n\v\f\r") {
		return nil, ErrInvalid
	}
	sig, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(sig64, "="))
	if err != nil || len(sig) == 0 {
		return nil, ErrInvalid
	}
	rest := plain[len(prefix)+1:]
	hex := rest
	data, hasData := "", false
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		hex, data, hasData = rest[i+1:], rest[:i], true
		if data == "" {
			return nil, ErrInvalid
		}
	}
	ts, ok := parseHex8(hex)
	if !ok {
		return nil, ErrInvalid
	}
	t := &Ticket{Prefix: prefix, Plain: plain, Time: ts, sig: sig}
	if hasData {
		t.Data = URIUnescape(data)
	}
	return t, nil
}

func hasSpace(s string) bool {
	return strings.ContainsAny(s, " \t\n\v\f\r")
}

// parseHex8 reads exactly 8 upper-case hexadecimal digits.
func parseHex8(s string) (int64, bool) {
	if len(s) != 8 {
		return 0, false
	}
	var v int64
	for i := 0; i < 8; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int64(c-'0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// URIUnescape decodes %XX sequences like Perl's uri_unescape: invalid
// sequences are kept as they are and '+' stays '+'.
func URIUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// VerifySignature reports whether sig is a signature by pub over the
// ticket's signed text (plus ":<aad>" if aad is not empty): PKCS#1 v1.5
// with SHA-1 or SHA-256, or PSS with SHA-256.
func (t *Ticket) VerifySignature(pub *rsa.PublicKey, aad string) bool {
	if pub == nil || t == nil {
		return false
	}
	full := t.Plain
	if aad != "" {
		full += ":" + aad
	}
	h1 := sha1.Sum([]byte(full))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA1, h1[:], t.sig) == nil {
		return true
	}
	h256 := sha256.Sum256([]byte(full))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h256[:], t.sig) == nil {
		return true
	}
	return rsa.VerifyPSS(pub, crypto.SHA256, h256[:], t.sig, nil) == nil
}

// AgeRange is PVE::AccessControl's $get_ticket_age_range: the open interval
// (min, max) a ticket's age must lie in to be accepted with a key whose file
// has mtime. rotated is true for the previous key (authkey.pub.old, whose
// mtime is the rotation time): tickets made after the rotation are refused.
// For the current key, tickets older than the key are refused, and when the
// key is overdue for rotation on a quorate node only tickets made while it
// was due are accepted. ok is false when the key accepts no ticket at all.
func AgeRange(now, mtime int64, rotated, quorate bool) (min, max int64, ok bool) {
	keyAge := now - mtime
	if keyAge < 0 {
		keyAge = 0
	}
	min, max = -GracePeriod, Lifetime
	if rotated {
		min = keyAge - GracePeriod
	} else {
		if keyAge > KeyLifetime && quorate {
			min = keyAge - KeyLifetime
		}
		if keyAge < Lifetime {
			max = keyAge + GracePeriod
		}
	}
	if min > Lifetime {
		return 0, 0, false
	}
	return min, max, true
}

// Keys are the public keys tickets are verified with: the current one
// (authkey.pub) and the previous one (authkey.pub.old), each with the mtime
// of its file. A nil key is absent.
type Keys struct {
	Current      *rsa.PublicKey
	CurrentMtime int64
	Old          *rsa.PublicKey
	OldMtime     int64
}

// KeyMask says which keys a signature verified with.
type KeyMask uint8

// Key mask bits.
const (
	// SignedByCurrent: the current key verifies the signature.
	SignedByCurrent KeyMask = 1 << iota
	// SignedByOld: the previous key verifies the signature.
	SignedByOld
)

// SignedBy checks the ticket's signature against both keys.
func (k *Keys) SignedBy(t *Ticket, aad string) KeyMask {
	var m KeyMask
	if k == nil {
		return 0
	}
	if k.Current != nil && t.VerifySignature(k.Current, aad) {
		m |= SignedByCurrent
	}
	if k.Old != nil {
		if m != 0 && k.Old.Equal(k.Current) {
			m |= SignedByOld
		} else if t.VerifySignature(k.Old, aad) {
			m |= SignedByOld
		}
	}
	return m
}

// InWindow reports whether a ticket whose signature verified with the keys
// in m is young enough (and not too far in the future) at now, trying the
// current key's window first and then the previous key's, as verify_ticket
// does. It returns the ticket's age.
func (k *Keys) InWindow(t *Ticket, m KeyMask, now int64, quorate bool) (int64, bool) {
	if k == nil || t == nil {
		return 0, false
	}
	age := now - t.Time
	try := func(mtime int64, rotated bool) bool {
		min, max, ok := AgeRange(now, mtime, rotated, quorate)
		return ok && age > min && age < max
	}
	if m&SignedByCurrent != 0 && try(k.CurrentMtime, false) {
		return age, true
	}
	if m&SignedByOld != 0 && try(k.OldMtime, true) {
		return age, true
	}
	return age, false
}

// Verify checks a ticket of the given prefix at now and returns its data
// and age; any failure is ErrInvalid.
func (k *Keys) Verify(s, prefix, aad string, now int64, quorate bool) (string, int64, error) {
	t, err := Parse(s, prefix)
	if err != nil {
		return "", 0, err
	}
	m := k.SignedBy(t, aad)
	if m == 0 {
		return "", 0, ErrInvalid
	}
	age, ok := k.InWindow(t, m, now, quorate)
	if !ok {
		return "", 0, ErrInvalid
	}
	return t.Data, age, nil
}

// UserOf returns the user of a full user ticket's data. Two-factor half
// tickets ("!tfa!...", "tfa!<user>", "u2f!<user>!<challenge>") and data that
// is not a valid user ID are ErrInvalid.
func UserOf(data string) (string, error) {
	if strings.HasPrefix(data, "!tfa!") || strings.HasPrefix(data, "tfa!") || strings.HasPrefix(data, "u2f!") {
		return "", ErrInvalid
	}
	if !ident.IsUsername(data) {
		return "", ErrInvalid
	}
	return data, nil
}

// VerifyUser checks a full user ticket and returns its user ID and age.
func (k *Keys) VerifyUser(s string, now int64, quorate bool) (string, int64, error) {
	data, age, err := k.Verify(s, Prefix, "", now, quorate)
	if err != nil {
		return "", 0, err
	}
	u, err := UserOf(data)
	return u, age, err
}

// NeedsRotation is check_authkey with quorum (a node without quorum never
// rotates): the key pair must be made when there is none, when the current
// key is KeyLifetime old, or when its mtime lies more than GracePeriod in the
// future, unless the previous key is younger and within a ticket lifetime
// of it (the clocks are then merely out of step).
func NeedsRotation(now int64, havePub bool, pubMtime int64, haveOld bool, oldMtime int64) bool {
	if !havePub {
		return true
	}
	if now-pubMtime >= KeyLifetime {
		return true
	}
	if pubMtime > now+GracePeriod {
		if haveOld && pubMtime >= oldMtime && pubMtime-oldMtime < Lifetime {
			return false
		}
		return true
	}
	return false
}
