package mutate

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// bigModels returns models with users users (two tokens each, so token.cfg
// holds 2*users hashes), users/10 groups of 10 members and 5*users ACL
// entries over users paths (the shape of usercfg's 10k benchmark).
func bigModels(tb testing.TB, users int) Models {
	tb.Helper()
	var b, tok bytes.Buffer
	for i := 0; i < users; i++ {
		fmt.Fprintf(&b, "user:user%05d@pve:1:0:First%d:Last:u%d@example.com:comment %d::\n", i, i, i, i)
		fmt.Fprintf(&b, "token:user%05d@pve!ci:0:1:CI token:\n", i)
		fmt.Fprintf(&b, "token:user%05d@pve!mon:1798761600:0::\n", i)
		fmt.Fprintf(&tok, "user%05d@pve!ci %s\nuser%05d@pve!mon %s\n", i, hashA, i, hashB)
	}
	groups := max(users/10, 1)
	for g := 0; g < groups; g++ {
		fmt.Fprintf(&b, "group:group%04d:", g)
		for m := 0; m < 10; m++ {
			if m > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "user%05d@pve", (g*10+m)%users)
		}
		b.WriteString(":Group comment:\n")
	}
	for r := 0; r < 50; r++ {
		fmt.Fprintf(&b, "role:Custom%02d:VM.Audit,VM.Console,Sys.Audit:\n", r)
	}
	roles := []string{"PVEVMUser", "PVEAuditor", "Custom07", "NoAccess", "PVEVMAdmin"}
	for i := 0; i < 5*users; i++ {
		u := (i*7 + i/users) % users
		var member string
		switch i % 3 {
		case 0:
			member = fmt.Sprintf("user%05d@pve", u)
		case 1:
			member = fmt.Sprintf("user%05d@pve!ci", u)
		default:
			member = fmt.Sprintf("@group%04d", u%groups)
		}
		fmt.Fprintf(&b, "acl:%d:/vms/%d:%s:%s:\n", i%2, 100+i%users, member, roles[i%len(roles)])
	}
	cfg, _ := usercfg.Parse(b.Bytes())
	st, _ := tokens.Parse(tok.Bytes())
	return Models{Users: cfg, Tokens: st, Domains: domains.New()}
}

var (
	bigOnce sync.Once
	big     map[int]Models
)

func cachedBig(tb testing.TB, n int) Models {
	bigOnce.Do(func() {
		big = map[int]Models{}
		for _, s := range []int{100, 10000} {
			big[s] = bigModels(tb, s)
		}
	})
	return big[n]
}

func TestBigModelsShape(t *testing.T) {
	if testing.Short() {
		t.Skip("big config")
	}
	m := cachedBig(t, 10000)
	n := 0
	m.Users.ACL.Walk(func(_ string, x *usercfg.ACLNode) {
		for _, mm := range []map[string]usercfg.RoleMap{x.Users, x.Groups, x.Tokens} {
			for _, r := range mm {
				n += len(r)
			}
		}
	})
	if m.Users.Users.Len() != 10001 || m.Tokens.Len() != 20000 || n != 50000 {
		t.Fatalf("users %d tokens %d acl %d", m.Users.Users.Len(), m.Tokens.Len(), n)
	}
	// A token created on the big config is canonical and leaves it intact.
	before := m.Users.Render()
	n2, _, err := CreateToken(m, TokenCreate{Userid: "user04242@pve", Tokenid: "new", Hash: hashB})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, m.Users.Render()) {
		t.Fatal("input changed")
	}
	checkCanonical(t, n2.Users)
}

func benchSizes(b *testing.B, fn func(b *testing.B, m Models)) {
	for _, n := range []int{100, 10000} {
		m := cachedBig(b, n)
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			fn(b, m)
		})
	}
}

func BenchmarkTokenCreate(b *testing.B) {
	benchSizes(b, func(b *testing.B, m Models) {
		r := TokenCreate{Userid: "user00042@pve", Tokenid: "new", Hash: hashB, Comment: "bench"}
		for b.Loop() {
			if _, _, err := CreateToken(m, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	// One user with many tokens (100 users in all): the cost of a token
	// change must not grow with the number of tokens of its user.
	for _, n := range []int{10, 1000} {
		m := manyTokens(b, n)
		b.Run(fmt.Sprintf("user-tokens=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			r := TokenCreate{Userid: "user00042@pve", Tokenid: "new", Hash: hashB, Comment: "bench"}
			for b.Loop() {
				if _, _, err := CreateToken(m, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// manyTokens returns the 100-user models with n more tokens for
// user00042@pve.
func manyTokens(tb testing.TB, n int) Models {
	tb.Helper()
	m := cachedBig(tb, 100)
	for i := 0; i < n; i++ {
		var err error
		if m, _, err = CreateToken(m, TokenCreate{Userid: "user00042@pve", Tokenid: fmt.Sprintf("t%04d", i), Hash: hashA}); err != nil {
			tb.Fatal(err)
		}
	}
	return m
}

func BenchmarkTokenDelete(b *testing.B) {
	benchSizes(b, func(b *testing.B, m Models) {
		r := TokenDelete{Userid: "user00042@pve", Tokenid: "ci"}
		for b.Loop() {
			if _, err := DeleteToken(m, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUserUpdate(b *testing.B) {
	benchSizes(b, func(b *testing.B, m Models) {
		r := UserUpdate{Userid: "user00042@pve", Comment: ptr("changed")}
		for b.Loop() {
			if _, err := UpdateUser(m.Users, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUserCreate(b *testing.B) {
	benchSizes(b, func(b *testing.B, m Models) {
		r := UserCreate{Userid: "newbie@pve", Groups: []string{"group0001"}, PasswordHash: pwA}
		for b.Loop() {
			if _, err := CreateUser(m, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUserDelete(b *testing.B) {
	benchSizes(b, func(b *testing.B, m Models) {
		r := UserDelete{Userid: "user00042@pve"}
		for b.Loop() {
			if _, err := DeleteUser(m, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkACLUpdate(b *testing.B) {
	benchSizes(b, func(b *testing.B, m Models) {
		r := ACLUpdate{Path: "/vms/150", Roles: []string{"PVEVMUser"}, Users: []string{"user00042@pve"}, CallerHasPermModify: true}
		for b.Loop() {
			if _, err := UpdateACL(m.Users, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGroupCreate(b *testing.B) {
	benchSizes(b, func(b *testing.B, m Models) {
		r := GroupCreate{Groupid: "newgroup"}
		for b.Loop() {
			if _, err := CreateGroup(m.Users, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTokenCreateDeleteApply measures a token create plus a token
// delete through the log path (command encoding and decoding, model
// loading, the mutations, staging and commit in a cfs.Tree) on the
// 100-user configuration; the 10k one exceeds the 1 MiB raw file limit and
// cannot be written in one piece.
func BenchmarkTokenCreateDeleteApply(b *testing.B) {
	m := cachedBig(b, 100)
	l := newTestLog(b, true)
	l.ok(cfs.OpWrite, cfs.WriteRequest{Path: "priv/token.cfg", Data: m.Tokens.Render(), Parents: true})
	l.ok(cfs.OpWrite, cfs.WriteRequest{Path: "user.cfg", Data: m.Users.Render()})
	create := TokenCreate{Userid: "user00042@pve", Tokenid: "new", Hash: hashB}
	del := TokenDelete{Userid: "user00042@pve", Tokenid: "new"}
	b.ReportAllocs()
	for b.Loop() {
		l.ok(OpTokenCreate, create)
		l.ok(OpTokenDelete, del)
	}
}
