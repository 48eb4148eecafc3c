package shadow

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/cfs"
)

const (
	hashAlice = "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5" // "Hello world!"
	hashBob   = "$5$abc$xyz"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string
		warnings []string
	}{
		{"nil", "", "", nil},
		{"sorted on write", "bob:" + hashBob + ":\nalice:" + hashAlice + ":\n",
			"alice:" + hashAlice + ":\nbob:" + hashBob + ":\n", nil},
		{"trimmed, blank lines, CRLF", "\n  alice:" + hashAlice + ":  \r\n\n\t\n",
			"alice:" + hashAlice + ":\n", nil},
		{"last duplicate wins", "a:h1:\na:h2:\n", "a:h2:\n", nil},
		{"extra fields keep the first two", "a:h1:junk:\n", "a:h1:\n", nil},
		{"no trailing newline", "a:h1:", "a:h1:\n", nil},
		{"invalid lines", "a:h1\n# comment\nb c:d:\na:h:\n::x:\n:::\na::\n",
			"a:h:\n",
			[]string{
				"pve shadow password: ignore invalid line 1",
				"pve shadow password: ignore invalid line 2",
				"pve shadow password: ignore invalid line 3",
				"pve shadow password: ignore invalid line 5",
				"pve shadow password: ignore invalid line 6",
				"pve shadow password: ignore invalid line 7",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, warnings := Parse([]byte(tt.in))
			if got := string(s.Render()); got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
			again, w2 := Parse(s.Render())
			if string(again.Render()) != tt.want || len(w2) != 0 {
				t.Errorf("round trip changed: %q %q", again.Render(), w2)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	f := Format()
	if err := cfs.NewRegistry().Register(f); err != nil {
		t.Fatalf("register: %v", err)
	}
	if f.Path != "priv/shadow.cfg" {
		t.Fatalf("path %q", f.Path)
	}
	m, w, err := f.Parse(nil)
	if err != nil || len(w) != 0 || len(m.Render()) != 0 {
		t.Fatalf("Parse(nil) = %q, %v, %v", m.Render(), w, err)
	}
}

func TestCopyOnWrite(t *testing.T) {
	base, _ := Parse([]byte("alice:" + hashAlice + ":\n"))
	withBob, err := base.With("bob", hashBob)
	if err != nil {
		t.Fatal(err)
	}
	replaced, err := withBob.With("alice", "$5$new$hash")
	if err != nil {
		t.Fatal(err)
	}
	removed := replaced.Without("bob")

	check := func(name string, s *Shadow, want string) {
		t.Helper()
		if got := string(s.Render()); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	check("base", base, "alice:"+hashAlice+":\n")
	check("withBob", withBob, "alice:"+hashAlice+":\nbob:"+hashBob+":\n")
	check("replaced", replaced, "alice:$5$new$hash:\nbob:"+hashBob+":\n")
	check("removed", removed, "alice:$5$new$hash:\n")
	if removed.Without("nobody") != removed {
		t.Errorf("Without(missing) should return the same value")
	}
	if h, ok := withBob.Get("bob"); !ok || h != hashBob {
		t.Errorf("Get(bob) = %q %v", h, ok)
	}
	if _, ok := base.Get("bob"); ok {
		t.Errorf("base changed")
	}
	if got := withBob.Names(); !reflect.DeepEqual(got, []string{"alice", "bob"}) || withBob.Len() != 2 {
		t.Errorf("Names = %v", got)
	}

	var zero Shadow
	if zero.Len() != 0 || len(zero.Render()) != 0 {
		t.Errorf("zero value not empty")
	}
	if s, err := zero.With("x", "y"); err != nil || string(s.Render()) != "x:y:\n" {
		t.Errorf("zero.With: %v %v", s, err)
	}
}

func TestWithRejects(t *testing.T) {
	tests := []struct{ name, hash string }{
		{"", "h"}, {"a b", "h"}, {"a:b", "h"}, {"a", ""}, {"a", "h h"}, {"a", "h:h"}, {"a\n", "h"},
	}
	for _, tt := range tests {
		if _, err := New().With(tt.name, tt.hash); err == nil {
			t.Errorf("With(%q, %q) accepted", tt.name, tt.hash)
		}
	}
}

func TestCheck(t *testing.T) {
	s, _ := Parse([]byte("alice:" + hashAlice + ":\n"))
	tests := []struct {
		name, user, password string
		want                 error
	}{
		{"right", "alice", "Hello world!", nil},
		{"wrong", "alice", "hello world!", ErrInvalidCredentials},
		{"empty", "alice", "", ErrNoPassword},
		{"unknown user", "bob", "Hello world!", ErrNoPasswordSet},
	}
	for _, tt := range tests {
		if err := s.Check(tt.user, tt.password); !errors.Is(err, tt.want) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.want)
		}
	}
	if ErrInvalidCredentials.Error() != "invalid credentials" || ErrNoPasswordSet.Error() != "no password set" ||
		ErrNoPassword.Error() != "no password" {
		t.Errorf("error texts differ from Proxmox")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("alice:" + hashAlice + ":\nbob:" + hashBob + ":\n"))
	f.Add([]byte("::x:\n a:b:c: \r\n#x\n"))
	f.Add([]byte(":::\n\x00:\xff:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _ := Parse(data)
		out := s.Render()
		again, warnings := Parse(out)
		if len(warnings) != 0 {
			t.Fatalf("rendered output warns: %q -> %q: %v", data, out, warnings)
		}
		if string(again.Render()) != string(out) {
			t.Fatalf("not stable: %q -> %q", out, again.Render())
		}
		for _, line := range strings.SplitAfter(string(out), "\n") {
			if line != "" && !strings.HasSuffix(line, ":\n") {
				t.Fatalf("bad line %q", line)
			}
		}
	})
}

func BenchmarkWith(b *testing.B) {
	s := New()
	for i := range 10000 {
		s, _ = s.With("user"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strconv.Itoa(i), hashAlice)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, _ = s.With("newuser"+strconv.Itoa(i), hashAlice)
	}
}
