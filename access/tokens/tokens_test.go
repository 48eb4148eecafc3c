package tokens

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/cfs"
)

const (
	secretA = "5f3c0e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	secretB = "0b6a4d52-1c1e-4c55-9b0e-63a8d1c9e2f7"
)

func TestHashSecret(t *testing.T) {
	// sha256("5f3c0e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6"), computed independently.
	h := HashSecret(secretA)
	if !IsHash(h) || !strings.HasPrefix(h, "$pvecfs-sha256$") || len(h) != len(HashPrefix)+64 {
		t.Fatalf("HashSecret = %q", h)
	}
	if HashSecret("") != "$pvecfs-sha256$e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("HashSecret(\"\") = %s", HashSecret(""))
	}
	if HashSecret(secretA) == HashSecret(secretB) {
		t.Errorf("different secrets, same hash")
	}
	notHashes := []string{
		"", secretA, HashPrefix, HashPrefix + strings.Repeat("0", 63),
		HashPrefix + strings.Repeat("0", 65), HashPrefix + strings.Repeat("A", 64),
		"$pvecfs-sha512$" + strings.Repeat("0", 64), HashPrefix + strings.Repeat("g", 64),
	}
	for _, v := range notHashes {
		if IsHash(v) {
			t.Errorf("IsHash(%q) = true", v)
		}
	}
}

func TestParse(t *testing.T) {
	hA, hB := HashSecret(secretA), HashSecret(secretB)
	tests := []struct {
		name     string
		in       string
		want     string
		warnings []string
	}{
		{"empty", "", "", nil},
		{"proxmox plaintext import, sorted",
			"root@pam!automation " + secretB + "\nalice@pve!monitoring " + secretA + "\n",
			"alice@pve!monitoring " + hA + "\nroot@pam!automation " + hB + "\n", nil},
		{"stored hash kept", "alice@pve!mon " + hA + "\n", "alice@pve!mon " + hA + "\n", nil},
		{"blank lines skipped", "\n  \t\nalice@pve!mon " + secretA, "alice@pve!mon " + hA + "\n", nil},
		{"last duplicate wins", "a@pve!t1 " + secretA + "\na@pve!t1 " + secretB + "\n", "a@pve!t1 " + hB + "\n", nil},
		{"user part may hold @ and !", "john@example.com@ldap!ci " + secretA + "\n",
			"john@example.com@ldap!ci " + hA + "\n", nil},
		{"invalid lines", strings.Join([]string{
			"alice@pve!mon  " + secretA,      // two spaces
			" alice@pve!mon " + secretA,      // leading space
			"alice@pve!mon " + secretA + " ", // trailing space
			"alice@pve!mon " + secretA + "\r",
			"alice@pve " + secretA, // no token part
			"alice@pve!1x " + secretA,
			"alice@p!mon " + secretA, // realm too short
			"alice@pve!mon",
			"# comment",
			"a/b@pve!mon " + secretA,
			"bob@pve!ok " + secretB,
		}, "\n"), "bob@pve!ok " + hB + "\n", []string{
			warnInvalid, warnInvalid, warnInvalid, warnInvalid, warnInvalid,
			warnInvalid, warnInvalid, warnInvalid, warnInvalid, warnInvalid,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, warnings := Parse([]byte(tt.in))
			if got := string(s.Render()); got != tt.want {
				t.Errorf("Render =\n%s\nwant\n%s", got, tt.want)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
			if strings.Contains(string(s.Render()), secretA) || strings.Contains(string(s.Render()), secretB) {
				t.Errorf("clear secret rendered")
			}
			again, w := Parse(s.Render())
			if string(again.Render()) != tt.want || len(w) != 0 {
				t.Errorf("round trip changed")
			}
		})
	}
}

func TestFormat(t *testing.T) {
	f := Format()
	if err := cfs.NewRegistry().Register(f); err != nil {
		t.Fatalf("register: %v", err)
	}
	if f.Path != "priv/token.cfg" {
		t.Fatalf("path %q", f.Path)
	}
	m, w, err := f.Parse([]byte("a@pve!tt " + secretA + "\n"))
	if err != nil || len(w) != 0 || !m.(*Store).Verify("a@pve!tt", secretA) {
		t.Fatalf("Parse: %v %v", w, err)
	}
}

func TestVerify(t *testing.T) {
	s, _ := Parse([]byte("alice@pve!mon " + secretA + "\nroot@pam!ci " + HashSecret(secretB) + "\n"))
	tests := []struct {
		name, tokenid, secret string
		want                  bool
	}{
		{"imported plaintext", "alice@pve!mon", secretA, true},
		{"stored hash", "root@pam!ci", secretB, true},
		{"wrong secret", "alice@pve!mon", secretB, false},
		{"other token's secret", "root@pam!ci", secretA, false},
		{"unknown token", "alice@pve!other", secretA, false},
		{"upper case", "alice@pve!mon", strings.ToUpper(secretA), false},
		{"trailing space", "alice@pve!mon", secretA + " ", false},
		{"trailing newline", "alice@pve!mon", secretA + "\n", false},
		{"NUL", "alice@pve!mon", secretA + "\x00", false},
		{"empty", "alice@pve!mon", "", false},
		{"the hash itself", "root@pam!ci", HashSecret(secretB), false},
	}
	for _, tt := range tests {
		if got := s.Verify(tt.tokenid, tt.secret); got != tt.want {
			t.Errorf("%s: Verify(%q, %q) = %v", tt.name, tt.tokenid, tt.secret, got)
		}
	}
}

func TestCopyOnWrite(t *testing.T) {
	base := New()
	s1, err := base.With("alice@pve!aa", HashSecret(secretA))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := s1.With("alice@pve!bb", HashSecret(secretB))
	if err != nil {
		t.Fatal(err)
	}
	s3, err := s2.With("alice@pve!aa", HashSecret(secretB)) // regenerate
	if err != nil {
		t.Fatal(err)
	}
	s4 := s3.Without("alice@pve!bb")

	if base.Len() != 0 || s1.Len() != 1 || s2.Len() != 2 || s3.Len() != 2 || s4.Len() != 1 {
		t.Errorf("lengths %d %d %d %d %d", base.Len(), s1.Len(), s2.Len(), s3.Len(), s4.Len())
	}
	if !s1.Verify("alice@pve!aa", secretA) || s3.Verify("alice@pve!aa", secretA) || !s3.Verify("alice@pve!aa", secretB) {
		t.Errorf("regenerate did not replace the secret / changed the old value")
	}
	if !s2.Has("alice@pve!bb") || s4.Has("alice@pve!bb") {
		t.Errorf("Without failed")
	}
	if s4.Without("nope@pve!x") != s4 {
		t.Errorf("Without(missing) should return the same value")
	}
	if h, ok := s4.Hash("alice@pve!aa"); !ok || h != HashSecret(secretB) {
		t.Errorf("Hash = %q %v", h, ok)
	}

	var zero Store
	if zero.Len() != 0 || zero.Has("a@pve!b") || zero.Verify("a@pve!b", secretA) || len(zero.Render()) != 0 {
		t.Errorf("zero value not empty")
	}
}

func TestWithRejects(t *testing.T) {
	tests := []struct{ tokenid, hash string }{
		{"alice@pve", HashSecret(secretA)},
		{"alice@pve!1", HashSecret(secretA)},
		{"alice pve@pve!x", HashSecret(secretA)},
		{"alice@pve!x", secretA}, // clear secret
		{"alice@pve!x", ""},
	}
	for _, tt := range tests {
		if _, err := New().With(tt.tokenid, tt.hash); err == nil {
			t.Errorf("With(%q, %q) accepted", tt.tokenid, tt.hash)
		}
	}
}

func TestWithoutUser(t *testing.T) {
	in := strings.Join([]string{
		"a@pve!t1 " + secretA,
		"a@pve!t2 " + secretA,
		"a@pve!x@pve!t3 " + secretA, // user "a@pve!x@pve"
		"a@pvex!t4 " + secretA,
		"b@pve!t1 " + secretA,
		"aa@pve!t1 " + secretA,
	}, "\n")
	s, w := Parse([]byte(in))
	if len(w) != 0 {
		t.Fatal(w)
	}
	got := s.WithoutUser("a@pve").TokenIDs()
	want := []string{"a@pve!x@pve!t3", "a@pvex!t4", "aa@pve!t1", "b@pve!t1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithoutUser = %v, want %v", got, want)
	}
	if s.Len() != 6 {
		t.Errorf("original changed")
	}
	if s.WithoutUser("nobody@pve") != s {
		t.Errorf("WithoutUser(no tokens) should return the same value")
	}
	if got := s.WithoutUser("a@pve!x@pve").TokenIDs(); len(got) != 5 {
		t.Errorf("WithoutUser(a@pve!x@pve) = %v", got)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(s) || seen[s] {
			t.Fatalf("bad or repeated secret %q", s)
		}
		seen[s] = true
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("alice@pve!mon " + secretA + "\nroot@pam!ci " + HashSecret(secretB) + "\n"))
	f.Add([]byte("a@b!c d\n\n x@yy!zz q\r\nj@example.com@ldap!t1 s\n"))
	f.Add([]byte("a@pve!x@pve!t3 " + secretA))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _ := Parse(data)
		out := s.Render()
		again, warnings := Parse(out)
		if len(warnings) != 0 {
			t.Fatalf("rendered output warns: %q: %v", out, warnings)
		}
		if string(again.Render()) != string(out) {
			t.Fatalf("not stable: %q", out)
		}
		for _, id := range s.TokenIDs() {
			h, _ := s.Hash(id)
			if !IsHash(h) || !ValidTokenID(id) {
				t.Fatalf("bad entry %q %q", id, h)
			}
		}
	})
}

func benchStore(n int) *Store {
	txn := New().root().Txn()
	for i := range n {
		txn.Insert([]byte("user"+strconv.Itoa(i%1000)+"@pve!tok"+strconv.Itoa(i)), HashSecret(strconv.Itoa(i)))
	}
	return &Store{tree: txn.Commit()}
}

func BenchmarkVerify(b *testing.B) {
	s := benchStore(100000)
	s, _ = s.With("alice@pve!mon", HashSecret(secretA))
	b.ResetTimer()
	for b.Loop() {
		if !s.Verify("alice@pve!mon", secretA) {
			b.Fatal("verify failed")
		}
	}
}

func BenchmarkWith(b *testing.B) {
	s := benchStore(100000)
	h := HashSecret(secretA)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.With("new@pve!t"+strconv.Itoa(i), h); err != nil {
			b.Fatal(err)
		}
	}
}
