package usercfg

import (
	"bytes"
	"fmt"
	"testing"
)

// bigUserCfg generates a user.cfg with 10k users, 20k tokens, 1k groups,
// 200 pools, 50 custom roles and 50k ACL entries (one per line, over 10k
// /vms paths).
func bigUserCfg() []byte {
	var b bytes.Buffer
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&b, "user:user%05d@pve:1:0:First%d:Last%%C3%%BC:u%d@example.com:comment %d::\n", i, i, i, i)
		fmt.Fprintf(&b, "token:user%05d@pve!ci:0:1:CI token:\n", i)
		fmt.Fprintf(&b, "token:user%05d@pve!mon:1798761600:0::\n", i)
	}
	b.WriteString("\n")
	for g := 0; g < 1000; g++ {
		fmt.Fprintf(&b, "group:group%04d:", g)
		for m := 0; m < 10; m++ {
			if m > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "user%05d@pve", (g*10+m)%10000)
		}
		b.WriteString(":Group comment:\n")
	}
	b.WriteString("\n")
	for p := 0; p < 200; p++ {
		fmt.Fprintf(&b, "pool:pool%03d:Pool %d:", p, p)
		for v := 0; v < 10; v++ {
			if v > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d", 100+p*10+v)
		}
		b.WriteString(":local,nfs1:\n")
	}
	b.WriteString("\n")
	for r := 0; r < 50; r++ {
		fmt.Fprintf(&b, "role:Custom%02d:VM.Audit,VM.Console,Sys.Audit:\n", r)
	}
	b.WriteString("\n")
	roles := []string{"PVEVMUser", "PVEAuditor", "Custom07", "NoAccess", "PVEVMAdmin"}
	for i := 0; i < 50000; i++ {
		path := fmt.Sprintf("/vms/%d", 100+i%10000)
		u := (i*7 + i/10000) % 10000
		var member string
		switch i % 3 {
		case 0:
			member = fmt.Sprintf("user%05d@pve", u)
		case 1:
			member = fmt.Sprintf("user%05d@pve!ci", u)
		default:
			member = fmt.Sprintf("@group%04d", u%1000)
		}
		fmt.Fprintf(&b, "acl:%d:%s:%s:%s:\n", i%2, path, member, roles[i%len(roles)])
	}
	return b.Bytes()
}

func countACL(n *ACLNode) int {
	c := 0
	n.Walk(func(_ string, x *ACLNode) {
		for _, m := range []map[string]RoleMap{x.Users, x.Groups, x.Tokens} {
			for _, r := range m {
				c += len(r)
			}
		}
	})
	return c
}

func TestBigConfig(t *testing.T) {
	data := bigUserCfg()
	cfg, warns := Parse(data)
	if len(warns) != 0 {
		t.Fatalf("%d warnings, first %q", len(warns), warns[0])
	}
	tokens := 0
	for _, u := range cfg.Users.All() {
		tokens += u.Tokens.Len()
	}
	if cfg.Users.Len() != 10001 || tokens != 20000 {
		t.Fatalf("users %d tokens %d", cfg.Users.Len(), tokens)
	}
	if n := countACL(cfg.ACL); n != 50000 {
		t.Fatalf("ACL entries %d", n)
	}
	checkCanonical(t, cfg)
}

func BenchmarkParse(b *testing.B) {
	data := bigUserCfg()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(data)
	}
}

func BenchmarkRender(b *testing.B) {
	cfg, _ := Parse(bigUserCfg())
	out := cfg.Render()
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		cfg.Render()
	}
}
