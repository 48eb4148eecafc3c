package perm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/access/usercfg"
)

var fixtureDir = filepath.Join("..", "..", "..", "shared", "fixtures", "pve-access-control")

// loadEngine parses and compiles one fixture config.
func loadEngine(t testing.TB, name string) (*Engine, *usercfg.Config) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	cfg, _ := usercfg.Parse(data)
	if cfg == nil {
		t.Fatalf("parse %s: no config", name)
	}
	return Compile(cfg), cfg
}

func sortedKeys[V any](m map[string]V) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// TestPermGolden checks every assertion of upstream perm-test1..8.pl.
func TestPermGolden(t *testing.T) {
	f, err := os.Open(filepath.Join(fixtureDir, "perm-tests-golden.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var e *Engine
	var cfgName string
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "### cfg=") {
			cfgName = strings.Fields(strings.TrimPrefix(line, "### cfg="))[0]
			e, _ = loadEngine(t, cfgName)
			continue
		}
		if line == "" {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != 4 {
			t.Fatalf("bad golden line %q", line)
		}
		kind, path, authid, want := parts[0], parts[1], parts[2], parts[3]
		var got string
		switch kind {
		case "ROLES":
			got = sortedKeys(e.Roles(authid, path))
		case "PERM":
			got = sortedKeys(e.Permissions(authid, path))
			// the upstream test calls permissions() twice to exercise its cache
			if again := sortedKeys(e.Permissions(authid, path)); again != got {
				t.Errorf("%s: second call %q != %q", line, again, got)
			}
		default:
			t.Fatalf("bad golden line %q", line)
		}
		if got != want {
			t.Errorf("%s %s(%q, %q) = %q, want %q", cfgName, kind, authid, path, got, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Errorf("checked %d assertions, want 100", n)
	}
}

type oracleFile struct {
	Configs map[string]map[string]map[string]map[string]int `json:"configs"`
}

func loadOracle(t testing.TB) oracleFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "effective-permissions-oracle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o oracleFile
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestEffectivePermissionsOracle compares get_effective_permissions for every
// user and token of the nine fixture configs, including which paths appear.
func TestEffectivePermissionsOracle(t *testing.T) {
	o := loadOracle(t)
	if len(o.Configs) != 9 {
		t.Fatalf("oracle has %d configs, want 9", len(o.Configs))
	}
	for cfgName, byAuth := range o.Configs {
		e, cfg := loadEngine(t, cfgName)
		// every user and token of the config is in the oracle (root@pam aside)
		for u, user := range cfg.Users.All() {
			if u == RootUser {
				continue
			}
			if _, ok := byAuth[u]; !ok {
				t.Errorf("%s: oracle lacks %s", cfgName, u)
			}
			for sub := range user.Tokens.Keys() {
				if _, ok := byAuth[u+"!"+sub]; !ok {
					t.Errorf("%s: oracle lacks %s!%s", cfgName, u, sub)
				}
			}
		}
		for authid, want := range byAuth {
			got := e.EffectivePermissions(authid, "")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: EffectivePermissions(%s)\n got %v\nwant %v", cfgName, authid, got, want)
			}
			// each path's entry agrees with Permissions
			for path, privs := range got {
				p := e.Permissions(authid, path)
				if len(p) != len(privs) {
					t.Errorf("%s %s %s: Permissions disagrees", cfgName, authid, path)
				}
			}
		}
	}
}

// TestAPIGetPermissionsCases runs the 32 cases of upstream
// api-get-permissions-test.pl against PermissionsFor.
func TestAPIGetPermissionsCases(t *testing.T) {
	o := loadOracle(t)
	oracle := o.Configs["api-get-permissions-test.cfg"]
	e, _ := loadEngine(t, "api-get-permissions-test.cfg")
	data, err := os.ReadFile(filepath.Join(fixtureDir, "api-get-permissions-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases struct {
		Comment string `json:"_comment"`
		Cases   []struct {
			Description string            `json:"description"`
			RPCUser     string            `json:"rpcuser"`
			Params      map[string]string `json:"params"`
			Result      string            `json:"result"`
			ShouldFail  int               `json:"should_fail"`
		} `json:"cases"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		t.Fatal(err)
	}
	if len(cases.Cases) != 32 {
		t.Fatalf("%d cases, want 32", len(cases.Cases))
	}
	for _, c := range cases.Cases {
		got, err := PermissionsFor(e, c.RPCUser, c.Params)
		if c.ShouldFail != 0 {
			if err == nil {
				t.Errorf("%s: no error, want 403", c.Description)
			} else if !IsPermissionDenied(err) || err.Error() != "Permission check failed (/access, Sys.Audit)" {
				t.Errorf("%s: error %v, want 403 (/access, Sys.Audit)", c.Description, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.Description, err)
			continue
		}
		authid, ok := strings.CutPrefix(c.Result, "EFFECTIVE_PERMISSIONS_OF:")
		if !ok {
			t.Fatalf("%s: bad result %q", c.Description, c.Result)
		}
		if want := oracle[authid]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", c.Description, got, want)
		}
	}
}
