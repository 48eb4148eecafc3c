package ident

import (
	"strings"
	"testing"
)

// FuzzIdent checks that the validators never panic and agree with each
// other: a normalised path normalises to itself, list items carry no
// separators, and an Authid splits and joins back to itself.
func FuzzIdent(f *testing.F) {
	for _, s := range []string{"/", "//vms//100/", "0/", "root@pam", "root@pam!tok", "a!b@pve!tok",
		"x@pve!t@pam", "a,b;c d", "a\x00b", "pool/a/b", "/sdn/zones/z/v/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, ok := NormalizePath(s); ok {
			if q, ok2 := NormalizePath(p); !ok2 || q != p {
				t.Fatalf("NormalizePath(%q) = %q, again %q %v", s, p, q, ok2)
			}
			if CheckPath(p) && !strings.HasPrefix(p, "/") {
				t.Fatalf("CheckPath accepted %q", p)
			}
			_ = SplitPath(p)
		}
		if strings.IndexByte(s, 0) < 0 {
			for _, item := range SplitList(s) {
				if item == "" || strings.ContainsAny(item, ",; \t\n\v\f\r") {
					t.Fatalf("SplitList(%q) item %q", s, item)
				}
			}
		}
		if a, err := ParseAuthid(s); err == nil {
			if a.IsToken() {
				j, err := JoinTokenID(a.User(), a.Token())
				if err != nil || j != a {
					t.Fatalf("token %q rejoins as %q, %v", s, j, err)
				}
				if IsUsername(s) {
					t.Fatalf("%q is both user and token", s)
				}
			} else if string(a.User()) != s || a.Token() != "" || VerifyUsername(s) != nil {
				t.Fatalf("user %q: %q %q", s, a.User(), a.Token())
			}
		}
		if p, err := ParsePoolID(s); err == nil {
			if parent, ok := p.Parent(); ok && !IsPoolID(string(parent)) {
				t.Fatalf("parent %q of %q invalid", parent, s)
			}
		}
		_ = IsStorageID(s)
		_ = VerifyVMID(s)
		_, _ = ParseGroupID(s)
		_, _ = ParseRealm(s)
	})
}
