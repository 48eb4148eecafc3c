package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/cfs"
)

// authServer serves the authentication endpoints of f over HTTP, plus
// POST /test/whoami answering the caller's identity.
func authServer(t *testing.T, a *AuthService, cfg AccessAuthConfig) *httptest.Server {
	t.Helper()
	s := New(a, slog.New(slog.DiscardHandler))
	s.FailDelay = 0
	s.Handle(AccessAuthEndpoints(a, cfg)...)
	s.Handle(Endpoint{Method: "POST", Path: "/test/whoami", Handler: func(r *Request) (any, error) { return r.Auth.Authid, nil }})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// apiCall is one request: a form or JSON body and extra headers.
type apiCall struct {
	method, path string
	form         url.Values
	json         string
	hdr          map[string]string
}

// apiAnswer is what came back.
type apiAnswer struct {
	status int
	reason string
	raw    string
	data   any
	msg    string
	errors map[string]string
}

func (c apiCall) do(t *testing.T, srv *httptest.Server) apiAnswer {
	t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case c.json != "":
		body, ct = strings.NewReader(c.json), "application/json"
	case c.form != nil:
		body, ct = strings.NewReader(c.form.Encode()), "application/x-www-form-urlencoded"
	}
	r, err := http.NewRequest(c.method, srv.URL+Prefix+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for k, v := range c.hdr {
		r.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Content-Type"); got != ContentType {
		t.Fatalf("%s %s: Content-Type %q", c.method, c.path, got)
	}
	var env struct {
		Data    any               `json:"data"`
		Message string            `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: body %q: %v", c.method, c.path, raw, err)
	}
	_, reason, _ := strings.Cut(resp.Status, " ")
	return apiAnswer{status: resp.StatusCode, reason: reason, raw: string(raw), data: env.Data, msg: env.Message, errors: env.Errors}
}

// login posts credentials and returns ticket and CSRF token.
func login(t *testing.T, srv *httptest.Server, user, pw string) (string, string) {
	t.Helper()
	a := apiCall{method: "POST", path: "/access/ticket", form: url.Values{"username": {user}, "password": {pw}}}.do(t, srv)
	if a.status != 200 {
		t.Fatalf("login %s: %d %s", user, a.status, a.reason)
	}
	d := a.data.(map[string]any)
	return d["ticket"].(string), d["CSRFPreventionToken"].(string)
}

func ticketHdr(tk, csrf string) map[string]string {
	return map[string]string{"Cookie": "PVEAuthCookie=" + tk, "CSRFPreventionToken": csrf}
}

var (
	ticketRE = regexp.MustCompile(`^PVE:[^:\s]+:[0-9A-F]{8}::[A-Za-z0-9+/]+=*$`)
	csrfRE   = regexp.MustCompile(`^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$`)
)

func TestLogin(t *testing.T) {
	f := newAuthFixture(t, true)
	srv := authServer(t, f.a, AccessAuthConfig{ClusterName: func() string { return "c1" }})
	aliceTk, _ := f.issue("alice@pve")
	rootTk, _ := f.issue("root@pam")
	const failed = "401 authentication failure"
	tests := []struct {
		name string
		c    apiCall
		want string // "200 <username>", or status and reason
		// checks on a 200 answer
		ticket, cluster bool
	}{
		{"root JSON", apiCall{json: `{"username":"root@pam","password":"root-pass-1"}`}, "200 root@pam", true, true},
		{"realm parameter", apiCall{form: url.Values{"username": {"alice"}, "realm": {"pve"}, "password": {"alice-pass-1"}}}, "200 alice@pve", true, true},
		{"new-format ignored", apiCall{json: `{"username":"erin@pve","password":"erin-pass-1","new-format":true}`}, "200 erin@pve", true, false},
		{"wrong password", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-2"}}}, failed, false, false},
		{"empty password", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {""}}}, failed, false, false},
		{"unknown user", apiCall{form: url.Values{"username": {"ghost@pve"}, "password": {"x"}}}, failed, false, false},
		{"no realm", apiCall{form: url.Values{"username": {"alice"}, "password": {"alice-pass-1"}}}, failed, false, false},
		{"unknown realm", apiCall{form: url.Values{"username": {"alice@ldap1"}, "password": {"alice-pass-1"}}}, failed, false, false},
		{"pve user in pam realm", apiCall{form: url.Values{"username": {"alice@pam"}, "password": {"alice-pass-1"}}}, failed, false, false},
		{"disabled user", apiCall{form: url.Values{"username": {"bob@pve"}, "password": {"bob-pass-1"}}}, failed, false, false},
		{"expired user", apiCall{form: url.Values{"username": {"carol@pve"}, "password": {"carol-pass-1"}}}, failed, false, false},
		{"user with a second factor", apiCall{form: url.Values{"username": {"dave@pve"}, "password": {"dave-pass-1"}}}, failed, false, false},
		{"tfa challenge", apiCall{form: url.Values{"username": {"erin@pve"}, "password": {"erin-pass-1"}, "tfa-challenge": {"x"}}}, failed, false, false},
		{"missing password", apiCall{form: url.Values{"username": {"alice@pve"}}}, "400 Parameter verification failed.", false, false},
		{"bad realm", apiCall{form: url.Values{"username": {"alice"}, "realm": {"1x"}, "password": {"p"}}}, "400 Parameter verification failed.", false, false},
		{"renew with own ticket", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {aliceTk}}}, "200 alice@pve", true, true},
		{"root's ticket for another user", apiCall{form: url.Values{"username": {"erin@pve"}, "password": {rootTk}}}, "200 erin@pve", true, false},
		{"someone else's ticket", apiCall{form: url.Values{"username": {"erin@pve"}, "password": {aliceTk}}}, failed, false, false},
		{"verify mode", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-1"}, "path": {"/vms/100"}, "privs": {"VM.Audit"}}}, "200 alice@pve", false, true},
		{"verify mode with ticket", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {aliceTk}, "path": {"/"}, "privs": {"Sys.Audit"}}}, "200 alice@pve", false, true},
		{"verify mode without privilege", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-1"}, "path": {"/"}, "privs": {"Sys.Modify"}}}, failed, false, false},
		{"path without privs", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-1"}, "path": {"/"}}}, "400 Parameter verification failed.", false, false},
		{"unknown privilege", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-1"}, "path": {"/"}, "privs": {"Sys.Nope"}}}, "400 Parameter verification failed.", false, false},
		{"API token", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-1"}}, hdr: map[string]string{"Authorization": "PVEAPIToken=alice@pve!ci=" + aliceSecret}},
			"403 Permission check failed (URI '/api2/json/access/ticket' not available with API token, need proper ticket.", false, false},
		{"stale cookie is ignored", apiCall{form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-1"}}, hdr: map[string]string{"Cookie": "PVEAuthCookie=PVE:old"}}, "200 alice@pve", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.method, tc.c.path = "POST", "/access/ticket"
			a := tc.c.do(t, srv)
			got := fmt.Sprintf("%d %s", a.status, a.reason)
			if a.status == 200 {
				d := a.data.(map[string]any)
				got = fmt.Sprintf("200 %v", d["username"])
				_, hasTicket := d["ticket"]
				if hasTicket != tc.ticket {
					t.Fatalf("ticket present = %v, want %v", hasTicket, tc.ticket)
				}
				if hasTicket {
					if tk := d["ticket"].(string); !ticketRE.MatchString(tk) || !strings.HasPrefix(tk, "PVE:"+d["username"].(string)+":") {
						t.Fatalf("ticket %q", tk)
					}
					if c := d["CSRFPreventionToken"].(string); !csrfRE.MatchString(c) {
						t.Fatalf("CSRF token %q", c)
					}
				}
				if _, ok := d["clustername"]; ok != tc.cluster {
					t.Fatalf("clustername present = %v, want %v", ok, tc.cluster)
				}
				capObj, ok := d["cap"].(map[string]any)
				if !ok || len(capObj) != 7 {
					t.Fatalf("cap %v", d["cap"])
				}
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q (%s)", got, tc.want, a.raw)
			}
			if a.status == 401 && a.raw != `{"data":null,"message":"authentication failure\n"}` {
				t.Fatalf("401 body %s", a.raw)
			}
		})
	}
}

func TestLoginCapIsInts(t *testing.T) {
	f := newAuthFixture(t, true)
	srv := authServer(t, f.a, AccessAuthConfig{})
	a := apiCall{method: "POST", path: "/access/ticket", json: `{"username":"alice@pve","password":"alice-pass-1"}`}.do(t, srv)
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.reason)
	}
	var out struct {
		Data struct {
			Cap map[string]map[string]int `json:"cap"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(a.raw), &out); err != nil {
		t.Fatalf("cap does not decode as ints: %v", err)
	}
	want := map[string]map[string]int{
		"access": {}, "dc": {"SDN.Audit": 1, "Sys.Audit": 1}, "mapping": {"Mapping.Audit": 1}, "nodes": {"Sys.Audit": 1},
		"sdn": {"SDN.Audit": 1}, "storage": {"Datastore.Audit": 1}, "vms": {"VM.Audit": 1, "VM.GuestAgent.Audit": 1},
	}
	if got, _ := json.Marshal(out.Data.Cap); string(got) != string(mustJSON(want)) {
		t.Fatalf("cap %s, want %s", got, mustJSON(want))
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestTicketSession(t *testing.T) {
	f := newAuthFixture(t, true)
	srv := authServer(t, f.a, AccessAuthConfig{})
	tk, csrf := login(t, srv, "alice@pve", "alice-pass-1")
	tests := []struct {
		name string
		c    apiCall
		want string
	}{
		{"no credentials", apiCall{method: "GET", path: "/version"}, "401 No ticket"},
		{"version", apiCall{method: "GET", path: "/version", hdr: map[string]string{"Cookie": "PVEAuthCookie=" + tk}}, "200"},
		{"ticket in Authorization", apiCall{method: "GET", path: "/access", hdr: map[string]string{"Authorization": "PVEAuthCookie=" + tk}}, "200"},
		{"token", apiCall{method: "GET", path: "/version", hdr: map[string]string{"Authorization": "PVEAPIToken=alice@pve!ci=" + aliceSecret}}, "200"},
		{"bad token", apiCall{method: "GET", path: "/version", hdr: map[string]string{"Authorization": "PVEAPIToken=alice@pve!ci=00000000-0000-0000-0000-000000000000"}}, "401 Authentication failed!"},
		{"POST with CSRF token", apiCall{method: "POST", path: "/test/whoami", hdr: ticketHdr(tk, csrf)}, "200"},
		{"POST without CSRF token", apiCall{method: "POST", path: "/test/whoami", hdr: map[string]string{"Cookie": "PVEAuthCookie=" + tk}}, "401 Permission denied - invalid csrf token"},
		{"bad ticket", apiCall{method: "GET", path: "/version", hdr: map[string]string{"Cookie": "PVEAuthCookie=PVE:alice@pve:00000000::AAAA"}}, "401 permission denied - invalid PVE ticket"},
		{"dummy GET ticket", apiCall{method: "GET", path: "/access/ticket"}, "200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.c.do(t, srv)
			got := fmt.Sprint(a.status)
			if a.status != 200 {
				got += " " + a.reason
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q (%s)", got, tc.want, a.raw)
			}
		})
	}
	v := apiCall{method: "GET", path: "/version", hdr: map[string]string{"Cookie": "PVEAuthCookie=" + tk}}.do(t, srv)
	d := v.data.(map[string]any)
	for _, k := range []string{"version", "release", "repoid"} {
		if s, ok := d[k].(string); !ok || s == "" {
			t.Fatalf("version %s = %#v", k, d[k])
		}
	}
	if !regexp.MustCompile(`^[0-9a-fA-F]{8,64}$`).MatchString(d["repoid"].(string)) {
		t.Fatalf("repoid %q", d["repoid"])
	}
	idx := apiCall{method: "GET", path: "/access", hdr: map[string]string{"Cookie": "PVEAuthCookie=" + tk}}.do(t, srv)
	if got := idx.raw; got != `{"data":[{"subdir":"users"},{"subdir":"groups"},{"subdir":"roles"},{"subdir":"acl"},{"subdir":"domains"},{"subdir":"openid"},{"subdir":"tfa"},{"subdir":"ticket"},{"subdir":"password"}]}` {
		t.Fatalf("index %s", got)
	}
	if w := (apiCall{method: "POST", path: "/test/whoami", hdr: ticketHdr(tk, csrf)}.do(t, srv)); w.data != "alice@pve" {
		t.Fatalf("whoami %v", w.data)
	}
	if g := (apiCall{method: "GET", path: "/access/ticket"}.do(t, srv)); g.raw != `{"data":null}` {
		t.Fatalf("GET /access/ticket %s", g.raw)
	}
}

// TestLoginCatchesUp: a user created through another node a moment ago can
// log in at once.
func TestLoginCatchesUp(t *testing.T) {
	f := newAuthFixture(t, true)
	lb := &lagBackend{LocalBackend: f.b}
	a := NewAuthService(lb, slog.New(slog.DiscardHandler))
	a.Now = f.a.Now
	srv := authServer(t, a, AccessAuthConfig{})
	cmd, err := cfs.NewCommand(mutate.OpUserCreate, mutate.UserCreate{Userid: "gina@pve", PasswordHash: shadow.Hash("gina-pass-1", "salt")})
	if err != nil {
		t.Fatal(err)
	}
	lb.pending = append(lb.pending, cmd)
	login(t, srv, "gina@pve", "gina-pass-1")
	if n := lb.reads.Load(); n != 1 {
		t.Fatalf("%d linearizable reads, want 1", n)
	}
}

func TestChangePassword(t *testing.T) {
	f := newAuthFixture(t, true)
	srv := authServer(t, f.a, AccessAuthConfig{})
	session := func(user, pw string) map[string]string { return ticketHdr(login(t, srv, user, pw)) }
	root := session("root@pam", "root-pass-1")
	alice := session("alice@pve", "alice-pass-1")
	erin := session("erin@pve", "erin-pass-1")
	admin := session("admin@pve", "admin-pass-1")
	token := map[string]string{"Authorization": "PVEAPIToken=alice@pve!ci=" + aliceSecret}
	tests := []struct {
		name   string
		hdr    map[string]string
		body   string
		want   string
		newPw  string // if set: user logs in with it afterwards
		user   string
		errKey string
	}{
		{"root sets alice's", root, `{"userid":"alice@pve","password":"alice-pass-2"}`, "200", "alice-pass-2", "alice@pve", ""},
		{"alice sets her own", alice, `{"userid":"alice@pve","password":"alice-pass-3","confirmation-password":"alice-pass-2"}`, "200", "alice-pass-3", "alice@pve", ""},
		{"own without confirmation", alice, `{"userid":"alice@pve","password":"alice-pass-4"}`, "400 Parameter verification failed.", "", "", "confirmation-password"},
		{"own with wrong confirmation", alice, `{"userid":"alice@pve","password":"alice-pass-4","confirmation-password":"wrong-pw"}`, "500 invalid credentials", "", "", ""},
		{"someone else's without rights", erin, `{"userid":"alice@pve","password":"alice-pass-4","confirmation-password":"erin-pass-1"}`, "403 Permission check failed", "", "", ""},
		{"root@pam by others", admin, `{"userid":"root@pam","password":"root-pass-9","confirmation-password":"admin-pass-1"}`, "403 Permission check failed", "", "", ""},
		{"user admin sets erin's", admin, `{"userid":"erin@pve","password":"erin-pass-2","confirmation-password":"admin-pass-1"}`, "200", "erin-pass-2", "erin@pve", ""},
		{"user admin and a pam user", admin, `{"userid":"sys@pam","password":"sys-pass-2","confirmation-password":"admin-pass-1"}`, "403 Permission check failed", "", "", ""},
		{"API token", token, `{"userid":"alice@pve","password":"alice-pass-4"}`, "403 Permission check failed (URI '/api2/json/access/password' not available with API token, need proper ticket.", "", "", ""},
		{"root sets root@pam", root, `{"userid":"root@pam","password":"root-pass-2"}`, "200", "root-pass-2", "root@pam", ""},
		{"root sets sys@pam", root, `{"userid":"sys@pam","password":"sys-pass-2"}`, "200", "sys-pass-2", "sys@pam", ""},
		{"unknown user", root, `{"userid":"ghost@pve","password":"ghost-pass-1"}`, "500 no such user ('ghost@pve')", "", "", ""},
		{"too short", root, `{"userid":"alice@pve","password":"short"}`, "400 Parameter verification failed.", "", "", "password"},
		{"bad userid", root, `{"userid":"alice","password":"alice-pass-5"}`, "400 Parameter verification failed.", "", "", "userid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := apiCall{method: "PUT", path: "/access/password", json: tc.body, hdr: tc.hdr}.do(t, srv)
			got := fmt.Sprint(a.status)
			if a.status != 200 {
				got += " " + a.reason
			} else if a.raw != `{"data":null}` {
				t.Fatalf("body %s", a.raw)
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got %q, want %q (%s)", got, tc.want, a.raw)
			}
			if tc.errKey != "" && a.errors[tc.errKey] == "" {
				t.Fatalf("no error for %s: %s", tc.errKey, a.raw)
			}
			if tc.newPw != "" {
				login(t, srv, tc.user, tc.newPw)
			}
		})
	}
	// The old password no longer works; the stored form is a $5$ hash.
	if a := (apiCall{method: "POST", path: "/access/ticket", form: url.Values{"username": {"alice@pve"}, "password": {"alice-pass-1"}}}.do(t, srv)); a.status != 401 {
		t.Fatalf("old password: %d", a.status)
	}
	e, _ := f.b.Tree().Get(shadow.Path)
	if s := string(e.Bytes()); !strings.Contains(s, "alice:$5$") || strings.Contains(s, "alice-pass-3") {
		t.Fatalf("shadow.cfg %q", s)
	}
}

// BenchmarkAuthenticate measures the authentication of one request on a
// configuration of 10,000 users with 20,000 tokens.
func BenchmarkAuthenticate(b *testing.B) {
	f := newAuthFixture(b, true)
	var uc strings.Builder
	uc.WriteString("user:root@pam:1:0::::::\n")
	ts := tokens.New()
	var err error
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&uc, "user:u%05d@pve:1:0::::::\ntoken:u%05d@pve!ta:0:0::\ntoken:u%05d@pve!tb:0:1::\n", i, i, i)
		for _, t := range []string{"ta", "tb"} {
			if ts, err = ts.With(fmt.Sprintf("u%05d@pve!%s", i, t), tokens.HashSecret(fmt.Sprintf("%05d%s-secret", i, t))); err != nil {
				b.Fatal(err)
			}
		}
	}
	f.put("user.cfg", uc.String(), authBase-7200, false)
	// token.cfg with 20,000 hashes exceeds the raw 1 MiB write limit; store
	// the model as the access commands do.
	h := f.b.Tree().Handlers()
	if err := h.Register("bench.put-tokens", func(tx *cfs.Txn, _ json.RawMessage) (any, error) { return nil, tx.PutModel(tokens.Path, ts) }); err != nil {
		b.Fatal(err)
	}
	cmd, _ := cfs.NewCommand("bench.put-tokens", nil)
	if res, err := f.b.Apply(context.Background(), cmd); err != nil || res.Err != nil {
		b.Fatal(err, res.Err)
	}
	if n := f.a.tokenStore().Len(); n != 20000 {
		b.Fatalf("%d tokens", n)
	}
	tk, csrf := f.issue("u04242@pve")
	cases := []struct {
		name string
		hdr  map[string]string
		ok   bool
	}{
		{"token", map[string]string{"Authorization": "PVEAPIToken=u04242@pve!tb=04242tb-secret"}, true},
		{"ticket", map[string]string{"Cookie": "PVEAuthCookie=" + tk, "CSRFPreventionToken": csrf}, true},
		{"token-wrong-secret", map[string]string{"Authorization": "PVEAPIToken=u04242@pve!tb=wrong"}, false},
	}
	f.a.log = slog.New(slog.DiscardHandler)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := authReq("POST", "/x", c.hdr)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				id, err := f.a.Authenticate(ctx, r)
				if (err == nil && id != nil) != c.ok {
					b.Fatal(id, err)
				}
			}
		})
	}
}
