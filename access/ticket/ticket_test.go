package ticket

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	keyOnce sync.Once
	keyA    *rsa.PrivateKey
	keyB    *rsa.PrivateKey
)

// testKeys returns two fixed RSA keys for the whole test binary.
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if keyA, err = rsa.GenerateKey(rand.Reader, KeyBits); err != nil {
			panic(err)
		}
		if keyB, err = rsa.GenerateKey(rand.Reader, KeyBits); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

const t0 = int64(0x6745A1B2)

func TestAssembleFormat(t *testing.T) {
	a, _ := testKeys(t)
	tk, err := Create(a, "root@pam", t0)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^PVE:root@pam:6745A1B2::[A-Za-z0-9+/]+=*$`)
	if !re.MatchString(tk) {
		t.Fatalf("ticket %q has not the PVE form", tk)
	}
	sig := tk[strings.LastIndex(tk, "::")+2:]
	if raw, err := base64.StdEncoding.DecodeString(sig); err != nil || len(raw) != KeyBits/8 {
		t.Fatalf("signature: %d bytes, %v", len(raw), err)
	}
	// ':' in data is escaped; the data reads back unescaped.
	tk2, err := Assemble(a, "PVE", "a:b", "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tk2, "PVE:a%3Ab:6745A1B2::") {
		t.Fatalf("escaping: %q", tk2)
	}
	p, err := Parse(tk2, "PVE")
	if err != nil || p.Data != "a:b" || p.Time != t0 {
		t.Fatalf("parse: %+v %v", p, err)
	}
	if _, err := Assemble(nil, "PVE", "x", "", t0); err == nil {
		t.Fatal("assemble without key must fail")
	}
	if _, err := Assemble(a, "PVE", "x", "", -1); err == nil {
		t.Fatal("assemble with negative time must fail")
	}
}

func TestParse(t *testing.T) {
	a, _ := testKeys(t)
	good, _ := Create(a, "root@pam", t0)
	sig := good[strings.LastIndex(good, "::")+2:]
	tests := []struct {
		name, in string
		ok       bool
		data     string
	}{
		{"good", good, true, "root@pam"},
		{"unpadded base64", strings.TrimRight(good, "="), true, "root@pam"},
		{"no data", "PVE:6745A1B2::" + sig, true, ""},
		{"empty", "", false, ""},
		{"wrong prefix", "PMG:root@pam:6745A1B2::" + sig, false, ""},
		{"no separator", "PVE:root@pam:6745A1B2:" + sig, false, ""},
		{"lower-case hex", "PVE:root@pam:6745a1b2::" + sig, false, ""},
		{"short hex", "PVE:root@pam:6745A1B::" + sig, false, ""},
		{"space in data", "PVE:root @pam:6745A1B2::" + sig, false, ""},
		{"empty signature", "PVE:root@pam:6745A1B2::", false, ""},
		{"bad base64", "PVE:root@pam:6745A1B2::***", false, ""},
		{"colon in signature", "PVE:root@pam:6745A1B2::ab:cd", false, ""},
		{"empty data", "PVE::6745A1B2::" + sig, false, ""},
		{"escaped data", "PVE:a%3Ab%zz:6745A1B2::" + sig, true, "a:b%zz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.in, Prefix)
			if tc.ok != (err == nil) {
				t.Fatalf("Parse(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v is not ErrInvalid", err)
				}
				return
			}
			if p.Data != tc.data {
				t.Fatalf("data %q, want %q", p.Data, tc.data)
			}
		})
	}
}

func TestURIUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"plain":        "plain",
		"a%3Ab":        "a:b",
		"a%3ab":        "a:b",
		"%":            "%",
		"%4":           "%4",
		"%zz%41":       "%zzA",
		"a+b":          "a+b",
		"%E2%9C%93":    "\u2713",
		"100%25":       "100%",
		"x%2":          "x%2",
		"PVE%3Aroot%4": "PVE:root%4",
	} {
		if got := URIUnescape(in); got != want {
			t.Errorf("URIUnescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAgeRange(t *testing.T) {
	const now = int64(1_000_000)
	tests := []struct {
		name            string
		mtime           int64
		rotated, quorum bool
		min, max        int64
		ok              bool
	}{
		{"fresh key limits max", now - 60, false, true, -300, 360, true},
		{"key of 2h+", now - 8000, false, true, -300, 7200, true},
		{"key in the future counts as new", now + 100, false, true, -300, 300, true},
		{"overdue key, quorate", now - 86400 - 1000, false, true, 1000, 7200, true},
		{"overdue key, no quorum", now - 86400 - 1000, false, false, -300, 7200, true},
		{"long overdue key accepts nothing", now - 86400 - 7201, false, true, 0, 0, false},
		{"old key just rotated", now - 10, true, true, -290, 7200, true},
		{"old key rotated an hour ago", now - 3600, true, true, 3300, 7200, true},
		{"old key rotated long ago", now - 7600, true, true, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			min, max, ok := AgeRange(now, tc.mtime, tc.rotated, tc.quorum)
			if ok != tc.ok || (ok && (min != tc.min || max != tc.max)) {
				t.Fatalf("AgeRange = (%d, %d, %v), want (%d, %d, %v)", min, max, ok, tc.min, tc.max, tc.ok)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	a, b := testKeys(t)
	keyMtime := t0 - 3*3600 // current key made 3 h before t0
	cur := &Keys{Current: &a.PublicKey, CurrentMtime: keyMtime}
	mk := func(k *rsa.PrivateKey, user string, at int64) string {
		s, err := Create(k, user, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := mk(a, "alice@pve", t0)
	tests := []struct {
		name   string
		keys   *Keys
		ticket string
		now    int64
		user   string
	}{
		{"fresh", cur, good, t0, "alice@pve"},
		{"one hour old", cur, good, t0 + 3600, "alice@pve"},
		{"almost expired", cur, good, t0 + 7199, "alice@pve"},
		{"expired", cur, good, t0 + 7200, ""},
		{"slightly in the future", cur, good, t0 - 299, "alice@pve"},
		{"too far in the future", cur, good, t0 - 300, ""},
		{"other key", &Keys{Current: &b.PublicKey, CurrentMtime: keyMtime}, good, t0, ""},
		{"no keys", &Keys{}, good, t0, ""},
		{"nil keys", nil, good, t0, ""},
		{"tampered user", cur, strings.Replace(good, "alice", "admin", 1), t0, ""},
		{"tampered time", cur, strings.Replace(good, "6745A1B2", "6745A1B3", 1), t0, ""},
		{"older than the key", cur, mk(a, "alice@pve", keyMtime-400), keyMtime + 100, ""},
		{"two-factor half ticket", cur, mk(a, "!tfa!{\"x\":1}", t0), t0, ""},
		{"tfa ticket", cur, mk(a, "tfa!alice@pve", t0), t0, ""},
		{"u2f ticket", cur, mk(a, "u2f!alice@pve!chal", t0), t0, ""},
		{"not a user", cur, mk(a, "nobody", t0), t0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, _, err := tc.keys.VerifyUser(tc.ticket, tc.now, true)
			if tc.user == "" {
				if err == nil {
					t.Fatalf("accepted as %q", u)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v is not ErrInvalid", err)
				}
				return
			}
			if err != nil || u != tc.user {
				t.Fatalf("VerifyUser = %q, %v; want %q", u, err, tc.user)
			}
		})
	}
}

// TestRotationWindows follows one key rotation: tickets of the old key stay
// valid for their lifetime, tickets made with it after the rotation do not.
func TestRotationWindows(t *testing.T) {
	a, b := testKeys(t)
	rot := t0 + 86400 // key a made at t0, replaced by key b at rot
	keys := &Keys{Current: &b.PublicKey, CurrentMtime: rot, Old: &a.PublicKey, OldMtime: rot}
	before, _ := Create(a, "alice@pve", rot-600) // made with the old key before rotation
	after, _ := Create(a, "alice@pve", rot+600)  // made with the old key after rotation (stale node)
	fresh, _ := Create(b, "alice@pve", rot+60)
	tests := []struct {
		name   string
		ticket string
		now    int64
		ok     bool
		mask   KeyMask
	}{
		{"pre-rotation ticket right after rotation", before, rot + 60, true, SignedByOld},
		{"pre-rotation ticket an hour later", before, rot + 3600, true, SignedByOld},
		{"pre-rotation ticket expired", before, rot - 600 + 7200, false, SignedByOld},
		{"old key after rotation+grace", after, rot + 700, false, SignedByOld},
		{"new key ticket", fresh, rot + 120, true, SignedByCurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.ticket, Prefix)
			if err != nil {
				t.Fatal(err)
			}
			if m := keys.SignedBy(p, ""); m != tc.mask {
				t.Fatalf("SignedBy = %b, want %b", m, tc.mask)
			}
			_, _, err = keys.VerifyUser(tc.ticket, tc.now, true)
			if tc.ok != (err == nil) {
				t.Fatalf("VerifyUser err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// The same key as current and old (no rotation yet) verifies once.
	same := &Keys{Current: &a.PublicKey, CurrentMtime: t0, Old: &a.PublicKey, OldMtime: t0}
	p, _ := Parse(before, Prefix)
	if m := same.SignedBy(p, ""); m != SignedByCurrent|SignedByOld {
		t.Fatalf("same key mask %b", m)
	}
}

// TestOtherSignatureSchemes: SHA-256 PKCS#1 v1.5 and PSS tickets (newer
// Crypt::OpenSSL::RSA, proxmox-auth-api) verify; the aad is bound.
func TestOtherSignatureSchemes(t *testing.T) {
	a, _ := testKeys(t)
	plain := fmt.Sprintf("PVE:bob@pve:%08X", t0)
	h := sha256.Sum256([]byte(plain))
	s1, err := rsa.SignPKCS1v15(nil, a, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	s2, err := rsa.SignPSS(rand.Reader, a, crypto.SHA256, h[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := &Keys{Current: &a.PublicKey, CurrentMtime: t0 - 8000}
	for name, sig := range map[string][]byte{"pkcs1-sha256": s1, "pss-sha256": s2} {
		tk := plain + "::" + base64.RawStdEncoding.EncodeToString(sig)
		if u, _, err := keys.VerifyUser(tk, t0, true); err != nil || u != "bob@pve" {
			t.Errorf("%s: %q %v", name, u, err)
		}
	}
	// aad: a ticket signed with aad does not verify without it.
	tk, err := Assemble(a, "PVE", "!tfa!{}", "bob@pve", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.Verify(tk, "PVE", "", t0, true); err == nil {
		t.Fatal("verified without aad")
	}
	if d, _, err := keys.Verify(tk, "PVE", "bob@pve", t0, true); err != nil || d != "!tfa!{}" {
		t.Fatalf("with aad: %q %v", d, err)
	}
}

func TestNeedsRotation(t *testing.T) {
	const now = int64(1_000_000)
	tests := []struct {
		name             string
		havePub, haveOld bool
		pub, old         int64
		want             bool
	}{
		{"no key", false, false, 0, 0, true},
		{"fresh key", true, false, now - 10, 0, false},
		{"almost a day", true, false, now - 86399, 0, false},
		{"a day", true, false, now - 86400, 0, true},
		{"slightly in the future", true, false, now + 300, 0, false},
		{"far in the future", true, false, now + 301, 0, true},
		{"future but old key close", true, true, now + 1000, now + 900, false},
		{"future and old key far", true, true, now + 9000, now, true},
	}
	for _, tc := range tests {
		if got := NeedsRotation(now, tc.havePub, tc.pub, tc.haveOld, tc.old); got != tc.want {
			t.Errorf("%s: NeedsRotation = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCSRF(t *testing.T) {
	// Vector computed independently (Python hmac/base64).
	secret := CSRFSecret([]byte("pve-www.key content\n"))
	if secret != "e4YM9PlmYH6fWgk0Qm+3XJ29cXYBqZpVIxjzVLCS0Rs" {
		t.Fatalf("secret %q", secret)
	}
	tok := CSRFToken(secret, "root@pam", t0)
	if tok != "6745A1B2:RuIGtnbFQboPJ9fdtzT1wwuUWjgjCbLJ6pxQtV/5TIk" {
		t.Fatalf("token %q", tok)
	}
	tests := []struct {
		name, secret, user, token string
		now                       int64
		ok                        bool
	}{
		{"good", secret, "root@pam", tok, t0, true},
		{"almost expired", secret, "root@pam", tok, t0 + 7199, true},
		{"expired", secret, "root@pam", tok, t0 + 7200, false},
		{"in the future within grace", secret, "root@pam", tok, t0 - 299, true},
		{"too far in the future", secret, "root@pam", tok, t0 - 300, false},
		{"other user", secret, "alice@pve", tok, t0, false},
		{"other secret", CSRFSecret([]byte("x")), "root@pam", tok, t0, false},
		{"empty", secret, "root@pam", "", t0, false},
		{"no digest", secret, "root@pam", "6745A1B2:", t0, false},
		{"lower-case stamp", secret, "root@pam", strings.ToLower(tok[:8]) + tok[8:], t0, false},
		{"legacy length", secret, "root@pam", "6745A1B2:" + strings.Repeat("a", 27), t0, false},
		{"trailing space", secret, "root@pam", tok + " ", t0, false},
	}
	for _, tc := range tests {
		if got := VerifyCSRF(tc.secret, tc.user, tc.token, tc.now); got != tc.ok {
			t.Errorf("%s: VerifyCSRF = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestKeyPEM(t *testing.T) {
	privPEM, pubPEM, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(privPEM), "-----BEGIN PRIVATE KEY-----\n") || !strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("PEM types:\n%s\n%s", privPEM[:40], pubPEM[:40])
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("public key: %v", err)
	}
	// PKCS#1 forms (older openssl) read too.
	p1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	if k, err := ParsePrivateKey(p1); err != nil || !k.Equal(priv) {
		t.Fatalf("PKCS#1 private: %v", err)
	}
	pp1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	if k, err := ParsePublicKey(pp1); err != nil || !k.Equal(pub) {
		t.Fatalf("PKCS#1 public: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("junk"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}})} {
		if _, err := ParsePrivateKey(bad); err == nil {
			t.Errorf("ParsePrivateKey(%q) accepted", bad)
		}
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
	www, err := GenerateWWWKey()
	if err != nil || !strings.Contains(string(www), "PRIVATE KEY") {
		t.Fatalf("www key: %v", err)
	}
}

func BenchmarkVerifyUser(b *testing.B) {
	a, _ := testKeys(b)
	tk, _ := Create(a, "alice@pve", t0)
	keys := &Keys{Current: &a.PublicKey, CurrentMtime: t0 - 8000}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := keys.VerifyUser(tk, t0, true); err != nil {
			b.Fatal(err)
		}
	}
}
