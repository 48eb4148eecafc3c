package domains

import (
	"strings"
	"unicode/utf8"
)

// isSpace matches Perl's \s on byte strings: space, \t, \n, \v, \f, \r.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// perlTrue is Perl's truthiness of a string: "" and "0" are false.
func perlTrue(s string) bool {
	return s != "" && s != "0"
}

// perlSplit is Perl's split on a literal separator: trailing empty fields are
// dropped.
func perlSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// splitList is PVE::Tools::split_list: NUL-separated if the text holds a NUL,
// otherwise separated by ',', ';' and whitespace.
func splitList(s string) []string {
	if strings.IndexByte(s, 0) >= 0 {
		return perlSplit(s, "\x00")
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || isSpace(r) })
}

// asciiLower is Perl's lc on a byte string.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// encodeText is PVE::Tools::encode_text: the UTF-8 bytes of text, with every
// byte outside [\x20-\x24\x26-\x39\x3b-\x7e] written as %XX (upper-case hex).
func encodeText(text string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 0x20 && c <= 0x7e && c != '%' && c != ':' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

// decodeText is PVE::Tools::decode_text: every %XX is unescaped, then the
// bytes are read as UTF-8, malformed bytes becoming U+FFFD.
func decodeText(data string) string {
	raw := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		if data[i] == '%' && i+2 < len(data) && isHex(data[i+1]) && isHex(data[i+2]) {
			raw = append(raw, unhex(data[i+1])<<4|unhex(data[i+2]))
			i += 2
			continue
		}
		raw = append(raw, data[i])
	}
	if utf8.Valid(raw) {
		return string(raw)
	}
	var b strings.Builder
	for len(raw) > 0 {
		r, size := utf8.DecodeRune(raw)
		b.WriteRune(r)
		raw = raw[size:]
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
