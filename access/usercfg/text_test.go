package usercfg

import "testing"

func TestEncodeText(t *testing.T) {
	tests := []struct{ in, out string }{
		{"", ""},
		{"plain text, with; @ and ~", "plain text, with; @ and ~"},
		{"DB team: lead 100%", "DB team%3A lead 100%25"},
		{"Müller", "M%C3%BCller"},
		{"tab\there\nnl\x7f\x00", "tab%09here%0Anl%7F%00"},
		{" edge ", " edge "},
		{"$&9;", "$&9;"},
	}
	for _, tt := range tests {
		if got := EncodeText(tt.in); got != tt.out {
			t.Errorf("EncodeText(%q) = %q, want %q", tt.in, got, tt.out)
		}
		if got := DecodeText(tt.out); got != tt.in {
			t.Errorf("DecodeText(%q) = %q, want %q", tt.out, got, tt.in)
		}
	}
}

// The expectations of the lax cases were recorded with perl 5.36 and
// Encode 3.17: Encode::decode("utf8", $bytes).
func TestDecodeText(t *testing.T) {
	const fffd = "\uFFFD"
	tests := []struct{ in, out string }{
		{"100%", "100%"},
		{"%zz%4", "%zz%4"},
		{"%4a%4A", "JJ"},
		{"%%41", "%A"},
		{"%C3%BC", "ü"},
		{"%FF", fffd},
		{"a%C3", "a" + fffd},
		{"%C3(", fffd + "("},
		{"%ED%A0%80", "\xED\xA0\x80"},               // surrogate kept
		{"%F4%90%80%80", "\xF4\x90\x80\x80"},        // above U+10FFFF kept
		{"%E2%82", fffd},                            // truncated
		{"%F8%88%80%80%80", "\xF8\x88\x80\x80\x80"}, // 5-byte form kept
		{"%C0%AF", fffd},                            // overlong
		{"%FF%FE", fffd + fffd},
		{"%80%80", fffd + fffd},
		{"%E2%82A", fffd + "A"},
		{"%E0%80%80", fffd},
		{"%F0%80%80%80", fffd},
		{"%FE%80%80%80%80%80%80", fffd},
		{"%FC%84%80%80%80%80", "\xFC\x84\x80\x80\x80\x80"},
		{"%EF%BF%BE", "\xEF\xBF\xBE"},
		{"%E2(%A1", fffd + "(" + fffd},
		{"%F8%88%80%80%80%80", "\xF8\x88\x80\x80\x80" + fffd},
		{"%FF%80A", fffd + "A"},
		{"%F8%80%80%80%80", fffd},
		{"%FC%80%80%80%80%80", fffd},
		{"%FD%BF%BF%BF%BF%BF", "\xFD\xBF\xBF\xBF\xBF\xBF"},
		{"%FF%80%80%80%80%80%80%80%80%80%80%80%80%80", fffd + fffd},
		{"%C2%80", "\u0080"},
	}
	for _, tt := range tests {
		got := DecodeText(tt.in)
		if got != tt.out {
			t.Errorf("DecodeText(%q) = %q, want %q", tt.in, got, tt.out)
		}
		// What was decoded is written back and read again unchanged.
		if again := DecodeText(EncodeText(got)); again != got {
			t.Errorf("DecodeText(EncodeText(%q)) = %q", got, again)
		}
	}
}

func TestCanonText(t *testing.T) {
	for in, want := range map[string]string{"": "", "0": "", " 0 ": "", "  ": "", " a b ": "a b", "\ta\t": "\ta\t", "00": "00"} {
		if got := canonText(in); got != want {
			t.Errorf("canonText(%q) = %q, want %q", in, got, want)
		}
	}
}
