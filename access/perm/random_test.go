package perm

import (
	"math/rand"
	"reflect"
	"strconv"
	"testing"

	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/access/usercfg/pmap"
)

// randomConfig builds a small, dense configuration (few names, many
// overlaps) so that random queries hit every rule: levels, precedence,
// propagation, NoAccess, pools, tokens.
func randomConfig(r *rand.Rand) *usercfg.Config {
	cfg := usercfg.New()
	users := []string{"a@pve", "b@pve", "c@pam", "root@pam", "ghost@pve"}
	for _, u := range users[:4] {
		if cfg.User(u) == nil {
			cfg.Users = cfg.Users.Set(u, &usercfg.User{Enable: true})
		}
		user := cfg.User(u)
		user.Tokens = pmap.Map[*usercfg.Token]{}
		for _, t := range []string{"t1", "t2"} {
			if r.Intn(3) > 0 {
				user.Tokens = user.Tokens.Set(t, &usercfg.Token{Privsep: r.Intn(2) == 0})
			}
		}
	}
	roleNames := []string{RoleNoAccess, "PVEVMUser", "PVEAuditor", "PVEDatastoreUser", "Administrator", "r1", "r2", "gone"}
	for _, rn := range []string{"r1", "r2"} {
		set := usercfg.Set{}
		for i := 0; i < 3; i++ {
			set[privs.All[r.Intn(len(privs.All))]] = struct{}{}
		}
		cfg.Roles = cfg.Roles.Set(rn, &usercfg.Role{Privs: set})
	}
	groups := []string{"g1", "g2", "g3", "nogroup"}
	for _, g := range groups[:3] {
		set := usercfg.Set{}
		for _, u := range users {
			if r.Intn(2) == 0 {
				set[u] = struct{}{}
			}
		}
		cfg.Groups = cfg.Groups.Set(g, &usercfg.Group{Users: set})
	}
	vmids := []string{"100", "101", "200"}
	stores := []string{"local", "nfs"}
	for _, p := range []string{"p1", "p1/sub", "p2"} {
		pool := &usercfg.Pool{VMs: usercfg.Set{}, Storage: usercfg.Set{}}
		for _, v := range vmids {
			if !cfg.VMs.Has(v) && r.Intn(3) == 0 {
				pool.VMs[v] = struct{}{}
				cfg.VMs = cfg.VMs.Set(v, p)
			}
		}
		for _, s := range stores {
			if r.Intn(2) == 0 {
				pool.Storage[s] = struct{}{}
			}
		}
		cfg.Pools = cfg.Pools.Set(p, pool)
	}
	paths := [][]string{{}, {"vms"}, {"vms", "100"}, {"vms", "101"}, {"storage"}, {"storage", "local"},
		{"pool"}, {"pool", "p1"}, {"pool", "p1", "sub"}, {"pool", "p2"}, {"access"}, {"vms", "100", "x"}}
	for i := 0; i < 4+r.Intn(20); i++ {
		n := cfg.ACL
		for _, c := range paths[r.Intn(len(paths))] {
			child := n.Children.Value(c)
			if child == nil {
				child = &usercfg.ACLNode{}
				n.Children = n.Children.Set(c, child)
			}
			n = child
		}
		role := roleNames[r.Intn(len(roleNames))]
		prop := r.Intn(3) > 0
		switch r.Intn(3) {
		case 0:
			u := users[r.Intn(len(users))]
			if n.Users == nil {
				n.Users = map[string]usercfg.RoleMap{}
			}
			if n.Users[u] == nil {
				n.Users[u] = usercfg.RoleMap{}
			}
			n.Users[u][role] = prop
		case 1:
			g := groups[r.Intn(len(groups))]
			if n.Groups == nil {
				n.Groups = map[string]usercfg.RoleMap{}
			}
			if n.Groups[g] == nil {
				n.Groups[g] = usercfg.RoleMap{}
			}
			n.Groups[g][role] = prop
		default:
			tok := users[r.Intn(4)] + "!t" + strconv.Itoa(1+r.Intn(2))
			if n.Tokens == nil {
				n.Tokens = map[string]usercfg.RoleMap{}
			}
			if n.Tokens[tok] == nil {
				n.Tokens[tok] = usercfg.RoleMap{}
			}
			n.Tokens[tok][role] = prop
		}
	}
	return cfg
}

var randomPaths = []string{"", "/", "//", "/vms", "/vms/", "/vms/100", "/vms/101", "/vms/200", "/vms/100/x",
	"/vms/100/x/y", "/vms//100", "vms/100", "/storage", "/storage/local", "/storage/nfs", "/pool",
	"/pool/p1", "/pool/p1/sub", "/pool/p2", "/access", "/nodes", "/x"}

var randomAuthids = []string{"a@pve", "b@pve", "c@pam", "root@pam", "ghost@pve", "nobody@pve",
	"a@pve!t1", "a@pve!t2", "b@pve!t1", "b@pve!t2", "c@pam!t1", "root@pam!t1", "root@pam!t2", "x", "a@pve!zz"}

// TestRandomAgainstNaive compares the compiled engine with a direct rendering
// of Proxmox's algorithm on many random configurations.
func TestRandomAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	rounds := 200
	if testing.Short() {
		rounds = 50
	}
	for round := 0; round < rounds; round++ {
		cfg := randomConfig(r)
		e := Compile(cfg)
		for _, a := range randomAuthids {
			for _, p := range randomPaths {
				if got, want := e.Roles(a, p), naiveRoles(cfg, a, p); !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d: Roles(%q, %q) = %v, want %v", round, a, p, got, want)
				}
				if got, want := e.Permissions(a, p), naivePermissions(cfg, a, p); !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d: Permissions(%q, %q) = %v, want %v", round, a, p, got, want)
				}
			}
		}
	}
}
