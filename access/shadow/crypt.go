package shadow

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt parameters from Ulrich Drepper's "Unix crypt using SHA-256 and
// SHA-512" specification.
const (
	// DefaultRounds is the round count used when a setting names none.
	DefaultRounds = 5000
	// MinRounds is the smallest round count; smaller requests are raised to it.
	MinRounds = 1000
	// MaxRounds is the largest round count; larger requests are lowered to it.
	MaxRounds = 999999999

	maxSaltLen    = 16
	md5MaxSaltLen = 8
	roundsPrefix  = "rounds="
)

// itoa64 is the crypt(3) base-64 alphabet.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Output byte orders of the final digest, three bytes per group (most
// significant first), as the specification lays them out.
var (
	sha256Order = [][3]int{
		{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
		{-1, 31, 30},
	}
	sha512Order = [][3]int{
		{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
		{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
		{62, 20, 41}, {-1, -1, 63},
	}
	md5Order = [][3]int{
		{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}, {-1, -1, 11},
	}
)

// shaVariant describes one of the two SHA-crypt flavours.
type shaVariant struct {
	magic string
	size  int
	newH  func() hash.Hash
	order [][3]int
}

var (
	sha256Variant = shaVariant{magic: "$5$", size: sha256.Size, newH: sha256.New, order: sha256Order}
	sha512Variant = shaVariant{magic: "$6$", size: sha512.Size, newH: sha512.New, order: sha512Order}
)

// Crypt returns the SHA-256-crypt ("$5$") hash of password with the given salt.
// Only the salt up to its first '$', at most 16 bytes, is used. rounds <= 0
// means the default of 5000 rounds without a "rounds=" field in the result;
// any other value is clamped to [MinRounds, MaxRounds] and written out.
func Crypt(password, salt string, rounds int) string {
	return sha256Variant.crypt(password, settingSuffix(salt, rounds))
}

// Crypt512 is Crypt for SHA-512-crypt ("$6$").
func Crypt512(password, salt string, rounds int) string {
	return sha512Variant.crypt(password, settingSuffix(salt, rounds))
}

// Hash returns the hash Proxmox's encrypt_pw stores in shadow.cfg: SHA-256-crypt
// with default rounds, "$5$<salt>$<digest>". The caller supplies the salt (see
// NewSalt) so that applying a command stays deterministic.
func Hash(password, salt string) string {
	return Crypt(password, salt, 0)
}

// NewSalt returns a random 16-character salt from the crypt alphabet.
func NewSalt() (string, error) {
	var b [maxSaltLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate password salt: %w", err)
	}
	for i := range b {
		b[i] = itoa64[b[i]&0x3f]
	}
	return string(b[:]), nil
}

// Verify reports whether password matches a crypt(3) hash as stored in
// shadow.cfg: "$5$" (SHA-256-crypt, what Proxmox writes), "$6$" (SHA-512-crypt)
// or "$1$" (MD5-crypt). Other schemes (e.g. yescrypt "$y$") never match. The
// final comparison takes constant time.
func Verify(password, hash string) bool {
	computed, ok := cryptSetting(password, hash)
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(computed), []byte(hash)) == 1
}

// cryptSetting hashes password with the scheme, rounds and salt named by
// setting (which may be a complete hash), like crypt(3).
func cryptSetting(password, setting string) (string, bool) {
	switch {
	case strings.HasPrefix(setting, sha256Variant.magic):
		return sha256Variant.crypt(password, setting[len(sha256Variant.magic):]), true
	case strings.HasPrefix(setting, sha512Variant.magic):
		return sha512Variant.crypt(password, setting[len(sha512Variant.magic):]), true
	case strings.HasPrefix(setting, "$1$"):
		return md5Crypt(password, setting[3:]), true
	}
	return "", false
}

// settingSuffix builds the part of a SHA-crypt setting after the magic.
func settingSuffix(salt string, rounds int) string {
	if rounds <= 0 {
		return salt
	}
	return roundsPrefix + strconv.Itoa(rounds) + "$" + salt
}

// parseShaSetting splits the text after the magic into rounds, whether they
// were given explicitly, and the effective salt.
func parseShaSetting(s string) (rounds int, custom bool, salt string) {
	rounds = DefaultRounds
	if strings.HasPrefix(s, roundsPrefix) {
		num := s[len(roundsPrefix):]
		i := 0
		var n uint64
		overflow := false
		for i < len(num) && num[i] >= '0' && num[i] <= '9' {
			if n > (1<<63)/10 {
				overflow = true
			} else {
				n = n*10 + uint64(num[i]-'0')
			}
			i++
		}
		// Like glibc's strtoul: digits directly followed by '$' set the rounds.
		if i < len(num) && num[i] == '$' {
			switch {
			case overflow || n > MaxRounds:
				rounds = MaxRounds
			case n < MinRounds:
				rounds = MinRounds
			default:
				rounds = int(n)
			}
			custom = true
			s = num[i+1:]
		}
	}
	if j := strings.IndexByte(s, '$'); j >= 0 {
		s = s[:j]
	}
	if len(s) > maxSaltLen {
		s = s[:maxSaltLen]
	}
	return rounds, custom, s
}

// crypt runs the SHA-crypt algorithm; setting is the text after the magic.
func (v shaVariant) crypt(password, setting string) string {
	rounds, custom, salt := parseShaSetting(setting)
	p := []byte(password)
	s := []byte(salt)
	h := v.newH()

	// Digest B: password, salt, password.
	h.Write(p)
	h.Write(s)
	h.Write(p)
	b := h.Sum(nil)

	// Digest A: password, salt, then B stretched to the password length, then
	// one of B or the password per bit of the password length.
	h.Reset()
	h.Write(p)
	h.Write(s)
	n := len(p)
	for ; n > v.size; n -= v.size {
		h.Write(b)
	}
	h.Write(b[:n])
	for n = len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(p)
		}
	}
	a := h.Sum(nil)

	// Sequence P: digest DP (the password repeated once per byte) stretched to
	// the password length.
	h.Reset()
	for range p {
		h.Write(p)
	}
	dp := h.Sum(nil)
	pseq := make([]byte, len(p))
	for i := 0; i < len(p); i += v.size {
		copy(pseq[i:], dp)
	}

	// Sequence S: digest DS (the salt repeated 16+A[0] times) cut to the salt
	// length (never longer than one digest).
	h.Reset()
	for i := 0; i < 16+int(a[0]); i++ {
		h.Write(s)
	}
	sseq := h.Sum(nil)[:len(s)]

	c := a
	buf := make([]byte, 0, v.size)
	for i := 0; i < rounds; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(pseq)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sseq)
		}
		if i%7 != 0 {
			h.Write(pseq)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pseq)
		}
		c = h.Sum(buf[:0])
		buf = c
	}

	var out strings.Builder
	out.Grow(len(v.magic) + 20 + len(s) + 1 + 86)
	out.WriteString(v.magic)
	if custom {
		out.WriteString(roundsPrefix)
		out.WriteString(strconv.Itoa(rounds))
		out.WriteByte('$')
	}
	out.Write(s)
	out.WriteByte('$')
	encode64(&out, c, v.order)
	return out.String()
}

// md5Crypt is the FreeBSD/glibc MD5-crypt ("$1$"); setting is the text after
// the magic.
func md5Crypt(password, setting string) string {
	salt := setting
	if j := strings.IndexByte(salt, '$'); j >= 0 {
		salt = salt[:j]
	}
	if len(salt) > md5MaxSaltLen {
		salt = salt[:md5MaxSaltLen]
	}
	p := []byte(password)
	s := []byte(salt)

	h := md5.New()
	h.Write(p)
	h.Write(s)
	h.Write(p)
	alt := h.Sum(nil)

	h.Reset()
	h.Write(p)
	h.Write([]byte("$1$"))
	h.Write(s)
	for n := len(p); n > 0; n -= md5.Size {
		h.Write(alt[:min(n, md5.Size)])
	}
	for n := len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(p[:1])
		}
	}
	final := h.Sum(nil)

	buf := make([]byte, 0, md5.Size)
	for i := 0; i < 1000; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(final)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(final)
		} else {
			h.Write(p)
		}
		final = h.Sum(buf[:0])
		buf = final
	}

	var out strings.Builder
	out.WriteString("$1$")
	out.Write(s)
	out.WriteByte('$')
	encode64(&out, final, md5Order)
	return out.String()
}

// encode64 writes digest in crypt's base-64, taking bytes in the given group
// order; -1 stands for a zero byte, and a group yields one character more than
// it has bytes.
func encode64(out *strings.Builder, digest []byte, order [][3]int) {
	for _, g := range order {
		var w uint32
		nbytes := 0
		for _, idx := range g {
			w <<= 8
			if idx >= 0 {
				w |= uint32(digest[idx])
				nbytes++
			}
		}
		for k := 0; k <= nbytes; k++ {
			out.WriteByte(itoa64[w&0x3f])
			w >>= 6
		}
	}
}
