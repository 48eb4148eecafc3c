package perm

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/usercfg"
)

// Size of the large benchmark configuration.
const (
	benchUsers  = 10000
	benchTokens = 20000 // two per user, every other one privilege-separated
	benchACLs   = 50000
	benchGroups = 500
	benchPools  = 200
	benchVMs    = 20000
)

// largeConfig builds a configuration with benchUsers users, benchTokens
// tokens and benchACLs ACL entries (subject/role pairs) spread over VMs,
// storages, pools, groups and the upper levels of the tree.
func largeConfig() *usercfg.Config {
	r := rand.New(rand.NewSource(42))
	c := newTestConfig()
	for i := 0; i < 20; i++ {
		ps := make([]string, 0, 4)
		for j := 0; j < 4; j++ {
			ps = append(ps, privs.All[r.Intn(len(privs.All))])
		}
		c.role(fmt.Sprintf("custom%d", i), ps...)
	}
	for i := 0; i < benchUsers; i++ {
		u := fmt.Sprintf("user%d@pve", i)
		gs := []string{}
		for j := 0; j < 1+r.Intn(3); j++ {
			gs = append(gs, fmt.Sprintf("group%d", r.Intn(benchGroups)))
		}
		c.user(u, gs...)
		c.token(u+"!a1", false)
		c.token(u+"!b2", true)
	}
	for i := 0; i < benchPools; i++ {
		vms := []string{}
		for j := 0; j < benchVMs/benchPools/2; j++ {
			vms = append(vms, fmt.Sprint(100+i*(benchVMs/benchPools)+j))
		}
		c.pool(fmt.Sprintf("pool%d", i), vms, []string{fmt.Sprintf("store%d", i%50)})
	}
	roles := []string{"PVEVMUser", "PVEAuditor", "PVEVMAdmin", "PVEDatastoreUser", "NoAccess", "custom1", "custom7", "PVEPoolUser"}
	subject := func() string {
		switch r.Intn(4) {
		case 0:
			return fmt.Sprintf("@group%d", r.Intn(benchGroups))
		case 1:
			return fmt.Sprintf("user%d@pve!b2", r.Intn(benchUsers))
		default:
			return fmt.Sprintf("user%d@pve", r.Intn(benchUsers))
		}
	}
	n := 0
	add := func(path string) {
		c.acl(r.Intn(4) > 0, path, subject(), roles[r.Intn(len(roles))])
		n++
	}
	for i := 0; i < 200; i++ {
		add("/")
		add("/vms")
		add("/storage")
	}
	for n < benchACLs {
		switch r.Intn(10) {
		case 0:
			add(fmt.Sprintf("/pool/pool%d", r.Intn(benchPools)))
		case 1:
			add(fmt.Sprintf("/storage/store%d", r.Intn(50)))
		case 2:
			add(fmt.Sprintf("/access/groups/group%d", r.Intn(benchGroups)))
		default:
			add(fmt.Sprintf("/vms/%d", 100+r.Intn(benchVMs)))
		}
	}
	return c.Config
}

var largeEngine *Engine

func benchEngine(b *testing.B) *Engine {
	if largeEngine == nil {
		largeEngine = Compile(largeConfig())
	}
	return largeEngine
}

func benchQueries(n int, token string) (authids, paths []string) {
	r := rand.New(rand.NewSource(7))
	for i := 0; i < n; i++ {
		authids = append(authids, fmt.Sprintf("user%d@pve%s", r.Intn(benchUsers), token))
		paths = append(paths, fmt.Sprintf("/vms/%d", 100+r.Intn(benchVMs)))
	}
	return authids, paths
}

func benchCheck(b *testing.B, token string) {
	e := benchEngine(b)
	authids, paths := benchQueries(1024, token)
	want := []string{"VM.Audit"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Check(authids[i&1023], paths[i&1023], want, false)
	}
}

// BenchmarkCheckUser is one privilege check of a user on /vms/<id>.
func BenchmarkCheckUser(b *testing.B) { benchCheck(b, "") }

// BenchmarkCheckPrivsepToken checks a privilege-separated token (token and
// owner are both computed).
func BenchmarkCheckPrivsepToken(b *testing.B) { benchCheck(b, "!b2") }

// BenchmarkCheckTokenNoPrivsep checks a token that has its owner's rights.
func BenchmarkCheckTokenNoPrivsep(b *testing.B) { benchCheck(b, "!a1") }

// BenchmarkCheckParallel runs user checks from all CPUs on one Engine.
func BenchmarkCheckParallel(b *testing.B) {
	e := benchEngine(b)
	authids, paths := benchQueries(1024, "")
	want := []string{"VM.Audit"}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			e.Check(authids[i&1023], paths[i&1023], want, false)
			i++
		}
	})
}

// BenchmarkCompile compiles the large configuration.
func BenchmarkCompile(b *testing.B) {
	cfg := largeConfig()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Compile(cfg)
	}
}

// BenchmarkEffectivePermissions is GET /access/permissions without a path on
// the large configuration.
func BenchmarkEffectivePermissions(b *testing.B) {
	e := benchEngine(b)
	authids, _ := benchQueries(64, "")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.EffectivePermissions(authids[i&63], "")
	}
}

// TestLargeConfigSize makes sure the benchmark configuration has the
// advertised size, and spot-checks the engine against the direct algorithm.
func TestLargeConfigSize(t *testing.T) {
	if testing.Short() {
		t.Skip("large config")
	}
	cfg := largeConfig()
	users, tokens := 0, 0
	for _, u := range cfg.Users.All() {
		users++
		tokens += u.Tokens.Len()
	}
	entries := 0
	var count func(n *usercfg.ACLNode)
	count = func(n *usercfg.ACLNode) {
		for _, m := range []map[string]usercfg.RoleMap{n.Users, n.Groups, n.Tokens} {
			for _, rm := range m {
				entries += len(rm)
			}
		}
		for _, c := range n.Children.All() {
			count(c)
		}
	}
	count(cfg.ACL)
	if users < benchUsers || tokens != benchTokens || entries < benchACLs*9/10 {
		t.Fatalf("users %d tokens %d acl entries %d", users, tokens, entries)
	}
	e := Compile(cfg)
	authids, paths := benchQueries(40, "!b2")
	a2, _ := benchQueries(40, "")
	for i := range authids {
		for _, a := range []string{authids[i], a2[i]} {
			got, want := e.Permissions(a, paths[i]), naivePermissions(cfg, a, paths[i])
			if len(got) != len(want) {
				t.Fatalf("Permissions(%s, %s) = %v, want %v", a, paths[i], got, want)
			}
			for k, v := range want {
				if gv, ok := got[k]; !ok || gv != v {
					t.Fatalf("Permissions(%s, %s) = %v, want %v", a, paths[i], got, want)
				}
			}
		}
	}
}
