package cluster_test

// End-to-end access control over HTTPS against three real `pvecfs serve`
// processes: tokens made through one node used at once on the others,
// concurrent token creation, privsep intersection, 401s, CSRF, the
// file-user_cfg lock held by an outside holder, and pveum through the local
// socket. All subtests share one 3-node cluster.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/tests/harness"
)

// accessEnv is the shared cluster with one logged-in root client per node.
type accessEnv struct {
	c    *harness.Cluster
	rc   []*harness.Client // root@pam, one per node (index = c.Nodes index)
	lin  []*harness.Client // the same, with X-Pvecfs-Consistency: linearizable
	node []*harness.Node
}

func TestAccessEndToEnd(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := harness.NewCluster(t, 3, harness.WithForm())
	if err := c.WaitMembers(ctx, c.Nodes); err != nil {
		t.Fatal(err)
	}
	e := &accessEnv{c: c, node: c.Nodes}
	for _, n := range c.Nodes {
		e.rc = append(e.rc, root(ctx, t, n))
		l := root(ctx, t, n)
		l.SetHeader("X-Pvecfs-Consistency", "linearizable")
		e.lin = append(e.lin, l)
	}
	t.Run("TokenFromOneNodeWorksAtOnceOnOthers", func(t *testing.T) { testTokenAtOnce(ctx, t, e) })
	t.Run("ConcurrentTokenCreateHasOneWinner", func(t *testing.T) { testTokenRace(ctx, t, e) })
	t.Run("PrivsepIntersection", func(t *testing.T) { testPrivsep(ctx, t, e) })
	t.Run("Unauthorized", func(t *testing.T) { testUnauthorized(ctx, t, e) })
	t.Run("CSRF", func(t *testing.T) { testCSRF(ctx, t, e) })
	t.Run("LockHolderDelaysAndTimesOutMutations", func(t *testing.T) { testUserCfgLockHolder(ctx, t, e) })
	t.Run("PveumOnOneNodeVisibleOnAnother", func(t *testing.T) { testPveum(ctx, t, e) })
}

// ---- helpers ----

// requireOK fails the test unless the call returned 2xx.
func requireOK(t *testing.T, r *harness.Response, err error, what string) *harness.Response {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !r.OK() {
		t.Fatalf("%s: HTTP %d %q %v", what, r.Status, r.Message, r.Errors)
	}
	return r
}

// mustDo sends a request that must succeed.
func mustDo(ctx context.Context, t *testing.T, c *harness.Client, method, path string, p url.Values) *harness.Response {
	t.Helper()
	r, err := c.Do(ctx, method, path, p)
	return requireOK(t, r, err, method+" "+path)
}

// errText is the error message without Proxmox's trailing newline.
func errText(r *harness.Response) string { return strings.TrimSpace(r.Message) }

// addUser creates userid (with a password when pw is not empty) and gives
// it role on path.
func addUser(ctx context.Context, t *testing.T, c *harness.Client, userid, pw, path, role string) {
	t.Helper()
	p := url.Values{"userid": {userid}}
	if pw != "" {
		p.Set("password", pw)
	}
	mustDo(ctx, t, c, "POST", "/access/users", p)
	if role != "" {
		mustDo(ctx, t, c, "PUT", "/access/acl", url.Values{"path": {path}, "roles": {role}, "users": {userid}})
	}
}

type tokenCreated struct {
	FullTokenid string         `json:"full-tokenid"`
	Info        map[string]any `json:"info"`
	Value       string         `json:"value"`
}

// newToken creates userid!sub through c and returns its secret.
func newToken(ctx context.Context, t *testing.T, c *harness.Client, userid, sub string, p url.Values) string {
	t.Helper()
	r := mustDo(ctx, t, c, "POST", "/access/users/"+userid+"/token/"+sub, p)
	var tc tokenCreated
	if err := r.Decode(&tc); err != nil {
		t.Fatal(err)
	}
	if tc.FullTokenid != userid+"!"+sub || !uuidRE.MatchString(tc.Value) {
		t.Fatalf("token create answer: %s", r.Raw)
	}
	return tc.Value
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// tokenClient is a client for node n authenticated by the API token.
func tokenClient(n *harness.Node, tokenid, secret string) *harness.Client {
	c := harness.NewClient(n.APIAddr, "")
	c.SetToken(tokenid, secret)
	return c
}

// linTokenClient is tokenClient asking for linearizable reads: what it
// reads includes every write acknowledged before (CONTRACT "REST").
func linTokenClient(n *harness.Node, tokenid, secret string) *harness.Client {
	c := tokenClient(n, tokenid, secret)
	c.SetHeader("X-Pvecfs-Consistency", "linearizable")
	return c
}

type permMap map[string]map[string]int

// getPerms is GET /access/permissions; the answer must be 200.
func getPerms(ctx context.Context, t *testing.T, c *harness.Client, p url.Values) permMap {
	t.Helper()
	r := mustDo(ctx, t, c, "GET", "/access/permissions", p)
	var pm permMap
	if err := r.Decode(&pm); err != nil {
		t.Fatal(err)
	}
	return pm
}

// rolePrivs returns the privileges of a role, each with propagate 1 (what
// an ACL with the default propagate=1 grants).
func rolePrivs(ctx context.Context, t *testing.T, c *harness.Client, role string) map[string]int {
	t.Helper()
	r := mustDo(ctx, t, c, "GET", "/access/roles/"+role, nil)
	var m map[string]int
	if err := r.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatalf("role %s has no privileges: %s", role, r.Raw)
	}
	return m
}

func intersect(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range a {
		if w, ok := b[k]; ok {
			out[k] = min(v, w)
		}
	}
	return out
}

// want401 sends GET path through c and checks the 401 and its message.
func want401(ctx context.Context, t *testing.T, what string, c *harness.Client, wantMsg string) {
	t.Helper()
	r, err := c.Do(ctx, "GET", "/access/permissions", nil)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if r.Status != 401 || errText(r) != wantMsg {
		t.Errorf("%s: HTTP %d %q, want 401 %q", what, r.Status, errText(r), wantMsg)
	}
}

// runCLI runs prog on n and requires exit status 0.
func runCLI(ctx context.Context, t *testing.T, n *harness.Node, prog string, args ...string) string {
	t.Helper()
	out, stderr, code, err := n.CLI(ctx, nil, prog, args...)
	if err != nil || code != 0 {
		t.Fatalf("%s %s on %s: exit %d, %v, stderr %q", prog, strings.Join(args, " "), n.Name, code, err, stderr)
	}
	return out
}

// rawDo sends a request with exactly the given headers (the harness client
// always adds the CSRF header to ticket requests) and decodes the envelope.
func rawDo(ctx context.Context, c *harness.Client, method, path string, hdr map[string]string, form url.Values) (*harness.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+harness.APIPrefix+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hr, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close()
	raw, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, err
	}
	var env struct {
		Data    json.RawMessage `json:"data"`
		Message string          `json:"message"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("%s %s: HTTP %d, body not JSON: %q", method, path, hr.StatusCode, raw)
	}
	return &harness.Response{Status: hr.StatusCode, Data: env.Data, Message: env.Message, Header: hr.Header, Raw: raw}, nil
}

// visibleEverywhere waits until every node's local copy has path (a plain
// read, no linearizable barrier): a handler's pre-checks read the local
// copy without a barrier, so a write through one node that depends on an
// earlier write through another may otherwise fail with "no such user".
func visibleEverywhere(ctx context.Context, t *testing.T, e *accessEnv, path string) {
	t.Helper()
	for i, n := range e.node {
		if err := e.c.WaitFor(ctx, func() bool {
			r, err := e.rc[i].Do(ctx, "GET", path, nil)
			return err == nil && r.Status == 200
		}); err != nil {
			t.Fatalf("%s never visible on %s: %v", path, n.Name, err)
		}
	}
}

// ---- 1. a token made through one node works at once on the others ----

func testTokenAtOnce(ctx context.Context, t *testing.T, e *accessEnv) {
	const user = "atonce@pve"
	addUser(ctx, t, e.rc[0], user, "", "/", "PVEAuditor")
	visibleEverywhere(ctx, t, e, "/access/users/"+user) // tokens are made through every node
	for i := range 21 {
		via := i % 3 // every node (leader and followers) takes turns creating
		sub := fmt.Sprintf("t%d", i)
		secret := newToken(ctx, t, e.rc[via], user, sub, url.Values{"privsep": {"0"}})
		var wg sync.WaitGroup
		for j, n := range e.node {
			if j == via {
				continue
			}
			wg.Go(func() {
				r, err := tokenClient(n, user+"!"+sub, secret).Do(ctx, "GET", "/access/permissions", nil)
				if err != nil {
					t.Errorf("round %d: token from %s on %s: %v", i, e.node[via].Name, n.Name, err)
					return
				}
				var pm permMap
				if r.Status != 200 || r.Decode(&pm) != nil || pm["/"]["Sys.Audit"] != 1 {
					t.Errorf("round %d: token made through %s, used at once on %s: HTTP %d %q %s",
						i, e.node[via].Name, n.Name, r.Status, errText(r), r.Raw)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
}

// ---- 2. the same token id created through two nodes at once ----

// isTokenExists reports whether r is one of Proxmox's answers to a
// duplicate token: the 400 parameter error (checked before the lock) or
// its lock-wrapped 500 form (checked inside the lock).
func isTokenExists(r *harness.Response) bool {
	switch r.Status {
	case 400:
		return errText(r) == "Parameter verification failed." && r.Errors["tokenid"] == "Token already exists."
	case 500:
		return errText(r) == "generating token failed: 400 Parameter verification failed.\ntokenid: Token already exists."
	}
	return false
}

func testTokenRace(ctx context.Context, t *testing.T, e *accessEnv) {
	const user = "race@pve"
	addUser(ctx, t, e.rc[0], user, "", "/", "PVEAuditor")
	visibleEverywhere(ctx, t, e, "/access/users/"+user)
	racers := []*harness.Client{e.rc[0], e.rc[1]}
	var (
		lastCfg  string
		inRounds = 15
	)
	for round := range inRounds {
		sub := fmt.Sprintf("r%d", round)
		path := "/access/users/" + user + "/token/" + sub
		res := make([]*harness.Response, len(racers))
		errs := make([]error, len(racers))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, c := range racers {
			wg.Go(func() {
				<-start
				res[i], errs[i] = c.Do(ctx, "POST", path, url.Values{"privsep": {"0"}})
			})
		}
		close(start)
		wg.Wait()
		var winner *harness.Response
		for i, r := range res {
			if errs[i] != nil {
				t.Fatalf("round %d racer %d: %v", round, i, errs[i])
			}
			switch {
			case r.Status == 200:
				if winner != nil {
					t.Fatalf("round %d: both nodes created %s: %s and %s", round, sub, winner.Raw, r.Raw)
				}
				winner = r
			case isTokenExists(r):
				if (len(r.Data) > 0 && string(r.Data) != "null") || uuidInText.Match(r.Raw) {
					t.Fatalf("round %d: the losing answer carries data or a secret: %s", round, r.Raw)
				}
			default:
				t.Fatalf("round %d: unexpected answer HTTP %d %q %v", round, r.Status, errText(r), r.Errors)
			}
		}
		if winner == nil {
			t.Fatalf("round %d: no racer created the token: %q / %q", round, errText(res[0]), errText(res[1]))
		}
		var tc tokenCreated
		if err := winner.Decode(&tc); err != nil || !uuidRE.MatchString(tc.Value) {
			t.Fatalf("round %d: winner's answer %s (%v)", round, winner.Raw, err)
		}
		// exactly one token of that id, in user.cfg and token.cfg
		r := mustDo(ctx, t, e.lin[2], "GET", "/access/users/"+user+"/token", nil)
		var list []struct {
			Tokenid string `json:"tokenid"`
		}
		if err := r.Decode(&list); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range list {
			if l.Tokenid == sub {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: token %s listed %d times: %s", round, sub, n, r.Raw)
		}
		cfg, st := cat(ctx, t, e.lin[2], "priv/token.cfg")
		lines := 0
		for l := range strings.SplitSeq(cfg, "\n") {
			if strings.HasPrefix(l, user+"!"+sub+" ") {
				lines++
			}
		}
		if st != 200 || lines != 1 {
			t.Fatalf("round %d: priv/token.cfg (HTTP %d) has %d lines for %s:\n%s", round, st, lines, sub, cfg)
		}
		lastCfg = cfg
		// the winning secret works on every node, at once
		var wg2 sync.WaitGroup
		for _, nd := range e.node {
			wg2.Go(func() {
				r, err := tokenClient(nd, user+"!"+sub, tc.Value).Do(ctx, "GET", "/version", nil)
				if err != nil || r.Status != 200 {
					t.Errorf("round %d: winning secret on %s: %v %+v", round, nd.Name, err, r)
				}
			})
		}
		wg2.Wait()
		if t.Failed() {
			return
		}
	}
	if strings.Count(lastCfg, user+"!") != inRounds {
		t.Fatalf("token.cfg after %d rounds:\n%s", inRounds, lastCfg)
	}
}

// ---- 3. privsep intersection seen through /access/permissions ----

func testPrivsep(ctx context.Context, t *testing.T, e *accessEnv) {
	const user = "psep@pve"
	a := e.rc[0]
	addUser(ctx, t, a, user, "", "/vms", "PVEVMAdmin")
	mustDo(ctx, t, a, "PUT", "/access/acl", url.Values{"path": {"/"}, "roles": {"PVEAuditor"}, "users": {user}})
	sep := newToken(ctx, t, a, user, "sep", url.Values{"privsep": {"1"}})
	nosep := newToken(ctx, t, a, user, "nosep", url.Values{"privsep": {"0"}})
	mustDo(ctx, t, a, "PUT", "/access/acl", url.Values{"path": {"/vms"}, "roles": {"PVEAuditor"}, "tokens": {user + "!sep"}})

	vmAdmin := rolePrivs(ctx, t, a, "PVEVMAdmin")
	auditor := rolePrivs(ctx, t, a, "PVEAuditor")
	inter := intersect(vmAdmin, auditor)
	if inter["VM.Audit"] != 1 || vmAdmin["VM.PowerMgmt"] != 1 {
		t.Fatalf("unexpected built-in roles: PVEVMAdmin %v, PVEAuditor %v", vmAdmin, auditor)
	}

	// the privsep token, used on another node at once: only the
	// intersection on /vms, nothing on / (it has no ACL there). Without
	// the linearizable header the ACL may not have arrived yet.
	b := e.node[1]
	got := getPerms(ctx, t, linTokenClient(b, user+"!sep", sep), nil)
	if want := (permMap{"/vms": inter}); !permEqual(got, want) {
		t.Errorf("privsep token permissions:\n got %v\nwant %v", got, want)
	}
	if _, ok := got["/vms"]["VM.PowerMgmt"]; ok {
		t.Errorf("privsep token has VM.PowerMgmt on /vms: %v", got["/vms"])
	}
	got = getPerms(ctx, t, linTokenClient(b, user+"!sep", sep), url.Values{"path": {"/vms"}})
	if want := (permMap{"/vms": inter}); !permEqual(got, want) {
		t.Errorf("privsep token permissions on /vms:\n got %v\nwant %v", got, want)
	}

	// the non-privsep token has exactly the user's privileges
	c := e.node[2]
	tok := getPerms(ctx, t, linTokenClient(c, user+"!nosep", nosep), nil)
	usr := getPerms(ctx, t, e.lin[2], url.Values{"userid": {user}})
	if !permEqual(tok, usr) {
		t.Errorf("non-privsep token differs from its user:\ntoken %v\n user %v", tok, usr)
	}
	if !maps.Equal(tok["/vms"], vmAdmin) || !maps.Equal(tok["/"], auditor) {
		t.Errorf("non-privsep token: /vms %v (want PVEVMAdmin %v), / %v (want PVEAuditor %v)", tok["/vms"], vmAdmin, tok["/"], auditor)
	}
	// root asking about the token sees what the token sees
	if asRoot := getPerms(ctx, t, e.lin[0], url.Values{"userid": {user + "!sep"}}); !permEqual(asRoot, permMap{"/vms": inter}) {
		t.Errorf("root's view of the privsep token: %v", asRoot)
	}
}

func permEqual(a, b permMap) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]int) bool { return maps.Equal(x, y) })
}

// ---- 4. 401 for bad or revoked credentials ----

func testUnauthorized(ctx context.Context, t *testing.T, e *accessEnv) {
	a, b, c := e.node[0], e.node[1], e.node[2]
	ra := e.rc[0]
	const authFailed = "Authentication failed!"

	// a good token, for the wrong-secret and unknown-token cases
	addUser(ctx, t, ra, "good4@pve", "", "/", "PVEAuditor")
	good := newToken(ctx, t, ra, "good4@pve", "tk", url.Values{"privsep": {"0"}})

	// tokens with an own expiry in the past and a few seconds ahead
	addUser(ctx, t, ra, "exp4@pve", "", "/", "PVEAuditor")
	now := time.Now().Unix()
	old := newToken(ctx, t, ra, "exp4@pve", "old", url.Values{"privsep": {"0"}, "expire": {strconv.FormatInt(now-3600, 10)}})
	soonExpire := now + 5
	soon := newToken(ctx, t, ra, "exp4@pve", "soon", url.Values{"privsep": {"0"}, "expire": {strconv.FormatInt(soonExpire, 10)}})
	getPerms(ctx, t, tokenClient(b, "exp4@pve!soon", soon), nil) // valid until then

	// a user whose own expiry is in the past: its token is refused
	mustDo(ctx, t, ra, "POST", "/access/users", url.Values{"userid": {"uexp4@pve"}})
	uexp := newToken(ctx, t, ra, "uexp4@pve", "tk", url.Values{"privsep": {"0"}})
	mustDo(ctx, t, ra, "PUT", "/access/users/uexp4@pve", url.Values{"expire": {strconv.FormatInt(now-60, 10)}})

	// a user who works, then is disabled through node A
	const pw = "dis4-password-long"
	addUser(ctx, t, ra, "dis4@pve", pw, "/", "PVEAuditor")
	dis := newToken(ctx, t, ra, "dis4@pve", "tk", url.Values{"privsep": {"0"}})
	disTicket := b.Client()
	if err := disTicket.Login(ctx, "dis4@pve", pw); err != nil {
		t.Fatalf("login before disabling: %v", err)
	}
	getPerms(ctx, t, disTicket, nil)
	getPerms(ctx, t, tokenClient(c, "dis4@pve!tk", dis), nil)
	mustDo(ctx, t, ra, "PUT", "/access/users/dis4@pve", url.Values{"enable": {"0"}})
	tk, csrf := disTicket.Ticket()

	// every failure is answered after the 3 s delay: check them in parallel
	var wg sync.WaitGroup
	check := func(f func()) { wg.Go(f) }
	check(func() {
		want401(ctx, t, "wrong secret", tokenClient(b, "good4@pve!tk", "00000000-0000-4000-8000-000000000000"), authFailed)
	})
	check(func() { want401(ctx, t, "unknown token", tokenClient(c, "good4@pve!nope", good), authFailed) })
	check(func() { want401(ctx, t, "token of an unknown user", tokenClient(a, "ghost4@pve!tk", good), authFailed) })
	check(func() { want401(ctx, t, "expired token", tokenClient(b, "exp4@pve!old", old), authFailed) })
	check(func() { want401(ctx, t, "token of an expired user", tokenClient(c, "uexp4@pve!tk", uexp), authFailed) })
	check(func() {
		want401(ctx, t, "disabled user's token on the writing node", tokenClient(a, "dis4@pve!tk", dis), authFailed)
	})
	check(func() {
		cl := a.Client()
		cl.SetTicket(tk, csrf)
		want401(ctx, t, "disabled user's ticket on the writing node", cl, authFailed)
	})
	check(func() {
		r, err := a.Client().Do(ctx, "POST", "/access/ticket", url.Values{"username": {"dis4@pve"}, "password": {pw}})
		if err != nil || r.Status != 401 || errText(r) != "authentication failure" {
			t.Errorf("login of a disabled user: %v %+v", err, r)
		}
	})
	// on the other nodes the revocation arrives with replication
	for _, n := range []*harness.Node{b, c} {
		check(func() {
			if err := e.c.WaitFor(ctx, func() bool {
				r, err := tokenClient(n, "dis4@pve!tk", dis).Do(ctx, "GET", "/access/permissions", nil)
				return err == nil && r.Status == 401 && errText(r) == authFailed
			}); err != nil {
				t.Errorf("disabled user's token still accepted on %s: %v", n.Name, err)
			}
			cl := n.Client()
			cl.SetTicket(tk, csrf)
			want401(ctx, t, "disabled user's ticket on "+n.Name, cl, authFailed)
		})
	}
	// the token that expires a few seconds from now stops working then
	check(func() {
		var sent time.Time
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		defer wcancel()
		err := e.c.WaitFor(wctx, func() bool {
			sent = time.Now()
			r, err := tokenClient(c, "exp4@pve!soon", soon).Do(wctx, "GET", "/access/permissions", nil)
			if err == nil && r.Status == 200 && sent.Unix() > soonExpire+1 {
				t.Errorf("token accepted at %d, expired at %d", sent.Unix(), soonExpire)
			}
			return err == nil && r.Status == 401 && errText(r) == authFailed
		})
		if err != nil {
			t.Errorf("token with expire %d still accepted: %v", soonExpire, err)
		} else if sent.Unix() < soonExpire-1 {
			t.Errorf("token refused at %d, before its expiry %d", sent.Unix(), soonExpire)
		}
	})
	check(func() { // control: the good token with its right secret
		getPerms(ctx, t, tokenClient(c, "good4@pve!tk", good), nil)
	})
	wg.Wait()

	// enabled again, the same token and a new login work
	mustDo(ctx, t, ra, "PUT", "/access/users/dis4@pve", url.Values{"enable": {"1"}})
	getPerms(ctx, t, tokenClient(a, "dis4@pve!tk", dis), nil)
	if err := b.Client().Login(ctx, "dis4@pve", pw); err != nil {
		t.Errorf("login after re-enabling: %v", err)
	}
}

// ---- 5. CSRF ----

func testCSRF(ctx context.Context, t *testing.T, e *accessEnv) {
	// a ticket from node A, used on node B
	tk, csrf := e.rc[0].Ticket()
	b := e.node[1]
	bc := b.Client()
	cookie := map[string]string{"Cookie": "PVEAuthCookie=" + tk}
	const denied = "Permission denied - invalid csrf token"
	form := url.Values{"userid": {"csrf5@pve"}}

	var wg sync.WaitGroup
	for name, hdr := range map[string]map[string]string{
		"missing":   cookie,
		"malformed": {"Cookie": cookie["Cookie"], "CSRFPreventionToken": "garbage"},
		"forged":    {"Cookie": cookie["Cookie"], "CSRFPreventionToken": csrf[:9] + strings.Repeat("A", len(csrf)-9)},
	} {
		wg.Go(func() {
			r, err := rawDo(ctx, bc, "POST", "/access/users", hdr, form)
			if err != nil || r.Status != 401 || errText(r) != denied {
				t.Errorf("POST with %s CSRF token: %v %+v, want 401 %q", name, err, r, denied)
			}
		})
	}
	wg.Go(func() {
		r, err := rawDo(ctx, bc, "DELETE", "/access/users/root@pam", cookie, nil)
		if err != nil || r.Status != 401 || errText(r) != denied {
			t.Errorf("DELETE without CSRF token: %v %+v", err, r)
		}
	})
	wg.Go(func() {
		r, err := rawDo(ctx, bc, "GET", "/access/users", cookie, nil)
		if err != nil || r.Status != 200 {
			t.Errorf("GET without CSRF token: %v %+v", err, r)
		}
	})
	wg.Wait()
	// nothing was created: a linearizable read on B finds no user
	r, err := e.lin[1].Do(ctx, "GET", "/access/users/csrf5@pve", nil)
	if err != nil || r.Status != 500 || errText(r) != "no such user ('csrf5@pve')" {
		t.Fatalf("user after refused POSTs: %v %+v", err, r)
	}
	// with the header the same POST passes
	cl := b.Client()
	cl.SetTicket(tk, csrf)
	mustDo(ctx, t, cl, "POST", "/access/users", form)
	mustDo(ctx, t, e.rc[0], "GET", "/access/users/csrf5@pve", nil)
}

// ---- 6. an outside holder of file-user_cfg ----

func testUserCfgLockHolder(ctx context.Context, t *testing.T, e *accessEnv) {
	a := e.node[0]
	rb := e.rc[1] // the mutations go through node B
	const timeoutMsg = "create user failed: cfs-lock 'file-user_cfg' error: got lock request timeout"

	out := runCLI(ctx, t, a, "pvecfs", "lock", "acquire", "file-user_cfg", "--lease", "60", "--output-format", "json")
	var g grant
	if err := json.Unmarshal([]byte(out), &g); err != nil || g.Owner == "" || g.Fence == 0 {
		t.Fatalf("lock acquire output %q: %v", out, err)
	}
	released := false
	release := func() {
		runCLI(ctx, t, a, "pvecfs", "lock", "release", "file-user_cfg", "--owner", g.Owner, "--fence", strconv.FormatUint(g.Fence, 10))
		released = true
	}
	defer func() {
		if !released {
			_, _, _, _ = a.CLI(ctx, nil, "pvecfs", "lock", "release", "file-user_cfg", "--owner", g.Owner, "--fence", strconv.FormatUint(g.Fence, 10))
		}
	}()

	// a mutation through another node waits Proxmox's 10 s, then fails
	start := time.Now()
	r, err := rb.Do(ctx, "POST", "/access/users", url.Values{"userid": {"lock6@pve"}})
	took := time.Since(start)
	if err != nil || r.Status != 500 || errText(r) != timeoutMsg {
		t.Fatalf("POST while the lock is held: %v %+v, want 500 %q", err, r, timeoutMsg)
	}
	if took < 9500*time.Millisecond || took > 30*time.Second {
		t.Errorf("lock timeout after %v, want about 10 s", took)
	}
	for i := range e.node {
		r, err := e.lin[i].Do(ctx, "GET", "/access/users/lock6@pve", nil)
		if err != nil || r.Status != 500 || errText(r) != "no such user ('lock6@pve')" {
			t.Fatalf("timed-out POST created the user (%s): %v %+v", e.node[i].Name, err, r)
		}
	}

	// a mutation waiting when the holder releases goes through
	type result struct {
		r    *harness.Response
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		r, err := rb.Do(ctx, "POST", "/access/users", url.Values{"userid": {"lock6b@pve"}})
		done <- result{r, err, time.Since(start)}
	}()
	hold := time.NewTimer(2 * time.Second) // the holder's work, not a synchronisation
	select {
	case res := <-done:
		t.Fatalf("POST finished while the lock was held: %v %+v", res.err, res.r)
	case <-hold.C:
	}
	release()
	res := <-done
	if res.err != nil || res.r.Status != 200 {
		t.Fatalf("waiting POST after the release: %v %+v", res.err, res.r)
	}
	if res.took < 2*time.Second || res.took > 9*time.Second {
		t.Errorf("waiting POST took %v, want a little over 2 s", res.took)
	}
	mustDo(ctx, t, e.lin[0], "GET", "/access/users/lock6b@pve", nil)

	// released: the POST that timed out now passes at once
	start = time.Now()
	mustDo(ctx, t, rb, "POST", "/access/users", url.Values{"userid": {"lock6@pve"}})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("POST after the release took %v", took)
	}
	mustDo(ctx, t, e.lin[2], "GET", "/access/users/lock6@pve", nil)
}

// ---- 7. pveum on node C, seen through REST on node A ----

var uuidInText = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

func testPveum(ctx context.Context, t *testing.T, e *accessEnv) {
	a, cNode := e.node[0], e.node[2]
	runCLI(ctx, t, cNode, "pveum", "useradd", "joe@pve")
	runCLI(ctx, t, cNode, "pveum", "aclmod", "/vms", "-user", "joe@pve", "-role", "PVEVMAdmin")
	out := runCLI(ctx, t, cNode, "pveum", "user", "token", "add", "joe@pve", "monitoring", "-privsep", "1")
	secrets := uuidInText.FindAllString(out, -1)
	if len(secrets) != 1 || !strings.Contains(out, "joe@pve!monitoring") {
		t.Fatalf("token add output:\n%s", out)
	}
	runCLI(ctx, t, cNode, "pveum", "aclmod", "/vms", "-token", "joe@pve!monitoring", "-role", "PVEAuditor")
	userOut := runCLI(ctx, t, cNode, "pveum", "user", "permissions", "joe@pve")
	tokOut := runCLI(ctx, t, cNode, "pveum", "user", "token", "permissions", "joe@pve", "monitoring")
	const legend = "Permissions marked with '(*)' have the 'propagate' flag set."
	if !strings.Contains(userOut, "/vms") || !strings.Contains(userOut, "VM.PowerMgmt (*)") || !strings.Contains(userOut, legend) {
		t.Errorf("pveum user permissions:\n%s", userOut)
	}
	if !strings.Contains(tokOut, "/vms") || !strings.Contains(tokOut, "VM.Audit (*)") || strings.Contains(tokOut, "VM.PowerMgmt") {
		t.Errorf("pveum user token permissions:\n%s", tokOut)
	}

	// the effects, through REST on node A
	ra := e.lin[0]
	r := mustDo(ctx, t, ra, "GET", "/access/users/joe@pve", nil)
	var u struct {
		Enable int                       `json:"enable"`
		Tokens map[string]map[string]any `json:"tokens"`
	}
	if err := r.Decode(&u); err != nil || u.Enable != 1 || u.Tokens["monitoring"] == nil || u.Tokens["monitoring"]["privsep"] != float64(1) {
		t.Errorf("joe@pve on %s: %s (%v)", a.Name, r.Raw, err)
	}
	r = mustDo(ctx, t, ra, "GET", "/access/acl", nil)
	var acl []struct {
		Path, Type, Ugid, Roleid string
		Propagate                int
	}
	if err := r.Decode(&acl); err != nil {
		t.Fatal(err)
	}
	type ace struct{ path, typ, ugid, role string }
	var found []ace
	for _, x := range acl {
		if strings.HasPrefix(x.Ugid, "joe@pve") && x.Propagate == 1 {
			found = append(found, ace{x.Path, x.Type, x.Ugid, x.Roleid})
		}
	}
	want := []ace{{"/vms", "token", "joe@pve!monitoring", "PVEAuditor"}, {"/vms", "user", "joe@pve", "PVEVMAdmin"}}
	slices.SortFunc(found, func(x, y ace) int { return strings.Compare(x.typ, y.typ) })
	if !slices.Equal(found, want) {
		t.Errorf("ACL entries of joe@pve on %s: %+v, want %+v", a.Name, found, want)
	}
	inter := intersect(rolePrivs(ctx, t, ra, "PVEVMAdmin"), rolePrivs(ctx, t, ra, "PVEAuditor"))
	if got := getPerms(ctx, t, ra, url.Values{"userid": {"joe@pve!monitoring"}, "path": {"/vms"}}); !permEqual(got, permMap{"/vms": inter}) {
		t.Errorf("token permissions on /vms through %s: %v, want %v", a.Name, got, inter)
	}
	// and the secret pveum printed works on node A
	if got := getPerms(ctx, t, linTokenClient(a, "joe@pve!monitoring", secrets[0]), nil); !permEqual(got, permMap{"/vms": inter}) {
		t.Errorf("the token's own view on %s: %v", a.Name, got)
	}
}
