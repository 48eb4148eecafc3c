package compat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	proxmox "github.com/luthermonson/go-proxmox"

	"github.com/pvecfs/pvecfs/tests/harness"
)

// uuidRE matches a lowercase UUID, the form of PVE token secrets
// (api-clients.md §7.9; proxmox-api refuses anything else).
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// goproxmoxTimeout bounds the whole go-proxmox flow.
const goproxmoxTimeout = 2 * time.Minute

// TestGoProxmox replays the recorded go-proxmox v0.8.2 flow of
// api-clients.md §2 (wire/wire-goproxmox.log) against one real node: JSON
// bodies, lazy 401-driven ticket login, strict typed decoding. The node starts
// standalone; step 11 checks /cluster/status there, then runs `pvecm create`
// and checks it again as a one-node cluster.
func TestGoProxmox(t *testing.T) {
	t.Parallel()
	needServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), goproxmoxTimeout)
	defer cancel()

	hc := harness.NewCluster(t, 1, harness.WithTimeout(startTimeout))
	node := hc.Nodes[0]
	fp := nodeFingerprint(ctx, t, node)
	base := "https://" + node.APIAddr + harness.APIPrefix

	// newClient returns a go-proxmox client whose exchanges are recorded
	// under name, over a transport pinned to the node certificate.
	newClient := func(name string, opts ...proxmox.Option) (*proxmox.Client, *recorder) {
		rec := newRecorder(t, name, pinnedTransport(fp))
		hcl := &http.Client{Transport: rec, Timeout: 30 * time.Second}
		t.Cleanup(hcl.CloseIdleConnections)
		return proxmox.NewClient(base, append([]proxmox.Option{proxmox.WithHTTPClient(hcl)}, opts...)...), rec
	}

	const (
		group    = "e2e-devs"
		userID   = "alice@pve"
		pass1    = "alice-pass-1"
		pass2    = "alice-pass-2"
		role     = "E2EAuditor"
		tokenID  = "ci"
		fullTok  = userID + "!" + tokenID
		badToken = "00000000-0000-0000-0000-000000000000"
	)

	root, rootRec := newClient("root", proxmox.WithCredentials(&proxmox.Credentials{
		Username: "root@pam", Password: node.RootPassword,
	}))
	f := newFlow(t)
	var (
		alice       *proxmox.User
		tokenSecret string
	)

	f.step("01-lazy-login-version", nil, func(t *testing.T) {
		v, err := root.Version(ctx)
		if err != nil {
			t.Fatalf("Version: %v", err)
		}
		if v == nil || v.Version == "" || v.Release == "" {
			t.Errorf("version = %+v, want non-empty version and release", v)
		}
		// The first GET goes out without auth and must be refused with 401
		// (§7.1): that is what makes go-proxmox log in.
		ex := rootRec.all()
		if len(ex) < 3 {
			t.Fatalf("want GET /version (401), POST /access/ticket, GET /version; got %d exchanges", len(ex))
		}
		if ex[0].Method != "GET" || ex[0].Auth != "none" || ex[0].Status != http.StatusUnauthorized {
			t.Errorf("first exchange %s %s auth=%s -> %q, want GET /version without auth -> 401", ex[0].Method, ex[0].Path, ex[0].Auth, ex[0].StatusLine)
		}
		if ex[1].Method != "POST" || ex[1].Path != "/access/ticket" || ex[1].Status != http.StatusOK {
			t.Errorf("second exchange %s %s -> %q, want POST /access/ticket -> 200", ex[1].Method, ex[1].Path, ex[1].StatusLine)
		}
		s := root.Session()
		if s == nil {
			t.Fatal("no session after login")
		}
		eq(t, "session username", s.Username, "root@pam")
		if s.Ticket == "" || s.CSRFPreventionToken == "" {
			t.Errorf("session ticket %q, CSRFPreventionToken %q: want both non-empty", s.Ticket, s.CSRFPreventionToken)
		}
		if !strings.HasPrefix(s.Ticket, "PVE:root@pam:") {
			t.Errorf("ticket %q, want the PVE:root@pam:<HEX>::<sig> form (access-control.md §8.2)", s.Ticket)
		}
	})

	f.step("01b-ticket-renewal", []string{"01-lazy-login-version"}, func(t *testing.T) {
		// go-proxmox renews its session after 1 h by POSTing the ticket as
		// the password (§4.1, §7.5).
		if err := root.RefreshTicket(ctx); err != nil {
			t.Fatalf("RefreshTicket (POST /access/ticket with the ticket as password): %v", err)
		}
		s := root.Session()
		eq(t, "renewed session username", s.Username, "root@pam")
		if s.Ticket == "" || s.CSRFPreventionToken == "" {
			t.Errorf("renewed session has ticket %q, csrf %q", s.Ticket, s.CSRFPreventionToken)
		}
		if _, err := root.Version(ctx); err != nil {
			t.Errorf("Version with the renewed ticket: %v", err)
		}
	})

	f.step("02-groups", []string{"01-lazy-login-version"}, func(t *testing.T) {
		if err := root.NewGroup(ctx, group, "e2e group"); err != nil {
			t.Fatalf("NewGroup: %v", err)
		}
		gs, err := root.Groups(ctx)
		if err != nil {
			t.Fatalf("Groups: %v", err)
		}
		if !slices.ContainsFunc(gs, func(g *proxmox.Group) bool { return g.GroupID == group }) {
			t.Errorf("Groups() = %s, want it to contain %s", jsonOf(gs), group)
		}
	})

	f.step("03-users", []string{"02-groups"}, func(t *testing.T) {
		err := root.NewUser(ctx, &proxmox.NewUser{
			UserID: userID, Password: pass1, Enable: true, Email: "alice@example.com",
			Firstname: "Alice", Comment: "e2e", Groups: proxmox.CSV{group},
		})
		if err != nil {
			t.Fatalf("NewUser: %v", err)
		}
		us, err := root.Users(ctx)
		if err != nil {
			t.Fatalf("Users (go-proxmox's typed decode: tokens must not be an array without full=1, no int tfa-locked-until): %v", err)
		}
		if !slices.ContainsFunc(us, func(u *proxmox.User) bool { return u.UserID == userID }) {
			t.Errorf("Users() = %s, want it to contain %s", jsonOf(us), userID)
		}
		u, err := root.User(ctx, userID)
		if err != nil {
			t.Fatalf("User(%s): %v", userID, err)
		}
		eq(t, "enable", bool(u.Enable), true)
		eq(t, "email", u.Email, "alice@example.com")
		eq(t, "firstname", u.Firstname, "Alice")
		eq(t, "comment", u.Comment, "e2e")
		if !slices.Equal([]string(u.Groups), []string{group}) {
			t.Errorf("groups = %q, want [%s]", u.Groups, group)
		}
		if ex, ok := rootRec.last("GET", "/access/users/"+userID); ok {
			assertGroupsArray(t, ex.Body)
		}
		g, err := root.Group(ctx, group)
		if err != nil {
			t.Fatalf("Group(%s): %v", group, err)
		}
		if !slices.Equal(g.Members, []string{userID}) {
			t.Errorf("group members = %q, want [%s]", g.Members, userID)
		}
		enable := proxmox.IntOrBool(true)
		if err := u.Update(ctx, proxmox.UserOptions{Comment: "updated", Enable: &enable}); err != nil {
			t.Fatalf("Update user: %v", err)
		}
		u, err = root.User(ctx, userID)
		if err != nil {
			t.Fatalf("User(%s) after update: %v", userID, err)
		}
		eq(t, "comment after update", u.Comment, "updated")
		eq(t, "enable after update", bool(u.Enable), true)
		eq(t, "email after update (untouched)", u.Email, "alice@example.com")
		alice = u
	})

	f.step("04-roles", []string{"01-lazy-login-version"}, func(t *testing.T) {
		if err := root.NewRole(ctx, role, "Sys.Audit,VM.Audit"); err != nil {
			t.Fatalf("NewRole: %v", err)
		}
		rs, err := root.Roles(ctx)
		if err != nil {
			t.Fatalf("Roles: %v", err)
		}
		i := slices.IndexFunc(rs, func(r *proxmox.Role) bool { return r.RoleID == role })
		if i < 0 {
			t.Errorf("Roles() = %s, want it to contain %s", jsonOf(rs), role)
		} else {
			eq(t, role+" privs", rs[i].Privs, "Sys.Audit,VM.Audit")
			eq(t, role+" special", bool(rs[i].Special), false)
		}
		if i := slices.IndexFunc(rs, func(r *proxmox.Role) bool { return r.RoleID == "PVEAuditor" }); i < 0 {
			t.Errorf("Roles() lacks the built-in PVEAuditor")
		} else {
			eq(t, "PVEAuditor special", bool(rs[i].Special), true)
		}
		p, err := root.Role(ctx, role)
		if err != nil {
			t.Fatalf("Role(%s): %v", role, err)
		}
		want := proxmox.Permission{"Sys.Audit": true, "VM.Audit": true}
		if !mapsEqual(p, want) {
			t.Errorf("Role(%s) = %v, want %v", role, p, want)
		}
	})

	f.step("05-token", []string{"03-users"}, func(t *testing.T) {
		nt, err := alice.NewAPIToken(ctx, proxmox.Token{TokenID: tokenID, Comment: "e2e token", Privsep: false})
		if err != nil {
			t.Fatalf("NewAPIToken: %v", err)
		}
		eq(t, "full-tokenid", nt.FullTokenID, fullTok)
		if !uuidRE.MatchString(nt.Value) {
			t.Errorf("token value %q, want a lowercase UUID", nt.Value)
		}
		if nt.Value == "" {
			t.Fatal("no token value")
		}
		tokenSecret = nt.Value
		ts, err := alice.GetAPITokens(ctx)
		if err != nil {
			t.Fatalf("GetAPITokens: %v", err)
		}
		i := slices.IndexFunc(ts, func(tk *proxmox.Token) bool { return tk.TokenID == tokenID })
		if i < 0 {
			t.Errorf("GetAPITokens() = %s, want it to contain %s", jsonOf(ts), tokenID)
		} else {
			eq(t, "listed privsep", bool(ts[i].Privsep), false)
		}
		tk, err := alice.APIToken(ctx, tokenID)
		if err != nil {
			t.Fatalf("APIToken(%s): %v", tokenID, err)
		}
		eq(t, "token comment", tk.Comment, "e2e token")
		eq(t, "token privsep", bool(tk.Privsep), false)
		// GET /access/users/{id} carries tokens as an object keyed by
		// token id (§5); go-proxmox decodes it into a map.
		u, err := root.User(ctx, userID)
		if err != nil {
			t.Fatalf("User(%s) with a token: %v", userID, err)
		}
		if tok, ok := u.Tokens[tokenID]; !ok {
			t.Errorf("user tokens = %v, want key %s", u.Tokens, tokenID)
		} else {
			eq(t, "user tokens[ci].comment", tok.Comment, "e2e token")
		}
	})

	f.step("06-acl", []string{"03-users", "04-roles"}, func(t *testing.T) {
		if err := root.UpdateACL(ctx, proxmox.ACLOptions{Path: "/", Roles: role, Users: userID, Propagate: true}); err != nil {
			t.Fatalf("UpdateACL user: %v", err)
		}
		if err := root.UpdateACL(ctx, proxmox.ACLOptions{Path: "/vms", Roles: "PVEAuditor", Groups: group, Propagate: true}); err != nil {
			t.Fatalf("UpdateACL group: %v", err)
		}
		acls, err := root.ACL(ctx)
		if err != nil {
			t.Fatalf("ACL: %v", err)
		}
		if !hasACL(acls, "/", "user", userID, role, true) {
			t.Errorf("ACL() = %s, want {path:/ type:user ugid:%s roleid:%s propagate:1}", jsonOf(acls), userID, role)
		}
		if !hasACL(acls, "/vms", "group", group, "PVEAuditor", true) {
			t.Errorf("ACL() = %s, want {path:/vms type:group ugid:%s roleid:PVEAuditor propagate:1}", jsonOf(acls), group)
		}
	})

	f.step("07-domains", []string{"01-lazy-login-version"}, func(t *testing.T) {
		ds, err := root.Domains(ctx)
		if err != nil {
			t.Fatalf("Domains: %v", err)
		}
		for _, want := range []string{"pam", "pve"} {
			if !slices.ContainsFunc(ds, func(d *proxmox.Domain) bool {
				return d.Realm == want && strings.EqualFold(d.Type, want)
			}) {
				t.Errorf("Domains() = %s, want realm %s of type %s", jsonOf(ds), want, want)
			}
		}
		d, err := root.Domain(ctx, "pve")
		if err != nil {
			t.Fatalf("Domain(pve): %v", err)
		}
		eq(t, "domain pve type", d.Type, "pve")
	})

	f.step("08-token-login", []string{"05-token", "06-acl"}, func(t *testing.T) {
		tc, trec := newClient("token", proxmox.WithAPIToken(fullTok, tokenSecret))
		if _, err := tc.Version(ctx); err != nil {
			t.Errorf("Version with the token: %v", err)
		}
		perms, err := tc.Permissions(ctx, nil)
		if err != nil {
			t.Fatalf("Permissions with the token: %v", err)
		}
		// privsep=0: the token has alice's rights, E2EAuditor on / (§2.8).
		if !bool(perms["/"]["Sys.Audit"]) {
			t.Errorf("token permissions = %v, want Sys.Audit on /", perms)
		}
		for _, ex := range trec.all() {
			if ex.Auth != "token" || ex.CSRF {
				t.Errorf("%s %s sent auth=%s csrf=%v, want a token header and no CSRF", ex.Method, ex.Path, ex.Auth, ex.CSRF)
			}
		}

		bc, brec := newClient("bad-token", proxmox.WithAPIToken(fullTok, badToken))
		_, err = bc.Version(ctx)
		if !errors.Is(err, proxmox.ErrNotAuthorized) {
			t.Errorf("Version with a wrong secret: err = %v, want ErrNotAuthorized", err)
		}
		if ex, ok := brec.last("GET", "/version"); !ok || ex.Status != http.StatusUnauthorized {
			t.Errorf("GET /version with a wrong token secret answered %q, want 401", ex.StatusLine)
		}
	})

	f.step("09-permissions-of-user", []string{"06-acl"}, func(t *testing.T) {
		perms, err := root.Permissions(ctx, &proxmox.PermissionsOptions{Path: "/", UserID: userID})
		if err != nil {
			t.Fatalf("Permissions(path=/, userid=%s): %v", userID, err)
		}
		if !bool(perms["/"]["VM.Audit"]) {
			t.Errorf("permissions of %s = %v, want VM.Audit on /", userID, perms)
		}
		if !bool(perms["/"]["Sys.Audit"]) {
			t.Errorf("permissions of %s = %v, want Sys.Audit on /", userID, perms)
		}
		// With path, the answer holds that one path (access-control.md §7.1).
		for p := range perms {
			if p != "/" {
				t.Errorf("permissions with path=/ also list %q: %v", p, perms)
			}
		}
	})

	f.step("10-password", []string{"06-acl"}, func(t *testing.T) {
		if err := root.Password(ctx, userID, pass2); err != nil {
			t.Fatalf("Password(%s) as root@pam: %v", userID, err)
		}
		ac, arec := newClient("alice-new", proxmox.WithCredentials(&proxmox.Credentials{Username: userID, Password: pass2}))
		perms, err := ac.Permissions(ctx, nil)
		if err != nil {
			t.Errorf("alice with the new password: Permissions: %v", err)
		} else if !bool(perms["/"]["Sys.Audit"]) {
			t.Errorf("alice's own permissions = %v, want Sys.Audit on /", perms)
		}
		if s := ac.Session(); s == nil {
			t.Errorf("alice with the new password: no session")
		} else {
			eq(t, "alice session username", s.Username, userID)
		}
		if ex, ok := arec.last("POST", "/access/ticket"); !ok || ex.Status != http.StatusOK {
			t.Errorf("login with the new password answered %q, want 200", ex.StatusLine)
		}

		oc, orec := newClient("alice-old", proxmox.WithCredentials(&proxmox.Credentials{Username: userID, Password: pass1}))
		_, err = oc.Version(ctx)
		if !errors.Is(err, proxmox.ErrNotAuthorized) {
			t.Errorf("alice with the old password: err = %v, want ErrNotAuthorized", err)
		}
		ex, ok := orec.last("POST", "/access/ticket")
		if !ok || ex.Status != http.StatusUnauthorized {
			t.Errorf("login with the old password answered %q, want 401", ex.StatusLine)
		} else {
			assertJSONNullData(t, "failed login", ex)
		}
	})

	f.step("11-cluster-status-standalone", []string{"01-lazy-login-version"}, func(t *testing.T) {
		cl, err := root.Cluster(ctx)
		if err != nil {
			t.Fatalf("Cluster (GET /cluster/status): %v", err)
		}
		checkNodeEntry(t, cl, node.Name)
		// CONTRACT.md: no type=cluster entry before `pvecm create`.
		if cl.ID != "" || cl.Name != "" {
			t.Errorf("standalone /cluster/status has a cluster entry (id %q, name %q); CONTRACT: none before pvecm create", cl.ID, cl.Name)
		}
		if ns, err := cl.ConfigNodes(ctx); err != nil {
			t.Logf("standalone GET /cluster/config/nodes: %v (not asserted)", err)
		} else {
			t.Logf("standalone GET /cluster/config/nodes: %s (not asserted)", jsonOf(ns))
		}
	})

	f.step("11b-cluster-status-formed", []string{"01-lazy-login-version"}, func(t *testing.T) {
		if err := hc.Form(ctx); err != nil {
			t.Fatalf("pvecm create: %v", err)
		}
		cl, err := root.Cluster(ctx)
		if err != nil {
			t.Fatalf("Cluster (GET /cluster/status): %v", err)
		}
		checkNodeEntry(t, cl, node.Name)
		eq(t, "cluster entry id", cl.ID, "cluster")
		eq(t, "cluster entry name", cl.Name, hc.Name)
		eq(t, "cluster entry quorate", cl.Quorate, 1)
		ns, err := cl.ConfigNodes(ctx)
		if err != nil {
			t.Fatalf("ConfigNodes (GET /cluster/config/nodes): %v", err)
		}
		if !slices.ContainsFunc(ns, func(n *proxmox.ClusterConfigNodeEntry) bool { return n.Node == node.Name }) {
			t.Errorf("GET /cluster/config/nodes = %s, want an entry with node %q", jsonOf(ns), node.Name)
		}
	})

	f.step("12-error-paths", []string{"03-users"}, func(t *testing.T) {
		_, err := root.User(ctx, "nobody@pve")
		switch {
		case err == nil:
			t.Errorf("User(nobody@pve) succeeded, want an error")
		case !strings.HasPrefix(err.Error(), "500 ") || !strings.Contains(err.Error(), "nobody@pve"):
			t.Errorf("User(nobody@pve) error %q, want PVE's 500 with the reason naming nobody@pve (\"500 no such user ('nobody@pve')\")", err)
		}
		err = root.NewUser(ctx, &proxmox.NewUser{UserID: userID, Enable: true})
		switch {
		case err == nil:
			t.Errorf("duplicate NewUser(%s) succeeded, want an error", userID)
		case !strings.HasPrefix(err.Error(), "500 ") || !strings.Contains(err.Error(), "already exists"):
			t.Errorf("duplicate NewUser error %q, want PVE's \"500 create user failed: user '%s' already exists\"", err, userID)
		}
		err = root.NewUser(ctx, &proxmox.NewUser{UserID: "no-realm", Enable: true})
		switch {
		case err == nil:
			t.Errorf("NewUser(no-realm) succeeded, want 400")
		case !strings.HasPrefix(err.Error(), "bad request: 400 ") || !strings.Contains(err.Error(), " - {") || !strings.Contains(err.Error(), `"userid"`):
			t.Errorf("NewUser(no-realm) error %q, want \"bad request: 400 … - {errors with userid}\"", err)
		}
		if ex, ok := rootRec.last("POST", "/access/users"); ok {
			eq(t, "POST /access/users userid=no-realm status", ex.Status, http.StatusBadRequest)
		}
	})

	f.step("12b-json-array-for-string", []string{"01-lazy-login-version"}, func(t *testing.T) {
		// go-proxmox sends NewUser.Keys as a JSON array; keys is a string
		// parameter, so PVE answers 400 "type check ('string') failed - got
		// ARRAY" (api-clients.md §5) and creates nothing.
		const id = "keys-array@pve"
		err := root.NewUser(ctx, &proxmox.NewUser{UserID: id, Enable: true, Keys: []string{"x"}})
		switch {
		case err == nil:
			t.Errorf("NewUser with keys as a JSON array succeeded, want 400")
		case !strings.HasPrefix(err.Error(), "bad request: 400 ") || !strings.Contains(err.Error(), `"keys"`):
			t.Errorf("NewUser with keys as a JSON array: error %q, want \"bad request: 400 … - {\"keys\":…}\"", err)
		}
		if _, err := root.User(ctx, id); err == nil {
			t.Errorf("user %s exists after the refused create", id)
		}
	})

	f.step("13-cleanup", []string{"06-acl", "05-token"}, func(t *testing.T) {
		err := root.UpdateACL(ctx, proxmox.ACLOptions{Path: "/", Roles: role, Users: userID, Propagate: false, Delete: true})
		if err != nil {
			t.Errorf("UpdateACL delete: %v", err)
		}
		acls, err := root.ACL(ctx)
		if err != nil {
			t.Errorf("ACL: %v", err)
		} else if slices.ContainsFunc(acls, func(a *proxmox.ACL) bool { return a.UGID == userID }) {
			t.Errorf("ACL() after delete = %s, still names %s", jsonOf(acls), userID)
		}
		if err := alice.DeleteAPIToken(ctx, tokenID); err != nil {
			t.Errorf("DeleteAPIToken: %v", err)
		}
		tc, trec := newClient("deleted-token", proxmox.WithAPIToken(fullTok, tokenSecret))
		if _, err := tc.Version(ctx); !errors.Is(err, proxmox.ErrNotAuthorized) {
			t.Errorf("Version with the deleted token: err = %v, want ErrNotAuthorized", err)
		}
		if ex, ok := trec.last("GET", "/version"); !ok || ex.Status != http.StatusUnauthorized {
			t.Errorf("GET /version with a deleted token answered %q, want 401", ex.StatusLine)
		}
		if err := alice.Delete(ctx); err != nil {
			t.Errorf("delete user: %v", err)
		}
		if _, err := root.User(ctx, userID); err == nil {
			t.Errorf("User(%s) after delete succeeded", userID)
		}
		g, err := root.Group(ctx, group)
		if err != nil {
			t.Errorf("Group(%s): %v", group, err)
		} else if err := g.Delete(ctx); err != nil {
			t.Errorf("delete group: %v", err)
		}
		// CONTRACT.md: deleting a group removes the ACL entries naming it.
		if acls, err := root.ACL(ctx); err != nil {
			t.Errorf("ACL: %v", err)
		} else if slices.ContainsFunc(acls, func(a *proxmox.ACL) bool { return a.UGID == group }) {
			t.Errorf("ACL() after deleting group %s = %s, still names it (CONTRACT: removed with it)", group, jsonOf(acls))
		}
		rs, err := root.Roles(ctx)
		if err != nil {
			t.Fatalf("Roles: %v", err)
		}
		i := slices.IndexFunc(rs, func(r *proxmox.Role) bool { return r.RoleID == role })
		if i < 0 {
			t.Fatalf("role %s missing before delete", role)
		}
		if err := rs[i].Delete(ctx); err != nil {
			t.Errorf("delete role: %v", err)
		}
		if rs, err := root.Roles(ctx); err != nil {
			t.Errorf("Roles: %v", err)
		} else if slices.ContainsFunc(rs, func(r *proxmox.Role) bool { return r.RoleID == role }) {
			t.Errorf("role %s still listed after delete", role)
		}
	})

	// Every answer, error or not, is JSON with PVE's exact content type
	// (api-clients.md §5, §7.8, §7.12).
	t.Run("14-content-type", func(t *testing.T) {
		checkContentTypes(t, rootRec.all())
	})
}

// checkContentTypes reports, once per kind of defect, answers whose
// Content-Type is not PVE's exact one or whose body is not JSON.
func checkContentTypes(t *testing.T, exs []exchange) {
	t.Helper()
	badCT := map[string][]string{}
	var order []string
	var notJSON []string
	for _, ex := range exs {
		if ex.Err != nil {
			continue
		}
		what := ex.Method + " " + ex.Path + " -> " + ex.StatusLine
		if ex.CT != pveContentType {
			if _, seen := badCT[ex.CT]; !seen {
				order = append(order, ex.CT)
			}
			badCT[ex.CT] = append(badCT[ex.CT], what)
		}
		if !json.Valid(ex.Body) {
			notJSON = append(notJSON, what+": "+clip(string(ex.Body), 120))
		}
	}
	for _, ct := range order {
		ws := badCT[ct]
		t.Errorf("%d answer(s) with Content-Type %q, want %q, e.g. %s", len(ws), ct, pveContentType, strings.Join(ws[:min(3, len(ws))], "; "))
	}
	if len(notJSON) > 0 {
		t.Errorf("%d answer(s) with a body that is not JSON, e.g. %s", len(notJSON), strings.Join(notJSON[:min(3, len(notJSON))], "; "))
	}
}

// pveContentType is the exact response Content-Type of PVE.
const pveContentType = "application/json;charset=UTF-8"

// checkNodeEntry checks the go-proxmox view of this node in /cluster/status.
func checkNodeEntry(t *testing.T, cl *proxmox.Cluster, name string) {
	t.Helper()
	i := slices.IndexFunc(cl.Nodes, func(n *proxmox.NodeStatus) bool { return n.Name == name })
	if i < 0 {
		t.Errorf("/cluster/status nodes = %s, want a node entry named %s", jsonOf(cl.Nodes), name)
		return
	}
	n := cl.Nodes[i]
	eq(t, "node entry id", n.ID, "node/"+name)
	eq(t, "node entry online", n.Online, 1)
	eq(t, "node entry local", n.Local, 1)
	if n.IP == "" {
		t.Errorf("node entry has no ip")
	}
}

// hasACL reports whether acls holds the given entry.
func hasACL(acls proxmox.ACLs, path, typ, ugid, role string, propagate bool) bool {
	return slices.ContainsFunc(acls, func(a *proxmox.ACL) bool {
		return a.Path == path && a.Type == typ && a.UGID == ugid && a.RoleID == role && bool(a.Propagate) == propagate
	})
}

// mapsEqual compares two permission maps.
func mapsEqual(a, b proxmox.Permission) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// assertGroupsArray checks that a GET /access/users/{id} body carries groups
// as a JSON array (§5), which go-proxmox would also accept as a string.
func assertGroupsArray(t *testing.T, body []byte) {
	t.Helper()
	var env struct {
		Data struct {
			Groups json.RawMessage `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Errorf("GET /access/users/{id}: %v", err)
		return
	}
	if !strings.HasPrefix(strings.TrimSpace(string(env.Data.Groups)), "[") {
		t.Errorf("GET /access/users/{id} groups = %s, want a JSON array", env.Data.Groups)
	}
}

// assertJSONNullData checks that an error answer is PVE's {"data":null}.
func assertJSONNullData(t *testing.T, what string, ex exchange) {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(ex.Body, &env); err != nil {
		t.Errorf("%s: body %q is not JSON (%v); PVE answers {\"data\":null}", what, clip(string(ex.Body), 200), err)
		return
	}
	if d, ok := env["data"]; !ok || string(d) != "null" {
		t.Errorf("%s: body %s, want data null", what, clip(string(ex.Body), 200))
	}
}

// jsonOf renders v for messages.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return clip(string(b), 1500)
}
