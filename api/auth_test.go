package api

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/ticket"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// authBase is the fixtures' "now" (2026-01-01 00:00:00 UTC).
const authBase = int64(1767225600)

// Key material shared by all tests (RSA generation is slow).
var (
	keysOnce             sync.Once
	privPEM, pubPEM      []byte
	priv2PEM, pub2PEM    []byte
	wwwPEM               []byte
	errKeys              error
	testPasswordHashSalt = "testsalt"
)

func testKeyMaterial(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		if privPEM, pubPEM, errKeys = ticket.GenerateKeyPair(); errKeys != nil {
			return
		}
		if priv2PEM, pub2PEM, errKeys = ticket.GenerateKeyPair(); errKeys != nil {
			return
		}
		wwwPEM, errKeys = ticket.GenerateWWWKey()
	})
	if errKeys != nil {
		t.Fatal(errKeys)
	}
}

const (
	aliceSecret = "5f3c0e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	oldSecret   = "22222222-2222-4222-8222-222222222222"
	bobSecret   = "33333333-3333-4333-8333-333333333333"
	carolSecret = "44444444-4444-4444-8444-444444444444"
)

// testUserCfg: alice (enabled, tokens ci and expired "old", PVEAuditor on
// /), bob (disabled), carol (expired), dave (TFA keys), erin (plain), admin
// (PVEUserAdmin on /), sys@pam (a second pam user).
var testUserCfg = fmt.Sprintf(`user:root@pam:1:0::::::
user:alice@pve:1:0::::::
token:alice@pve!ci:0:0::
token:alice@pve!old:%d:0::
user:bob@pve:0:0::::::
token:bob@pve!tk:0:0::
user:carol@pve:1:%d::::::
token:carol@pve!tk:0:0::
user:dave@pve:1:0:::::x:
user:erin@pve:1:0::::::
user:admin@pve:1:0::::::
user:sys@pam:1:0::::::
acl:1:/:admin@pve:PVEUserAdmin:
acl:1:/:alice@pve:PVEAuditor:
`, authBase-10, authBase-10)

func newAuthTestTree(t testing.TB) *cfs.Tree {
	t.Helper()
	reg := cfs.NewRegistry()
	for _, f := range []cfs.Format{usercfg.Format(), tokens.Format(), domains.Format(), shadow.Format(), mutate.PAMShadowFormat()} {
		if err := reg.Register(f); err != nil {
			t.Fatal(err)
		}
	}
	h := cfs.NewHandlers()
	if err := mutate.Register(h); err != nil {
		t.Fatal(err)
	}
	return cfs.NewTree(reg, h)
}

// fixture is an AuthService over a LocalBackend with a settable clock.
type authFixture struct {
	t     testing.TB
	b     *LocalBackend
	a     *AuthService
	clock atomic.Int64
	logs  *syncBuffer
}

// syncBuffer collects log output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns and clears what was logged.
func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// newAuthFixture makes the tree: users, tokens, passwords and (withKeys) the
// key files, made an hour before authBase.
func newAuthFixture(t testing.TB, withKeys bool) *authFixture {
	t.Helper()
	testKeyMaterial(t)
	f := &authFixture{t: t, b: NewLocalBackend("n1", newAuthTestTree(t)), logs: &syncBuffer{}}
	f.clock.Store(authBase)
	f.a = NewAuthService(f.b, slog.New(slog.NewTextHandler(f.logs, nil)))
	f.a.Now = func() time.Time { return time.Unix(f.clock.Load(), 0) }
	hash := func(pw string) string { return shadow.Hash(pw, testPasswordHashSalt) }
	f.put("priv", "", authBase-7200, true)
	f.put("user.cfg", testUserCfg, authBase-7200, false)
	f.put("domains.cfg", "pam: pam\n\tcomment Linux PAM standard authentication\n\npve: pve\n\tcomment Proxmox VE authentication server\n\n", authBase-7200, false)
	f.put(tokens.Path, fmt.Sprintf("alice@pve!ci %s\nalice@pve!old %s\nbob@pve!tk %s\ncarol@pve!tk %s\n", aliceSecret, oldSecret, bobSecret, carolSecret), authBase-7200, false)
	f.put(shadow.Path, fmt.Sprintf("alice:%s:\nbob:%s:\ncarol:%s:\ndave:%s:\nerin:%s:\nadmin:%s:\n",
		hash("alice-pass-1"), hash("bob-pass-1"), hash("carol-pass-1"), hash("dave-pass-1"), hash("erin-pass-1"), hash("admin-pass-1")), authBase-7200, false)
	f.put(mutate.PAMShadowPath, "root:"+hash("root-pass-1")+":\nsys:"+hash("sys-pass-1")+":\n", authBase-7200, false)
	if withKeys {
		f.put(ticket.PubKeyPath, string(pubPEM), authBase-3600, false)
		f.put(ticket.PrivKeyPath, string(privPEM), authBase-3600, false)
		f.put(ticket.WWWKeyPath, string(wwwPEM), authBase-7200, false)
	}
	return f
}

// put writes a file (or, with dir, makes a directory) stamped at time at.
func (f *authFixture) put(path, data string, at int64, dir bool) {
	f.t.Helper()
	var cmd *cfs.Command
	var err error
	if dir {
		cmd, err = cfs.NewCommand(cfs.OpMkdir, cfs.PathRequest{Path: path, Parents: true})
	} else {
		cmd, err = cfs.NewCommand(cfs.OpWrite, cfs.WriteRequest{Path: path, Data: []byte(data), Parents: true})
	}
	if err != nil {
		f.t.Fatal(err)
	}
	cmd.Time = at
	res, err := f.b.Apply(context.Background(), cmd)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := res.Error(); err != nil {
		f.t.Fatalf("write %s: %v", path, err)
	}
}

// issue makes a ticket and CSRF token for user at the fixture's clock.
func (f *authFixture) issue(user string) (string, string) {
	f.t.Helper()
	tk, csrf, err := f.a.IssueTicket(context.Background(), user)
	if err != nil {
		f.t.Fatal(err)
	}
	return tk, csrf
}

func authReq(method, path string, hdr map[string]string) *http.Request {
	r := httptest.NewRequest(method, Prefix+path, nil)
	for k, v := range hdr {
		r.Header.Add(k, v)
	}
	return r
}

// authResult is Authenticate's outcome in comparable form.
func authResult(id *Identity, err error) string {
	if err != nil {
		e, ok := err.(*Error)
		if !ok {
			return "error " + err.Error()
		}
		return fmt.Sprintf("%d %s", e.Status, strings.TrimSuffix(e.Message, "\n"))
	}
	if id == nil {
		return "anonymous"
	}
	return fmt.Sprintf("%s token=%v ticket=%v", id.Authid, id.IsToken, id.Ticket)
}

func TestAuthenticateTicket(t *testing.T) {
	f := newAuthFixture(t, true)
	tk, csrf := f.issue("alice@pve")
	_, erinCSRF := f.issue("erin@pve")
	staleCSRF := ticket.CSRFToken(ticket.CSRFSecret(wwwPEM), "alice@pve", authBase-7200)
	early, err := ticket.Create(authPriv(t), "alice@pve", authBase-7200)
	if err != nil {
		t.Fatal(err)
	}
	bobTk, err := ticket.Create(authPriv(t), "bob@pve", authBase)
	if err != nil {
		t.Fatal(err)
	}
	ghostTk, _ := ticket.Create(authPriv(t), "ghost@pve", authBase)
	cookie := func(v string) map[string]string { return map[string]string{"Cookie": "PVEAuthCookie=" + v} }
	tests := []struct {
		name    string
		r       *http.Request
		advance int64
		want    string
	}{
		{"cookie GET", authReq("GET", "/version", cookie(tk)), 0, "alice@pve token=false ticket=true"},
		{"cookie among others", authReq("GET", "/version", map[string]string{"Cookie": "a=b; PVEAuthCookie=" + tk + "; c=d"}), 0, "alice@pve token=false ticket=true"},
		{"escaped cookie", authReq("GET", "/version", cookie(url.QueryEscape(tk))), 0, "alice@pve token=false ticket=true"},
		{"cookie name is a suffix", authReq("GET", "/version", map[string]string{"Cookie": "XPVEAuthCookie=" + tk}), 0, "anonymous"},
		{"Authorization header", authReq("GET", "/version", map[string]string{"Authorization": "PVEAuthCookie=" + tk}), 0, "alice@pve token=false ticket=true"},
		{"GET needs no CSRF token", authReq("GET", "/version", cookie(tk)), 0, "alice@pve token=false ticket=true"},
		{"POST without CSRF token", authReq("POST", "/x", cookie(tk)), 0, "401 Permission denied - invalid csrf token"},
		{"POST with CSRF token", authReq("POST", "/x", map[string]string{"Cookie": "PVEAuthCookie=" + tk, "CSRFPreventionToken": csrf}), 0, "alice@pve token=false ticket=true"},
		{"DELETE with another user's CSRF token", authReq("DELETE", "/x", map[string]string{"Cookie": "PVEAuthCookie=" + tk, "CSRFPreventionToken": erinCSRF}), 0, "401 Permission denied - invalid csrf token"},
		{"CSRF token expired", authReq("PUT", "/x", map[string]string{"Cookie": "PVEAuthCookie=" + tk, "CSRFPreventionToken": staleCSRF}), 0, "401 Permission denied - invalid csrf token"},
		{"one hour later", authReq("GET", "/version", cookie(tk)), 3600, "alice@pve token=false ticket=true"},
		{"expired", authReq("GET", "/version", cookie(tk)), 7200, "401 permission denied - invalid PVE ticket"},
		{"garbage", authReq("GET", "/version", cookie("PVE:nonsense")), 0, "401 permission denied - invalid PVE ticket"},
		{"older than the key", authReq("GET", "/version", cookie(early)), 0, "401 permission denied - invalid PVE ticket"},
		{"disabled user", authReq("GET", "/version", cookie(bobTk)), 0, "401 Authentication failed!"},
		{"unknown user", authReq("GET", "/version", cookie(ghostTk)), 0, "401 Authentication failed!"},
		{"no credentials", authReq("GET", "/version", nil), 0, "anonymous"},
		{"login call is not authenticated", authReq("POST", "/access/ticket", cookie("PVE:garbage")), 0, "anonymous"},
		{"domains call is not authenticated", authReq("GET", "/access/domains", cookie("PVE:garbage")), 0, "anonymous"},
		{"ticket wins over token", authReq("GET", "/version", map[string]string{"Cookie": "PVEAuthCookie=" + tk, "Authorization": "PVEAPIToken=alice@pve!ci=" + aliceSecret}), 0, "alice@pve token=false ticket=true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Store(authBase + tc.advance)
			defer f.clock.Store(authBase)
			got := authResult(f.a.Authenticate(context.Background(), tc.r))
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func authPriv(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := ticket.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAuthenticateToken(t *testing.T) {
	f := newAuthFixture(t, true)
	hdr := func(v string) map[string]string { return map[string]string{"Authorization": v} }
	const ok = "alice@pve!ci token=true ticket=false"
	const fail = "401 Authentication failed!"
	tests := []struct {
		name, method, hdr, want, reason string
	}{
		{"PVE form", "GET", "PVEAPIToken=alice@pve!ci=" + aliceSecret, ok, ""},
		{"space after keyword", "GET", "PVEAPIToken alice@pve!ci=" + aliceSecret, ok, ""},
		{"PBS separator", "GET", "PVEAPIToken=alice@pve!ci:" + aliceSecret, ok, ""},
		{"escaped", "GET", "PVEAPIToken=alice%40pve%21ci=" + aliceSecret, ok, ""},
		{"after another scheme", "GET", "Basic x, PVEAPIToken=alice@pve!ci=" + aliceSecret, ok, ""},
		{"no CSRF token for POST", "POST", "PVEAPIToken=alice@pve!ci=" + aliceSecret, ok, ""},
		{"wrong secret", "GET", "PVEAPIToken=alice@pve!ci=" + oldSecret, fail, "invalid token value!"},
		{"upper-case secret", "GET", "PVEAPIToken=alice@pve!ci=" + strings.ToUpper(aliceSecret), fail, "invalid token value!"},
		{"empty secret", "GET", "PVEAPIToken=alice@pve!ci=", fail, "invalid token value!"},
		{"expired token", "GET", "PVEAPIToken=alice@pve!old=" + oldSecret, fail, "token 'old' access expired"},
		{"disabled owner", "GET", "PVEAPIToken=bob@pve!tk=" + bobSecret, fail, "user 'bob@pve' is disabled"},
		{"expired owner", "GET", "PVEAPIToken=carol@pve!tk=" + carolSecret, fail, "user 'carol@pve' access expired"},
		{"unknown token", "GET", "PVEAPIToken=alice@pve!nope=" + aliceSecret, fail, "no such token 'nope' for user 'alice@pve'"},
		{"unknown owner", "GET", "PVEAPIToken=ghost@pve!ci=" + aliceSecret, fail, "no such user ('ghost@pve')"},
		{"no separator", "GET", "PVEAPIToken=alice@pve!ci", fail, "no tokenid specified"},
		{"not a token id", "GET", "PVEAPIToken=alice@pve=" + aliceSecret, fail, "not a valid token ID"},
		{"other scheme", "GET", "Bearer abc", "anonymous", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.logs.take()
			got := authResult(f.a.Authenticate(context.Background(), authReq(tc.method, "/version", hdr(tc.hdr))))
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if logs := f.logs.take(); !strings.Contains(logs, tc.reason) {
				t.Fatalf("logged %q, want the reason %q", logs, tc.reason)
			}
		})
	}
	// The secret never reaches the log.
	f.a.Authenticate(context.Background(), authReq("GET", "/version", hdr("PVEAPIToken=alice@pve!ci=not-"+aliceSecret)))
	if logs := f.logs.take(); strings.Contains(logs, aliceSecret) {
		t.Fatalf("secret logged: %s", logs)
	}
}

// lagBackend is a node that has not yet applied some writes acknowledged
// elsewhere: they are applied when a linearizable read is asked for.
type lagBackend struct {
	*LocalBackend
	mu      sync.Mutex
	pending []*cfs.Command
	reads   atomic.Int32
	block   chan struct{} // if set, each read waits for a receive
}

func (b *lagBackend) LinearizableRead(ctx context.Context) error {
	b.reads.Add(1)
	if b.block != nil {
		select {
		case <-b.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.mu.Lock()
	p := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, cmd := range p {
		res, err := b.LocalBackend.Apply(ctx, cmd)
		if err != nil {
			return err
		}
		if err := res.Error(); err != nil {
			return err
		}
	}
	return nil
}

func TestAuthMissCatchesUp(t *testing.T) {
	f := newAuthFixture(t, true)
	lb := &lagBackend{LocalBackend: f.b}
	a := NewAuthService(lb, slog.New(slog.DiscardHandler))
	a.Now = f.a.Now
	// A token created a moment ago through another node.
	const secret = "55555555-5555-4555-8555-555555555555"
	cmd, err := cfs.NewCommand(mutate.OpTokenCreate, mutate.TokenCreate{Userid: "erin@pve", Tokenid: "fresh", Hash: tokens.HashSecret(secret)})
	if err != nil {
		t.Fatal(err)
	}
	lb.pending = append(lb.pending, cmd)
	hdr := map[string]string{"Authorization": "PVEAPIToken=erin@pve!fresh=" + secret}
	if got := authResult(a.Authenticate(context.Background(), authReq("GET", "/version", hdr))); got != "erin@pve!fresh token=true ticket=false" {
		t.Fatalf("fresh token: %q", got)
	}
	if n := lb.reads.Load(); n != 1 {
		t.Fatalf("%d linearizable reads, want 1", n)
	}
	// A hit needs no read; a miss reads once and still fails; a malformed
	// header is refused without one.
	if got := authResult(a.Authenticate(context.Background(), authReq("GET", "/version", hdr))); !strings.HasPrefix(got, "erin@pve!fresh") {
		t.Fatalf("second use: %q", got)
	}
	hdr["Authorization"] = "PVEAPIToken=erin@pve!fresh=" + aliceSecret
	if got := authResult(a.Authenticate(context.Background(), authReq("GET", "/version", hdr))); got != "401 Authentication failed!" {
		t.Fatalf("wrong secret: %q", got)
	}
	hdr["Authorization"] = "PVEAPIToken=garbage"
	_, _ = a.Authenticate(context.Background(), authReq("GET", "/version", hdr))
	if n := lb.reads.Load(); n != 2 {
		t.Fatalf("%d linearizable reads, want 2", n)
	}
	// A user created elsewhere with a ticket signed there (same keys).
	ucmd, err := cfs.NewCommand(mutate.OpUserCreate, mutate.UserCreate{Userid: "frank@pve", Enable: authBoolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	lb.pending = append(lb.pending, ucmd)
	tk, err := ticket.Create(authPriv(t), "frank@pve", authBase)
	if err != nil {
		t.Fatal(err)
	}
	if got := authResult(a.Authenticate(context.Background(), authReq("GET", "/version", map[string]string{"Cookie": "PVEAuthCookie=" + tk}))); got != "frank@pve token=false ticket=true" {
		t.Fatalf("fresh user: %q", got)
	}
}

func authBoolPtr(b bool) *bool { return &b }

// TestReadBarrier: concurrent misses share reads, and a caller never gets a
// read that started before it asked.
func TestReadBarrier(t *testing.T) {
	lb := &lagBackend{LocalBackend: NewLocalBackend("n1", newAuthTestTree(t)), block: make(chan struct{})}
	var g readBarrier
	first := make(chan error, 1)
	go func() { first <- g.wait(context.Background(), lb) }()
	for lb.reads.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	// 20 callers arrive while the first read is in flight.
	var wg sync.WaitGroup
	var done atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.wait(context.Background(), lb); err != nil {
				t.Error(err)
			}
			done.Add(1)
		}()
	}
	time.Sleep(20 * time.Millisecond)
	lb.block <- struct{}{} // finish the first read
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if n := done.Load(); n != 0 {
		t.Fatalf("%d callers returned on a read that started before they asked", n)
	}
	lb.block <- struct{}{} // the one shared second read
	wg.Wait()
	if n := lb.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2", n)
	}
	// A canceled caller returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	go func() { lb.block <- struct{}{} }()
	if err := g.wait(ctx, lb); err == nil {
		t.Fatal("canceled wait returned nil")
	}
}

// TestKeyRotation: a day-old key is rotated at the next ticket; tickets of
// the old key stay valid; a missing key and www key are created.
func TestKeyRotation(t *testing.T) {
	f := newAuthFixture(t, true)
	oldTk, _ := f.issue("alice@pve")
	pubBefore, _ := f.b.Tree().Get(ticket.PubKeyPath)
	f.clock.Store(authBase - 3600 + ticket.KeyLifetime)
	oldTk2, _ := f.issue("alice@pve")
	pubAfter, _ := f.b.Tree().Get(ticket.PubKeyPath)
	if pubAfter == pubBefore || string(pubAfter.Bytes()) == string(pubBefore.Bytes()) {
		t.Fatal("key not rotated")
	}
	if pubAfter.Mtime != authBase-3600+ticket.KeyLifetime {
		t.Fatalf("new key mtime %d", pubAfter.Mtime)
	}
	old, ok := f.b.Tree().Get(ticket.OldPubKeyPath)
	if !ok || string(old.Bytes()) != string(pubBefore.Bytes()) {
		t.Fatal("authkey.pub.old is not the previous key")
	}
	// Issued before the rotation (more than a ticket lifetime ago): expired.
	if _, err := f.a.VerifyTicket(oldTk); err == nil {
		t.Fatal("day-old ticket accepted")
	}
	// A ticket made with the old key just before rotation stays valid.
	f.clock.Store(authBase - 3600 + ticket.KeyLifetime - 60)
	pre, err := ticket.Create(authPriv(t), "alice@pve", f.clock.Load())
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Store(authBase - 3600 + ticket.KeyLifetime + 1800)
	if u, err := f.a.VerifyTicket(pre); err != nil || u != "alice@pve" {
		t.Fatalf("pre-rotation ticket: %q %v", u, err)
	}
	if u, err := f.a.VerifyTicket(oldTk2); err != nil || u != "alice@pve" {
		t.Fatalf("post-rotation ticket: %q %v", u, err)
	}
	// No second rotation while the key is fresh.
	f.issue("alice@pve")
	if e, _ := f.b.Tree().Get(ticket.PubKeyPath); e != pubAfter {
		t.Fatal("fresh key rotated again")
	}

	// A tree without keys gets them with the first ticket.
	g := newAuthFixture(t, false)
	tk, csrf := g.issue("root@pam")
	for _, p := range []string{ticket.PubKeyPath, ticket.PrivKeyPath, ticket.WWWKeyPath} {
		if e, ok := g.b.Tree().Get(p); !ok || e.IsDir() || e.Size() == 0 {
			t.Fatalf("%s not created", p)
		}
	}
	r := authReq("POST", "/x", map[string]string{"Cookie": "PVEAuthCookie=" + tk, "CSRFPreventionToken": csrf})
	if got := authResult(g.a.Authenticate(context.Background(), r)); got != "root@pam token=false ticket=true" {
		t.Fatalf("ticket from generated key: %q", got)
	}
	// Without quorum an overdue key is kept and still signs.
	g.a.Quorate = func() bool { return false }
	g.clock.Store(authBase + 3*ticket.KeyLifetime)
	pub, _ := g.b.Tree().Get(ticket.PubKeyPath)
	g.issue("root@pam")
	if e, _ := g.b.Tree().Get(ticket.PubKeyPath); e != pub {
		t.Fatal("rotated without quorum")
	}
}

// TestConcurrentRotation: two services (two nodes) rotating the same key
// at once end with one key pair that both use.
func TestConcurrentRotation(t *testing.T) {
	f := newAuthFixture(t, true)
	f.clock.Store(authBase + 2*ticket.KeyLifetime)
	a2 := NewAuthService(f.b, slog.New(slog.DiscardHandler))
	a2.Now = f.a.Now
	var wg sync.WaitGroup
	tks := make([]string, 2)
	for i, a := range []*AuthService{f.a, a2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, _, err := a.IssueTicket(context.Background(), "alice@pve")
			if err != nil {
				t.Error(err)
			}
			tks[i] = tk
		}()
	}
	wg.Wait()
	for i, tk := range tks {
		for j, a := range []*AuthService{f.a, a2} {
			if _, err := a.VerifyTicket(tk); err != nil {
				t.Fatalf("ticket %d rejected by node %d: %v", i, j, err)
			}
		}
	}
}
