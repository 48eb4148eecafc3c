package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/perm"
	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// Shared helpers of the /access endpoints (users, groups, roles, ACL,
// domains, tokens, permissions): the compiled permission engine cached per
// user.cfg version, permission declarations, parameter formats with
// Proxmox's messages, and the write path through the log.

// AccessLockTimeout is how long an access mutation waits while an outside
// holder keeps the cluster lock of the file it changes (Proxmox's cfs_lock
// timeout for lock_user_config / lock_domain_config). Tests shorten it.
var AccessLockTimeout = 10 * time.Second

// Cluster lock ids of the access-control files (Proxmox's cfs_lock_file
// naming: "file-" plus the path with '.' and '/' as '_').
const (
	// LockUserCfg guards user.cfg.
	LockUserCfg = "file-user_cfg"
	// LockDomainsCfg guards domains.cfg.
	LockDomainsCfg = "file-domains_cfg"
	// LockTokenCfg guards priv/token.cfg.
	LockTokenCfg = "file-priv_token_cfg"
	// LockShadowCfg guards priv/shadow.cfg.
	LockShadowCfg = "file-priv_shadow_cfg"
)

// AccessState gives the access endpoints the parsed user.cfg of the local
// tree and its compiled permission engine, compiled once per file version
// and shared by every request of that version.
type AccessState struct {
	b Backend
	// Shared, if set, supplies user.cfg and a function compiling (once) its
	// engine from another cache (the authenticator's), so each version is
	// compiled at most once per node, and only when a check needs it.
	Shared func() (*usercfg.Config, func() *perm.Engine)
	mu     sync.Mutex // serialises compiles
	snap   atomic.Pointer[accessSnap]
}

type accessSnap struct {
	version uint64
	cfg     *usercfg.Config
	eng     *perm.Engine
}

// NewAccessState returns the access state over a backend's tree.
func NewAccessState(b Backend) *AccessState { return &AccessState{b: b} }

// Backend returns the backend the state reads.
func (s *AccessState) Backend() Backend { return s.b }

// UserConfig returns the current user.cfg model and its compiled engine.
func (s *AccessState) UserConfig() (*usercfg.Config, *perm.Engine, error) {
	if s.Shared != nil {
		cfg, eng := s.Shared()
		return cfg, eng(), nil
	}
	m, ver, err := s.b.Tree().Model(mutate.UserCfgPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read user.cfg: %w", err)
	}
	cfg, ok := m.(*usercfg.Config)
	if !ok || cfg == nil {
		return nil, nil, fmt.Errorf("read user.cfg: unexpected model %T", m)
	}
	// A stored file's model is one shared value per version; a missing file
	// (version 0) parses anew on every call, so the version alone decides.
	if sn := s.snap.Load(); sn != nil && sn.version == ver && (ver == 0 || sn.cfg == cfg) {
		return sn.cfg, sn.eng, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn := s.snap.Load(); sn != nil && sn.version == ver && (ver == 0 || sn.cfg == cfg) {
		return sn.cfg, sn.eng, nil
	}
	sn := &accessSnap{version: ver, cfg: cfg, eng: perm.Compile(cfg)}
	s.snap.Store(sn)
	return sn.cfg, sn.eng, nil
}

// Engine returns the compiled permission engine of the current user.cfg.
func (s *AccessState) Engine() (*perm.Engine, error) {
	_, e, err := s.UserConfig()
	return e, err
}

// Domains returns the current domains.cfg model.
func (s *AccessState) Domains() (*domains.Domains, error) {
	m, _, err := s.b.Tree().Model(domains.Path)
	if err != nil {
		return nil, fmt.Errorf("read domains.cfg: %w", err)
	}
	d, ok := m.(*domains.Domains)
	if !ok || d == nil {
		return nil, fmt.Errorf("read domains.cfg: unexpected model %T", m)
	}
	return d, nil
}

// accAuthid returns the caller's authentication id ("" if anonymous).
func accAuthid(r *Request) string {
	if r.Auth == nil {
		return ""
	}
	return r.Auth.Authid
}

// check returns an Endpoint.Check that first runs pre (extra parameter
// checks the schema language cannot state, so that a malformed request is
// a 400 before any 403), then evaluates the permission declaration d with
// the engine of the current user.cfg.
func (s *AccessState) check(d *perm.Decl, pre func(*Request) error) func(*Request) error {
	return func(r *Request) error {
		if pre != nil {
			if err := pre(r); err != nil {
				return err
			}
		}
		if err := s.barrier(r); err != nil {
			return err
		}
		eng, err := s.Engine()
		if err != nil {
			return err
		}
		return accessErr(perm.Authorize(&perm.Ctx{Engine: eng, AuthID: accAuthid(r), Params: r.Params}, d))
	}
}

// Permission declarations used by several endpoints.
var (
	declAll      = &perm.Decl{User: "all"}
	declSelfOrUM = &perm.Decl{Check: perm.Or(perm.UseridParam(perm.UseridSelf), perm.UseridGroup([]string{"User.Modify"}))}
)

// accessErr turns the errors of the access packages into API errors with
// Proxmox's status, message and per-parameter messages.
func accessErr(err error) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var pe *perm.Error
	if errors.As(err, &pe) {
		if pe.Code == http.StatusBadRequest && len(pe.Params) > 0 {
			return ParamError(pe.Params)
		}
		return &Error{Status: pe.Code, Message: pe.Message}
	}
	var de *domains.ParamError
	if errors.As(err, &de) {
		return ParamError(de.Errors)
	}
	if mp, ok := mutate.AsParamError(err); ok {
		return ParamError(mp.Errors)
	}
	var ce *cfs.Error
	if errors.As(err, &ce) {
		st := ce.Status
		if st == 0 {
			st = http.StatusInternalServerError
		}
		return &Error{Status: st, Message: ce.Message}
	}
	return &Error{Status: http.StatusInternalServerError, Message: accDieText(err.Error())}
}

// accDieText is a message as a Perl die carries it: with one trailing newline.
func accDieText(msg string) string {
	if strings.HasSuffix(msg, "\n") {
		return msg
	}
	return msg + "\n"
}

// accDie is a plain Proxmox die: HTTP 500 with the text.
func accDie(format string, args ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Message: accDieText(fmt.Sprintf(format, args...))}
}

// accMutation is one access-control change sent through the log.
type accMutation struct {
	op     string
	body   any
	locks  []string // cluster locks an outside holder may keep (awaited)
	prefix string   // Proxmox's lock wrapper message, e.g. "create user failed"
}

// apply sends a mutation through the log, waiting (AccessLockTimeout) while
// an outside holder keeps one of its locks. A lock timeout reads as
// Proxmox's "<prefix>: cfs-lock '<id>' error: got lock request timeout".
func (s *AccessState) apply(r *Request, m accMutation) (*cfs.Result, error) {
	cmd, err := cfs.NewCommand(m.op, m.body)
	if err != nil {
		return nil, fmt.Errorf("build %s command: %w", m.op, err)
	}
	cmd.Await = m.locks
	res, err := ApplyWaiting(r.Ctx, s.b, cmd, AccessLockTimeout, nil)
	if err != nil {
		return nil, accDie("%s: %v", m.op, err)
	}
	if res.Err != nil {
		if res.Err.Code == cfs.CodeLockBusy && m.prefix != "" {
			return nil, &Error{Status: http.StatusInternalServerError, Message: m.prefix + ": " + accDieText(res.Err.Message)}
		}
		return nil, accessErr(res.Err)
	}
	return res, nil
}

// ---- parameter formats (pve-common JSONSchema formats) ----

// accFormatErr is JSONSchema's "invalid format - <die text>" message.
func accFormatErr(msg string) error {
	return &FormatError{Msg: "invalid format - " + accDieText(msg)}
}

func fmtUserid(v string) error {
	if err := ident.VerifyUsername(v); err != nil {
		return accFormatErr(err.Error())
	}
	return nil
}

func fmtRealm(v string) error {
	if _, err := ident.ParseRealm(v); err != nil {
		return accFormatErr(err.Error())
	}
	return nil
}

func fmtGroupid(v string) error {
	if _, err := ident.ParseGroupID(v); err != nil {
		return accFormatErr(err.Error())
	}
	return nil
}

func fmtRoleid(v string) error {
	if _, err := ident.ParseRoleID(v); err != nil {
		return accFormatErr(err.Error())
	}
	return nil
}

func fmtTokenid(v string) error {
	if _, err := ident.ParseTokenID(v); err != nil {
		return accFormatErr(err.Error())
	}
	return nil
}

func fmtPriv(v string) error {
	if !privs.IsValid(v) {
		return accFormatErr("invalid privilege '" + v + "'")
	}
	return nil
}

var accConfigidRE = regexp.MustCompile(`^(?i:[a-z][a-z0-9_-]+)$`)

func fmtConfigid(v string) error {
	if !accConfigidRE.MatchString(v) {
		return accFormatErr("invalid configuration ID '" + v + "'")
	}
	return nil
}

// accListOf makes a "-list" format: every split_list item must pass item.
func accListOf(item func(string) error) func(string) error {
	return func(v string) error {
		for _, x := range ident.SplitList(v) {
			if err := item(x); err != nil {
				return err
			}
		}
		return nil
	}
}

// accEmailRE is PVE::Tools::EMAIL_RE (anchored).
var accEmailRE = regexp.MustCompile(`^[\p{L}\p{M}\p{Nd}\p{Pc}+\-~]+(\.[\p{L}\p{M}\p{Nd}\p{Pc}+\-~]+)*@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*$`)

// fmtEmailOpt is format email-opt: empty, or an e-mail address.
func fmtEmailOpt(v string) error {
	if v != "" && !accEmailRE.MatchString(v) {
		return accFormatErr("value does not look like a valid email address")
	}
	return nil
}

// Patterns of the access schema (anchored, as JSONSchema anchors them).
var (
	accTokenNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.\-_]+$`)
	accKeysRE      = regexp.MustCompile(`^[0-9a-zA-Z!=]*$`) // {0,4096}: see fmtKeysLen
	accAuthidRE    = regexp.MustCompile(`^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+(?:![A-Za-z][A-Za-z0-9.\-_]+)?$`)
	accDigestRE    = regexp.MustCompile(`^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$`)
)

// fmtKeysLen is the {0,4096} of the keys pattern (Go's regexp repeats at
// most 1000 times), with the pattern's message.
func fmtKeysLen(v string) error {
	if len(v) > 4096 {
		return &FormatError{Msg: "value does not match the regex pattern"}
	}
	return nil
}

// Parameter declarations shared by the access endpoints.
var (
	pUserid  = Param{Name: "userid", MaxLength: 64, Format: fmtUserid}
	pTokenid = Param{Name: "tokenid", Pattern: accTokenNameRE}
	pGroupid = Param{Name: "groupid", Format: fmtGroupid}
	pRoleid  = Param{Name: "roleid", Format: fmtRoleid}
	pRealm   = Param{Name: "realm", MaxLength: ident.RealmMaxLength, Format: fmtRealm}
)

// accBool01 is a JSON boolean as Proxmox answers it: 0 or 1.
func accBool01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// barrierDone marks a request whose linearizable read barrier has passed.
type barrierDone struct{}

// barrier runs the read barrier a request asks for (header
// X-Pvecfs-Consistency: linearizable) once: the permission check and the
// handler then both see state at least as new as every acknowledged write.
func (s *AccessState) barrier(r *Request) error {
	if r.Ctx == nil || r.HTTP == nil || r.Ctx.Value(barrierDone{}) != nil || !wantLinearizable(r) {
		return nil
	}
	if err := ReadBarrier(r, s.b); err != nil {
		return err
	}
	r.Ctx = context.WithValue(r.Ctx, barrierDone{}, true)
	return nil
}

// Config returns the current user.cfg model without compiling its engine
// (a mutation changes the version, so handlers that need no permission
// evaluation must not pay for a compile).
func (s *AccessState) Config() (*usercfg.Config, error) {
	if s.Shared != nil {
		cfg, _ := s.Shared()
		return cfg, nil
	}
	m, _, err := s.b.Tree().Model(mutate.UserCfgPath)
	if err != nil {
		return nil, fmt.Errorf("read user.cfg: %w", err)
	}
	cfg, ok := m.(*usercfg.Config)
	if !ok || cfg == nil {
		return nil, fmt.Errorf("read user.cfg: unexpected model %T", m)
	}
	return cfg, nil
}

// readConfig is Config after the optional linearizable read barrier.
func (s *AccessState) readConfig(r *Request) (*usercfg.Config, error) {
	if err := s.barrier(r); err != nil {
		return nil, err
	}
	return s.Config()
}

// read loads the current user.cfg and its engine after the optional
// linearizable read barrier.
func (s *AccessState) read(r *Request) (*usercfg.Config, *perm.Engine, error) {
	if err := s.barrier(r); err != nil {
		return nil, nil, err
	}
	return s.UserConfig()
}
