package api

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/perm"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/ticket"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// Names of the credentials on the wire (pve-http-server).
const (
	// AuthCookieName is the ticket cookie (also accepted in the
	// Authorization header as "PVEAuthCookie=<ticket>").
	AuthCookieName = "PVEAuthCookie"
	// APITokenName is the keyword of the API token Authorization header.
	APITokenName = "PVEAPIToken"
	// CSRFHeaderName carries the CSRF prevention token of ticket requests.
	CSRFHeaderName = "CSRFPreventionToken"
)

// DefaultPamShadowPath holds the password hashes of the pam realm (pvecfs
// has no PAM; the daemon stores root@pam's password there).
const DefaultPamShadowPath = "priv/pam-shadow.cfg"

// Reason phrases of authentication failures (pve-http-server answers a
// failed auth_handler with 401 and the error text as reason phrase).
const (
	msgInvalidTicket = "permission denied - invalid PVE ticket\n"
	msgAuthFailed    = "Authentication failed!\n"
	msgInvalidCSRF   = "Permission denied - invalid csrf token\n"
)

// barrierTimeout bounds one coalesced linearizable read of an
// authentication miss.
const barrierTimeout = 5 * time.Second

// verifiedCacheMax bounds the cache of tickets whose signature verified.
const verifiedCacheMax = 8192

// AuthService authenticates REST requests (it is the server's
// Authenticator) and issues tickets. It reads user.cfg, priv/token.cfg and
// the key files from the backend's tree and keeps their parsed form per
// file version (entry), so a token check is a few map look-ups and one
// SHA-256, and a ticket check a map look-up once its signature has been
// verified. An authentication miss waits for the node to catch up with the
// leader (Backend.LinearizableRead, coalesced across requests) and decides
// again, so credentials created a moment ago through another node work.
type AuthService struct {
	b   Backend
	log *slog.Logger

	// Now is the clock (nil: time.Now); tests inject one.
	Now func() time.Time
	// Quorate reports whether the node has quorum (nil: always). Without
	// quorum keys are not rotated and overdue keys stay valid, as in PVE.
	Quorate func() bool
	// PamShadowPath is the shadow file of the pam realm ("" = DefaultPamShadowPath).
	PamShadowPath string

	users   vcache[*cfs.Entry, *userState]
	tokens  vcache[*cfs.Entry, *tokens.Store]
	keys    vcache[[3]*cfs.Entry, *keyState]
	csrf    vcache[*cfs.Entry, string]
	barrier readBarrier
	rotMu   sync.Mutex
}

// NewAuthService returns the authentication service of a node.
func NewAuthService(b Backend, log *slog.Logger) *AuthService {
	if log == nil {
		log = slog.Default()
	}
	return &AuthService{b: b, log: log.With("component", "auth")}
}

var _ Authenticator = (*AuthService)(nil)

func (a *AuthService) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *AuthService) quorate() bool { return a.Quorate == nil || a.Quorate() }

func (a *AuthService) pamShadowPath() string {
	if a.PamShadowPath != "" {
		return a.PamShadowPath
	}
	return DefaultPamShadowPath
}

// vcache holds one value derived from tree entries, rebuilt when the
// entries change. Entries are immutable and every change makes a new one,
// so pointer identity is an exact version check (even across a tree
// restore, where version numbers could repeat).
type vcache[K comparable, V any] struct {
	p atomic.Pointer[vsnap[K, V]]
}

type vsnap[K comparable, V any] struct {
	key K
	val V
}

func (c *vcache[K, V]) get(key K, build func() V) V {
	if s := c.p.Load(); s != nil && s.key == key {
		return s.val
	}
	v := build()
	c.p.Store(&vsnap[K, V]{key: key, val: v})
	return v
}

// entry returns the tree entry at p, nil if absent (or a directory).
func (a *AuthService) entry(p string) *cfs.Entry {
	e, ok := a.b.Tree().Get(p)
	if !ok || e.IsDir() {
		return nil
	}
	return e
}

// userState is user.cfg of one version with its compiled permissions.
type userState struct {
	cfg  *usercfg.Config
	once sync.Once
	eng  *perm.Engine
}

func (s *userState) engine() *perm.Engine {
	s.once.Do(func() { s.eng = perm.Compile(s.cfg) })
	return s.eng
}

func (a *AuthService) userState() *userState {
	e := a.entry(usercfg.Format().Path)
	return a.users.get(e, func() *userState {
		if e != nil {
			if c, ok := e.Model().(*usercfg.Config); ok && c != nil {
				return &userState{cfg: c}
			}
			c, _ := usercfg.Parse(e.Bytes())
			return &userState{cfg: c}
		}
		c, _ := usercfg.Parse(nil)
		return &userState{cfg: c}
	})
}

// UserAccess returns the local user.cfg and a function returning its
// engine (compiled once per version, on first use), both of one version.
func (a *AuthService) UserAccess() (*usercfg.Config, func() *perm.Engine) {
	st := a.userState()
	return st.cfg, st.engine
}

// UserConfig returns the parsed user.cfg of the local tree.
func (a *AuthService) UserConfig() *usercfg.Config { return a.userState().cfg }

// Engine returns the permission engine compiled from the local user.cfg
// (once per version, shared by all requests).
func (a *AuthService) Engine() *perm.Engine { return a.userState().engine() }

func (a *AuthService) tokenStore() *tokens.Store {
	e := a.entry(tokens.Path)
	return a.tokens.get(e, func() *tokens.Store {
		if e == nil {
			return tokens.New()
		}
		if s, ok := e.Model().(*tokens.Store); ok && s != nil {
			return s
		}
		s, _ := tokens.Parse(e.Bytes())
		return s
	})
}

// keyState is the ticket key material of one version of the key files.
type keyState struct {
	keys     ticket.Keys
	priv     *rsa.PrivateKey
	pubEntry *cfs.Entry

	mu       sync.Mutex
	verified map[string]verifiedTicket
}

// verifiedTicket is a ticket whose signature verified with these keys.
type verifiedTicket struct {
	user string
	time int64
	mask ticket.KeyMask
}

func (a *AuthService) keyState() *keyState {
	pub, old, priv := a.entry(ticket.PubKeyPath), a.entry(ticket.OldPubKeyPath), a.entry(ticket.PrivKeyPath)
	return a.keys.get([3]*cfs.Entry{pub, old, priv}, func() *keyState {
		ks := &keyState{pubEntry: pub, verified: make(map[string]verifiedTicket)}
		if pub != nil {
			if k, err := ticket.ParsePublicKey(pub.Bytes()); err == nil {
				ks.keys.Current, ks.keys.CurrentMtime = k, pub.Mtime
			} else {
				a.log.Warn("unusable auth key", "path", ticket.PubKeyPath, "err", err)
			}
		}
		if old != nil {
			if k, err := ticket.ParsePublicKey(old.Bytes()); err == nil {
				ks.keys.Old, ks.keys.OldMtime = k, old.Mtime
			} else {
				a.log.Warn("unusable auth key", "path", ticket.OldPubKeyPath, "err", err)
			}
		}
		if priv != nil {
			if k, err := ticket.ParsePrivateKey(priv.Bytes()); err == nil {
				ks.priv = k
			} else {
				a.log.Warn("unusable auth key", "path", ticket.PrivKeyPath, "err", err)
			}
		}
		return ks
	})
}

// usable reports whether the private key signs for the current public key.
func (ks *keyState) usable() bool {
	return ks.priv != nil && ks.keys.Current != nil && ks.priv.PublicKey.Equal(ks.keys.Current)
}

// verify checks a user ticket. sigMiss is true when it is well formed but no
// local key verifies its signature (the key may be newer elsewhere).
func (ks *keyState) verify(s string, now int64, quorate bool) (user string, sigMiss bool, err error) {
	ks.mu.Lock()
	v, ok := ks.verified[s]
	ks.mu.Unlock()
	if !ok {
		t, err := ticket.Parse(s, ticket.Prefix)
		if err != nil {
			return "", false, err
		}
		m := ks.keys.SignedBy(t, "")
		if m == 0 {
			return "", true, ticket.ErrInvalid
		}
		u, err := ticket.UserOf(t.Data)
		if err != nil {
			return "", false, err
		}
		v = verifiedTicket{user: u, time: t.Time, mask: m}
		ks.mu.Lock()
		if len(ks.verified) >= verifiedCacheMax {
			clear(ks.verified)
		}
		ks.verified[s] = v
		ks.mu.Unlock()
	}
	if _, ok := ks.keys.InWindow(&ticket.Ticket{Time: v.time}, v.mask, now, quorate); !ok {
		return "", false, ticket.ErrInvalid
	}
	return v.user, false, nil
}

// csrfSecret returns the CSRF secret, false when pve-www.key is missing.
func (a *AuthService) csrfSecret() (string, bool) {
	e := a.entry(ticket.WWWKeyPath)
	s := a.csrf.get(e, func() string {
		if e == nil {
			return ""
		}
		return ticket.CSRFSecret(e.Bytes())
	})
	return s, s != ""
}

// readBarrier coalesces linearizable reads: a caller waits for a read that
// started after it asked, sharing it with everyone who asked meanwhile.
type readBarrier struct {
	mu      sync.Mutex
	running bool
	next    *barrierCall
}

type barrierCall struct {
	done chan struct{}
	err  error
}

func (g *readBarrier) wait(ctx context.Context, b Backend) error {
	g.mu.Lock()
	if g.next == nil {
		g.next = &barrierCall{done: make(chan struct{})}
	}
	c := g.next
	if !g.running {
		g.running = true
		g.next = nil
		go g.run(b, c)
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *readBarrier) run(b Backend, c *barrierCall) {
	for c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), barrierTimeout)
		c.err = b.LinearizableRead(ctx)
		cancel()
		close(c.done)
		g.mu.Lock()
		c, g.next = g.next, nil
		if c == nil {
			g.running = false
		}
		g.mu.Unlock()
	}
}

// CatchUp waits until the local tree reflects every write acknowledged
// anywhere before the call (coalesced with concurrent callers).
func (a *AuthService) CatchUp(ctx context.Context) error {
	return a.barrier.wait(ctx, a.b)
}

// authFail is a failed authentication: the 401 message, what is logged,
// and whether the decision rests on state another node may have changed.
type authFail struct {
	msg    string
	user   string
	reason string
	retry  bool
}

// noAuthPaths are the calls pve-manager's auth_handler lets through without
// looking at credentials.
var noAuthPaths = map[string]bool{
	"GET /access/domains":          true,
	"GET /access/ticket":           true,
	"POST /access/ticket":          true,
	"POST /access/vncticket":       true,
	"POST /access/openid/login":    true,
	"POST /access/openid/auth-url": true,
}

// extractAuthValue is pve-http-server's extract_auth_value: the value after
// `(?:^|\s)<name>(?:=| )` up to the next ';', URI-unescaped.
func extractAuthValue(h, name string) string {
	for i := 0; i < len(h); {
		j := strings.Index(h[i:], name)
		if j < 0 {
			return ""
		}
		j += i
		end := j + len(name)
		if (j == 0 || isPerlSpace(h[j-1])) && end < len(h) && (h[end] == '=' || h[end] == ' ') {
			v := h[end+1:]
			if k := strings.IndexByte(v, ';'); k >= 0 {
				v = v[:k]
			}
			return ticket.URIUnescape(v)
		}
		i = j + 1
	}
	return ""
}

func isPerlSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// credentials returns the ticket (cookie first, then the Authorization
// header) or, only when there is no ticket, the API token value.
func credentials(h http.Header) (tk, token string) {
	if tk = extractAuthValue(strings.Join(h.Values("Cookie"), "; "), AuthCookieName); tk != "" {
		return tk, ""
	}
	authz := strings.Join(h.Values("Authorization"), ", ")
	if tk = extractAuthValue(authz, AuthCookieName); tk != "" {
		return tk, ""
	}
	return "", extractAuthValue(authz, APITokenName)
}

// splitToken splits "<tokenid>=<secret>" at the last '=' (PVE) or, without
// any '=', "<tokenid>:<secret>" at the first ':' (PBS; a token ID has no ':').
func splitToken(v string) (id, secret string, ok bool) {
	if i := strings.LastIndexByte(v, '='); i >= 0 {
		return v[:i], v[i+1:], true
	}
	if i := strings.IndexByte(v, ':'); i >= 0 {
		return v[:i], v[i+1:], true
	}
	return "", "", false
}

// Authenticate implements Authenticator: ticket (cookie or Authorization
// header, CSRF token required unless the method is GET) or API token
// (Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET, or ...:SECRET).
func (a *AuthService) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	rel := strings.TrimPrefix(r.URL.Path, Prefix)
	if noAuthPaths[r.Method+" "+rel] {
		return nil, nil
	}
	tk, token := credentials(r.Header)
	if tk == "" && token == "" {
		return nil, nil
	}
	check := func() (*Identity, *authFail) {
		if tk != "" {
			return a.checkTicket(tk, r.Method, r.Header.Get(CSRFHeaderName))
		}
		return a.checkToken(token)
	}
	id, fail := check()
	if fail != nil && fail.retry {
		if err := a.CatchUp(ctx); err != nil {
			a.log.Debug("authentication miss: cannot catch up with the leader", "err", err)
		} else {
			id, fail = check()
		}
	}
	if fail != nil {
		a.log.Info("authentication failure", "rhost", r.RemoteAddr, "user", fail.user, "msg", fail.reason)
		return nil, &Error{Status: http.StatusUnauthorized, Message: fail.msg}
	}
	return id, nil
}

// checkUserEnabled is check_user_enabled: the user exists, is enabled and
// has not expired (errors in Proxmox's words, without the newline).
func checkUserEnabled(cfg *usercfg.Config, userid string, now int64) error {
	if err := ident.VerifyUsername(userid); err != nil {
		return err
	}
	u, ok := cfg.Users.Get(userid)
	if !ok || u == nil {
		return fmt.Errorf("no such user ('%s')", userid)
	}
	if !u.Enable {
		return fmt.Errorf("user '%s' is disabled", userid)
	}
	if u.Expire != 0 && u.Expire < now {
		return fmt.Errorf("user '%s' access expired", userid)
	}
	return nil
}

func (a *AuthService) checkTicket(tk, method, csrf string) (*Identity, *authFail) {
	now := a.now().Unix()
	user, sigMiss, err := a.keyState().verify(tk, now, a.quorate())
	if err != nil {
		return nil, &authFail{msg: msgInvalidTicket, reason: err.Error(), retry: sigMiss}
	}
	if err := checkUserEnabled(a.userState().cfg, user, now); err != nil {
		return nil, &authFail{msg: msgAuthFailed, user: user, reason: err.Error(), retry: true}
	}
	if method != http.MethodGet {
		secret, ok := a.csrfSecret()
		if !ok {
			return nil, &authFail{msg: msgInvalidCSRF, user: user, reason: "no " + ticket.WWWKeyPath, retry: true}
		}
		if !ticket.VerifyCSRF(secret, user, csrf, now) {
			return nil, &authFail{msg: msgInvalidCSRF, user: user, reason: "invalid csrf token"}
		}
	}
	return &Identity{Authid: user, Ticket: true}, nil
}

// checkToken is verify_token, in its order: token ID syntax, owner enabled,
// token exists, token not expired, secret.
func (a *AuthService) checkToken(v string) (*Identity, *authFail) {
	id, secret, ok := splitToken(v)
	if !ok {
		return nil, &authFail{msg: msgAuthFailed, reason: "no tokenid specified"}
	}
	owner, sub, err := ident.SplitTokenID(id)
	if err != nil {
		return nil, &authFail{msg: msgAuthFailed, reason: err.Error()}
	}
	now := a.now().Unix()
	cfg := a.userState().cfg
	if err := checkUserEnabled(cfg, string(owner), now); err != nil {
		return nil, &authFail{msg: msgAuthFailed, user: id, reason: err.Error(), retry: true}
	}
	tok := cfg.User(string(owner)).Token(string(sub))
	if tok == nil {
		return nil, &authFail{msg: msgAuthFailed, user: id, reason: fmt.Sprintf("no such token '%s' for user '%s'", sub, owner), retry: true}
	}
	if tok.Expire != 0 && tok.Expire < now {
		return nil, &authFail{msg: msgAuthFailed, user: id, reason: fmt.Sprintf("token '%s' access expired", sub), retry: true}
	}
	if !a.tokenStore().Verify(id, secret) {
		return nil, &authFail{msg: msgAuthFailed, user: id, reason: "invalid token value!", retry: true}
	}
	return &Identity{Authid: id, IsToken: true}, nil
}

// VerifyTicket checks a full user ticket against the local keys and returns
// its user (not whether the user is enabled).
func (a *AuthService) VerifyTicket(tk string) (string, error) {
	user, _, err := a.keyState().verify(tk, a.now().Unix(), a.quorate())
	return user, err
}

// IssueTicket signs a new ticket and CSRF prevention token for userid,
// first generating or rotating the key pair (and creating pve-www.key)
// through the log when needed.
func (a *AuthService) IssueTicket(ctx context.Context, userid string) (tk, csrf string, err error) {
	key, err := a.signingKey(ctx)
	if err != nil {
		return "", "", err
	}
	secret, err := a.ensureCSRFSecret(ctx)
	if err != nil {
		return "", "", err
	}
	now := a.now().Unix()
	if tk, err = ticket.Create(key, userid, now); err != nil {
		return "", "", err
	}
	return tk, ticket.CSRFToken(secret, userid, now), nil
}

// signingKey returns the private key, rotating it first when it is
// missing, unusable or a day old (only with quorum, as check_authkey).
func (a *AuthService) signingKey(ctx context.Context) (*rsa.PrivateKey, error) {
	needs := func(ks *keyState) bool {
		if !ks.usable() {
			return true
		}
		return a.quorate() && ticket.NeedsRotation(a.now().Unix(), true, ks.keys.CurrentMtime, ks.keys.Old != nil, ks.keys.OldMtime)
	}
	if ks := a.keyState(); !needs(ks) {
		return ks.priv, nil
	}
	a.rotMu.Lock()
	defer a.rotMu.Unlock()
	for attempt := 0; ; attempt++ {
		ks := a.keyState()
		if !needs(ks) {
			return ks.priv, nil
		}
		if attempt == 3 {
			if ks.usable() {
				return ks.priv, nil
			}
			return nil, errors.New("auth key pair missing")
		}
		err := a.rotate(ctx, ks.pubEntry)
		if err == nil || ticket.LostRace(err) {
			continue // use what is in the tree now
		}
		if ks.usable() {
			a.log.Warn("auth key rotation failed, keeping the current key", "err", err)
			return ks.priv, nil
		}
		return nil, fmt.Errorf("generate auth key: %w", err)
	}
}

func (a *AuthService) rotate(ctx context.Context, cur *cfs.Entry) error {
	priv, pub, err := ticket.GenerateKeyPair()
	if err != nil {
		return err
	}
	ops, err := ticket.RotationOps(cur, priv, pub)
	if err != nil {
		return err
	}
	if err := a.applyBatch(ctx, ops); err != nil {
		return err
	}
	a.log.Info("rotated auth key")
	return nil
}

func (a *AuthService) applyBatch(ctx context.Context, ops []cfs.BatchOp) error {
	cmd, err := cfs.NewCommand(cfs.OpBatch, ops)
	if err != nil {
		return err
	}
	cmd.Time = a.now().Unix()
	res, err := a.b.Apply(ctx, cmd)
	if err != nil {
		return err
	}
	return res.Error()
}

// ensureCSRFSecret returns the CSRF secret, creating pve-www.key first if
// the tree has none.
func (a *AuthService) ensureCSRFSecret(ctx context.Context) (string, error) {
	if s, ok := a.csrfSecret(); ok {
		return s, nil
	}
	a.rotMu.Lock()
	defer a.rotMu.Unlock()
	if s, ok := a.csrfSecret(); ok {
		return s, nil
	}
	key, err := ticket.GenerateWWWKey()
	if err != nil {
		return "", err
	}
	ops, err := ticket.CreateOps(ticket.WWWKeyPath, key)
	if err != nil {
		return "", err
	}
	if err := a.applyBatch(ctx, ops); err != nil && !ticket.LostRace(err) {
		return "", fmt.Errorf("create %s: %w", ticket.WWWKeyPath, err)
	}
	if s, ok := a.csrfSecret(); ok {
		return s, nil
	}
	return "", fmt.Errorf("create %s: not there after writing it", ticket.WWWKeyPath)
}

// domainsModel returns the local domains.cfg.
func (a *AuthService) domainsModel() *domains.Domains {
	e := a.entry(domains.Path)
	if e == nil {
		d, _ := domains.Parse(nil)
		return d
	}
	if d, ok := e.Model().(*domains.Domains); ok && d != nil {
		return d
	}
	d, _ := domains.Parse(e.Bytes())
	return d
}

// shadowModel returns the shadow file at p (empty if absent).
func (a *AuthService) shadowModel(p string) *shadow.Shadow {
	e := a.entry(p)
	if e == nil {
		return shadow.New()
	}
	if s, ok := e.Model().(*shadow.Shadow); ok && s != nil {
		return s
	}
	s, _ := shadow.Parse(e.Bytes())
	return s
}

// passwordFile returns the shadow file holding passwords of realm's users,
// as the realm plugin's store_password and authenticate_user use it.
func (a *AuthService) passwordFile(realm string) (string, error) {
	r, ok := a.domainsModel().Realm(realm)
	if !ok {
		return "", fmt.Errorf("auth domain '%s' does not exist", realm)
	}
	switch r.Type() {
	case "pve":
		return shadow.Path, nil
	case "pam":
		return a.pamShadowPath(), nil
	}
	return "", fmt.Errorf("can't set password on auth type '%s'", r.Type())
}

// CheckPassword authenticates userid's password with its realm (pve:
// priv/shadow.cfg, pam: the pam shadow file). Other realm types (LDAP, AD,
// OpenID) are not supported by pvecfs and always fail.
func (a *AuthService) CheckPassword(userid, password string) error {
	u, err := ident.ParseUserid(userid)
	if err != nil {
		return err
	}
	r, ok := a.domainsModel().Realm(string(u.Realm()))
	if !ok {
		return fmt.Errorf("auth domain '%s' does not exist", u.Realm())
	}
	var path string
	switch r.Type() {
	case "pve":
		path = shadow.Path
	case "pam":
		path = a.pamShadowPath()
	default:
		return fmt.Errorf("authentication with realm type '%s' is not supported by pvecfs", r.Type())
	}
	return a.shadowModel(path).Check(u.Name(), password)
}

// Authorize evaluates an API permission declaration for the request's
// identity against the local permissions (Proxmox's check_api2_permissions).
func (a *AuthService) Authorize(r *Request, d *perm.Decl) error {
	ctx := &perm.Ctx{Engine: a.Engine(), Params: r.Params}
	if r.Auth != nil {
		ctx.AuthID = r.Auth.Authid
	}
	return permToAPI(perm.Authorize(ctx, d))
}

// Require checks that the request's identity has privs on path (all of
// them; root@pam always passes): 403 "Permission check failed (path, priv)".
func (a *AuthService) Require(r *Request, path string, privs ...string) error {
	if r.Auth.Root() {
		return nil
	}
	authid := ""
	if r.Auth != nil {
		authid = r.Auth.Authid
	}
	return permToAPI(a.Engine().Require(authid, path, privs, false))
}

// permToAPI turns a permission engine error into the API error.
func permToAPI(err error) error {
	if err == nil {
		return nil
	}
	var pe *perm.Error
	if errors.As(err, &pe) {
		return &Error{Status: pe.Code, Message: pe.Message, Errors: pe.Params}
	}
	return err
}
