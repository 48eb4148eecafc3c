package shadow

import (
	"strings"
	"testing"
)

// Test vectors published in Drepper's SHA-crypt specification
// (https://www.akkadia.org/drepper/SHA-crypt.txt). The "rounds=10" cases show
// the clamp to the minimum of 1000 rounds.
var specVectors = []struct {
	setting, password, want string
}{
	{"$5$saltstring", "Hello world!",
		"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
	{"$5$rounds=10000$saltstringsaltstring", "Hello world!",
		"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
	{"$5$rounds=5000$toolongsaltstring", "This is just a test",
		"$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"},
	{"$5$rounds=1400$anotherlongsaltstring",
		"a very much longer text to encrypt.  This one even stretches over morethan one line.",
		"$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1"},
	{"$5$rounds=77777$short", "we have a short salt string but not a short password",
		"$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/"},
	{"$5$rounds=123456$asaltof16chars..", "a short string",
		"$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD"},
	{"$5$rounds=10$roundstoolow", "the minimum number is still observed",
		"$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},

	{"$6$saltstring", "Hello world!",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	{"$6$rounds=10000$saltstringsaltstring", "Hello world!",
		"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
	{"$6$rounds=5000$toolongsaltstring", "This is just a test",
		"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	{"$6$rounds=1400$anotherlongsaltstring",
		"a very much longer text to encrypt.  This one even stretches over morethan one line.",
		"$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
	{"$6$rounds=77777$short", "we have a short salt string but not a short password",
		"$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
	{"$6$rounds=123456$asaltof16chars..", "a short string",
		"$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
	{"$6$rounds=10$roundstoolow", "the minimum number is still observed",
		"$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
}

func TestSpecVectors(t *testing.T) {
	for _, v := range specVectors {
		t.Run(v.setting, func(t *testing.T) {
			got, ok := cryptSetting(v.password, v.setting)
			if !ok || got != v.want {
				t.Fatalf("crypt(%q, %q)\n got %s\nwant %s", v.password, v.setting, got, v.want)
			}
			if !Verify(v.password, v.want) {
				t.Errorf("Verify(right password) = false")
			}
			if Verify(v.password+"x", v.want) {
				t.Errorf("Verify(wrong password) = true")
			}
		})
	}
}

func TestCryptAPI(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"default rounds", Crypt("Hello world!", "saltstring", 0),
			"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"Hash equals default Crypt", Hash("Hello world!", "saltstring"),
			"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
		{"explicit rounds, long salt", Crypt("Hello world!", "saltstringsaltstring", 10000),
			"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{"rounds clamped up", Crypt("the minimum number is still observed", "roundstoolow", 10),
			"$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
		{"sha512", Crypt512("Hello world!", "saltstring", 0),
			"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		// The expected values below come from libxcrypt's crypt(3) via Perl.
		{"empty salt", Crypt("x", "", 0), "$5$$0Uor7kq6CTPY0DtjOiw.I2DuJSUfiZxCqkrafMVjNc8"},
		{"explicit default rounds", Crypt("x", "", 5000), "$5$rounds=5000$$0Uor7kq6CTPY0DtjOiw.I2DuJSUfiZxCqkrafMVjNc8"},
		{"salt stops at $", Crypt("Hello world!", "saltstring$junk", 0),
			"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestMD5Crypt(t *testing.T) {
	// Expected values from libxcrypt's crypt(3) via Perl.
	tests := []struct{ password, setting, want string }{
		{"Hello world!", "$1$saltstri", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"},
		{"x", "$1$", "$1$$LP5.V3ajGqHDdXW6XwZQy."},
	}
	for _, tt := range tests {
		got, _ := cryptSetting(tt.password, tt.setting)
		if got != tt.want {
			t.Errorf("md5crypt(%q, %q) = %s, want %s", tt.password, tt.setting, got, tt.want)
		}
		if !Verify(tt.password, tt.want) || Verify(tt.password+"!", tt.want) {
			t.Errorf("Verify mismatch for %s", tt.want)
		}
	}
}

func TestParseShaSetting(t *testing.T) {
	tests := []struct {
		in     string
		rounds int
		custom bool
		salt   string
	}{
		{"saltstring", DefaultRounds, false, "saltstring"},
		{"saltstring$hash", DefaultRounds, false, "saltstring"},
		{"rounds=2000$ab$cd", 2000, true, "ab"},
		{"rounds=0$ab", MinRounds, true, "ab"},
		{"rounds=99999999999999999999999$ab", MaxRounds, true, "ab"},
		{"rounds=1000000000$ab", MaxRounds, true, "ab"},
		{"rounds=abc$ab", DefaultRounds, false, "rounds=abc"},
		{"rounds=12", DefaultRounds, false, "rounds=12"},
		{"0123456789abcdefXYZ", DefaultRounds, false, "0123456789abcdef"},
	}
	for _, tt := range tests {
		r, c, s := parseShaSetting(tt.in)
		if r != tt.rounds || c != tt.custom || s != tt.salt {
			t.Errorf("parseShaSetting(%q) = %d,%v,%q want %d,%v,%q", tt.in, r, c, s, tt.rounds, tt.custom, tt.salt)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	good := Hash("secret", "abcdefgh")
	tests := []struct {
		name, password, hash string
	}{
		{"wrong password", "Secret", good},
		{"empty hash", "secret", ""},
		{"unknown scheme", "secret", "$y$j9T$abc$def"},
		{"des-style", "secret", "abJnggxhB/yWI"},
		{"truncated", "secret", good[:len(good)-1]},
		{"salt only", "secret", "$5$abcdefgh"},
		{"trailing junk", "secret", good + "x"},
	}
	for _, tt := range tests {
		if Verify(tt.password, tt.hash) {
			t.Errorf("%s: Verify(%q, %q) = true", tt.name, tt.password, tt.hash)
		}
	}
	if !Verify("secret", good) {
		t.Errorf("Verify(good) = false")
	}
}

func TestNewSalt(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		s, err := NewSalt()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 16 || strings.Trim(s, itoa64) != "" {
			t.Fatalf("bad salt %q", s)
		}
		if seen[s] {
			t.Fatalf("repeated salt %q", s)
		}
		seen[s] = true
		h := Hash("pw", s)
		if !strings.HasPrefix(h, "$5$"+s+"$") || !Verify("pw", h) {
			t.Fatalf("hash with salt %q: %s", s, h)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		Hash("correct horse battery staple", "0123456789abcdef")
	}
}
