package usercfg

import (
	"strings"
	"unicode/utf8"
)

const upperHex = "0123456789ABCDEF"

// textSafe reports whether encode_text leaves byte c unescaped: the ranges
// 0x20-0x24, 0x26-0x39 and 0x3b-0x7e (everything printable but '%' and ':').
func textSafe(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '%' && c != ':'
}

// EncodeText escapes a text field like PVE::Tools::encode_text: every byte
// of the UTF-8 text outside the safe ranges becomes %XX (upper-case hex).
func EncodeText(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !textSafe(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if textSafe(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
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

// DecodeText reverses EncodeText like PVE::Tools::decode_text: every %XX is
// decoded (a '%' not followed by two hex digits stays), then the bytes are
// read as Perl's lax "utf8" does: well-formed sequences are kept, including
// surrogates and code points above U+10FFFF, and each malformed sequence
// (a stray byte, an overlong form, a truncated sequence) becomes U+FFFD.
func DecodeText(s string) string {
	if strings.IndexByte(s, '%') < 0 && utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, c)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return string(laxUTF8(b))
}

// seqLen returns the length of the (Perl extended) UTF-8 sequence a lead byte
// announces, and the smallest code point that needs that length; 0 for a
// continuation byte.
func seqLen(c byte) (int, uint64) {
	switch {
	case c < 0x80:
		return 1, 0
	case c < 0xC0:
		return 0, 0
	case c < 0xE0:
		return 2, 0x80
	case c < 0xF0:
		return 3, 0x800
	case c < 0xF8:
		return 4, 0x10000
	case c < 0xFC:
		return 5, 0x200000
	case c < 0xFE:
		return 6, 0x4000000
	case c == 0xFE:
		return 7, 0 // never accepted
	default:
		return 13, 0 // never accepted
	}
}

var replacement = []byte("\xEF\xBF\xBD")

// laxUTF8 keeps structurally well-formed, non-overlong sequences and replaces
// every malformed one with U+FFFD, as Encode::decode("utf8", ...) does.
func laxUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		n, min := seqLen(b[i])
		if n == 1 {
			out = append(out, b[i])
			i++
			continue
		}
		if n == 0 {
			out = append(out, replacement...)
			i++
			continue
		}
		j := i + 1
		for j < len(b) && j < i+n && b[j]&0xC0 == 0x80 {
			j++
		}
		if j-i < n {
			out = append(out, replacement...)
			i = j
			continue
		}
		cp := uint64(b[i]) & (0x7F >> n)
		for k := i + 1; k < j; k++ {
			cp = cp<<6 | uint64(b[k]&0x3F)
		}
		if n >= 7 || cp < min {
			out = append(out, replacement...)
		} else {
			out = append(out, b[i:j]...)
		}
		i = j
	}
	return out
}

// truthy is Perl truthiness of a string: "" and "0" are false.
func truthy(s string) bool { return s != "" && s != "0" }

// canonText maps a decoded text field to the value that survives a write and
// a re-read: encode_text leaves spaces unescaped, so the reader's field trim
// removes leading and trailing spaces, and a "" or "0" is written as empty.
func canonText(s string) string {
	s = strings.Trim(s, " ")
	if !truthy(s) {
		return ""
	}
	return s
}
