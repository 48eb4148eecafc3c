package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/perm"
	"github.com/pvecfs/pvecfs/access/privs"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/ticket"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// VersionInfo is the answer of GET /version.
type VersionInfo struct {
	Version string `json:"version"`
	Release string `json:"release"`
	RepoID  string `json:"repoid"`
	Console string `json:"console,omitempty"`
}

// DefaultVersion is the PVE release pvecfs answers like (pve-manager 9.1.1,
// release 9.1); the repoid is the build's VCS revision when known.
func DefaultVersion() VersionInfo {
	v := VersionInfo{Version: "9.1.1", Release: "9.1", RepoID: "0000000000000000"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 16 && isHex(s.Value) {
				v.RepoID = s.Value[:16]
			}
		}
	}
	return v
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// AccessAuthConfig configures the authentication endpoints.
type AccessAuthConfig struct {
	// ClusterName returns the cluster's name, "" for a standalone node
	// (nil: never named).
	ClusterName func() string
	// Version is the answer of GET /version (zero value: DefaultVersion()).
	Version VersionInfo
}

// accessSubdirs is GET /access: the subclasses of PVE::API2::AccessControl
// in registration order, then ticket and password.
var accessSubdirs = []string{"users", "groups", "roles", "acl", "domains", "openid", "tfa", "ticket", "password"}

// errTFA refuses users with a second factor: pvecfs does not implement TFA,
// and a password alone must not open an account that requires two.
var errTFA = errors.New("two-factor authentication is not supported by pvecfs")

// issueError marks a failure to make a ticket after the credentials passed.
type issueError struct{ err error }

func (e *issueError) Error() string { return "unable to issue ticket: " + e.err.Error() }

// passwordDecl is the permission declaration of PUT /access/password.
var passwordDecl = &perm.Decl{Check: perm.Or(
	perm.UseridParam("self"),
	perm.And(perm.UseridParam("Realm.AllocateUser"), perm.UseridGroup([]string{"User.Modify"})),
)}

func realmFormat(s string) error {
	if _, err := ident.ParseRealm(s); err != nil {
		return errors.New("value does not look like a valid realm")
	}
	return nil
}

func useridFormat(s string) error { return ident.VerifyUsername(s) }

func privListFormat(s string) error {
	for _, p := range ident.SplitList(s) {
		if !privs.IsValid(p) {
			return fmt.Errorf("invalid privilege '%s'", p)
		}
	}
	return nil
}

// AccessAuthEndpoints returns GET /version, GET /access, GET and POST
// /access/ticket and PUT /access/password.
func AccessAuthEndpoints(a *AuthService, cfg AccessAuthConfig) []Endpoint {
	if cfg.Version == (VersionInfo{}) {
		cfg.Version = DefaultVersion()
	}
	return []Endpoint{
		{Method: "GET", Path: "/version", Description: "API version details.",
			Handler: func(r *Request) (any, error) { return cfg.Version, nil }},
		{Method: "GET", Path: "/access", Description: "Directory index.",
			Handler: func(r *Request) (any, error) {
				out := make([]map[string]string, 0, len(accessSubdirs))
				for _, s := range accessSubdirs {
					out = append(out, map[string]string{"subdir": s})
				}
				return out, nil
			}},
		{Method: "GET", Path: "/access/ticket", World: true,
			Description: "Dummy. Useful for formatters which want to provide a login page.",
			Handler:     func(r *Request) (any, error) { return nil, nil }},
		{Method: "POST", Path: "/access/ticket", World: true, NoToken: true,
			Params: []Param{
				{Name: "username", MaxLength: 64},
				{Name: "realm", Optional: true, MaxLength: 32, Format: realmFormat},
				{Name: "password"},
				{Name: "otp", Optional: true},
				{Name: "path", Optional: true, MaxLength: 64},
				{Name: "privs", Optional: true, MaxLength: 64, Format: privListFormat, List: true},
				{Name: "new-format", Type: TBoolean, Optional: true},
				{Name: "tfa-challenge", Optional: true},
			},
			Description: "Create or verify authentication ticket.",
			Handler:     func(r *Request) (any, error) { return a.login(r, &cfg) }},
		{Method: "PUT", Path: "/access/password", NoToken: true,
			Params: []Param{
				{Name: "userid", MaxLength: 64, Format: useridFormat},
				{Name: "password", MinLength: 8, MaxLength: 64},
				{Name: "confirmation-password", Optional: true, MinLength: 5, MaxLength: 64},
			},
			Check:       func(r *Request) error { return a.Authorize(r, passwordDecl) },
			Description: "Change user password.",
			Handler:     a.changePassword},
	}
}

// login is POST /access/ticket. Every failure after parameter checks is 401
// "authentication failure" (the reason is logged); a miss is decided again
// after catching up with the leader.
func (a *AuthService) login(r *Request, cfg *AccessAuthConfig) (any, error) {
	// The server authenticates nobody for this call; like pve-http-server,
	// refuse it to a request that carries an API token.
	if _, token := credentials(r.HTTP.Header); token != "" {
		return nil, Forbidden(fmt.Sprintf("URI '%s' not available with API token, need proper ticket.\n", r.HTTP.URL.Path))
	}
	p := r.Params
	if p.Has("path") != p.Has("privs") {
		have, missing := "path", "privs"
		if p.Has("privs") {
			have, missing = "privs", "path"
		}
		return nil, ParamErr(missing, fmt.Sprintf("missing property - '%s' requires this property", have))
	}
	username := p.Get("username")
	if realm := p.Get("realm"); realm != "" {
		username += "@" + realm
	}
	username, err := a.lookupUsername(username)
	if err != nil {
		return nil, Errorf(http.StatusInternalServerError, "%v\n", err)
	}
	var res map[string]any
	for attempt := 0; ; attempt++ {
		res, err = a.loginOnce(r, username)
		var ie *issueError
		if err == nil || attempt == 1 || errors.As(err, &ie) || errors.Is(err, errTFA) {
			break
		}
		if cerr := a.CatchUp(r.Ctx); cerr != nil {
			break
		}
	}
	if err != nil {
		a.log.Info("authentication failure", "rhost", r.HTTP.RemoteAddr, "user", username, "msg", err.Error())
		return nil, Unauthorized()
	}
	eng := a.Engine()
	res["cap"] = eng.APIPermissions(username)
	if cfg.ClusterName != nil {
		if name := cfg.ClusterName(); name != "" && (username == perm.RootUser || eng.Check(username, "/", []string{"Sys.Audit"}, false)) {
			res["clustername"] = name
		}
	}
	return res, nil
}

// loginOnce runs one attempt of create_ticket / verify mode.
func (a *AuthService) loginOnce(r *Request, username string) (map[string]any, error) {
	p := r.Params
	now := a.now().Unix()
	us := a.userState()
	if err := checkUserEnabled(us.cfg, username, now); err != nil {
		return nil, err
	}
	pw := p.Get("password")
	if p.Has("path") {
		path := p.Get("path")
		norm, ok := ident.NormalizePath(path)
		if !ok {
			return nil, fmt.Errorf("invalid path - %s", path)
		}
		if tu, err := a.VerifyTicket(pw); err != nil || tu != username {
			if err := a.authenticateUser(us.cfg, username, pw); err != nil {
				return nil, err
			}
		}
		if !us.engine().Check(username, norm, ident.SplitList(p.Get("privs")), false) {
			return nil, fmt.Errorf("no permission (%s, %s)", path, p.Get("privs"))
		}
		return map[string]any{"username": username}, nil
	}
	renew := false
	if strings.HasPrefix(pw, ticket.Prefix+":") {
		// A valid ticket of the user (or of root@pam, who may mint tickets
		// for others) stands in for the password.
		if tu, err := a.VerifyTicket(pw); err == nil && (tu == perm.RootUser || tu == username) {
			renew = true
		}
	}
	if !renew {
		if p.Has("tfa-challenge") {
			return nil, errTFA
		}
		if err := a.authenticateUser(us.cfg, username, pw); err != nil {
			return nil, err
		}
	}
	tk, csrf, err := a.IssueTicket(r.Ctx, username)
	if err != nil {
		return nil, &issueError{err}
	}
	return map[string]any{"username": username, "ticket": tk, "CSRFPreventionToken": csrf}, nil
}

// authenticateUser checks the password with the user's realm and refuses
// users that have a second factor configured.
func (a *AuthService) authenticateUser(cfg *usercfg.Config, username, password string) error {
	if err := a.CheckPassword(username, password); err != nil {
		return err
	}
	if a.hasTFA(cfg, username) {
		return errTFA
	}
	return nil
}

// hasTFA reports whether the user has a second factor: user.cfg keys, a
// realm-wide tfa option, or entries in priv/tfa.cfg.
func (a *AuthService) hasTFA(cfg *usercfg.Config, userid string) bool {
	if u := cfg.User(userid); u != nil && u.Keys != "" {
		return true
	}
	if u, err := ident.ParseUserid(userid); err == nil {
		if r, ok := a.domainsModel().Realm(string(u.Realm())); ok && r.TFAType() != "" {
			return true
		}
	}
	if e := a.entry("priv/tfa.cfg"); e != nil {
		return tfaConfigured(e.Bytes(), userid)
	}
	return false
}

// tfaConfigured looks for entries of userid in tfa.cfg: the JSON form
// {"users":{"<userid>":{"totp":[...],...}}} or legacy "<userid>:..." lines.
func tfaConfigured(data []byte, userid string) bool {
	var doc struct {
		Users map[string]map[string]json.RawMessage `json:"users"`
	}
	if err := json.Unmarshal(data, &doc); err == nil {
		for kind, v := range doc.Users[userid] {
			switch kind {
			case "totp", "u2f", "webauthn", "yubico", "recovery":
				s := strings.TrimSpace(string(v))
				if s != "" && s != "[]" && s != "{}" && s != "null" {
					return true
				}
			}
		}
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), userid+":") {
			return true
		}
	}
	return false
}

// lookupUsername is lookup_username: in a realm with case-sensitive 0 the
// user.cfg entry matching case-insensitively is used.
func (a *AuthService) lookupUsername(username string) (string, error) {
	u, err := ident.ParseUserid(username)
	if err != nil {
		return username, nil
	}
	r, ok := a.domainsModel().Realm(string(u.Realm()))
	if !ok || r.CaseSensitive() {
		return username, nil
	}
	lc := strings.ToLower(username)
	var match []string
	for id := range a.userState().cfg.Users.Keys() {
		if strings.ToLower(id) == lc {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return username, nil
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("ambiguous case insensitive match of username '%s', cannot safely grant access!", username)
}

// lockIDOf is the cluster lock id of a file ("file-" + path with '.' and
// '/' as '_'), as cfs_lock_file names it.
func lockIDOf(path string) string {
	return "file-" + strings.NewReplacer(".", "_", "/", "_").Replace(path)
}

// changePassword is PUT /access/password (API2::AccessControl
// change_password with reauth_user_for_user_modification). The new
// password is hashed ($5$, random salt) here, before the log, and stored by
// access/mutate's access.password command; it waits while an outside
// holder has the shadow file's cluster lock.
func (a *AuthService) changePassword(r *Request) (any, error) {
	if err := ReadBarrier(r, a.b); err != nil {
		return nil, err
	}
	p := r.Params
	authuser := r.Auth.Authid
	userid := p.Get("userid")
	uid, err := ident.ParseUserid(userid)
	if err != nil {
		return nil, ParamErr("userid", "invalid format - "+err.Error())
	}
	us := a.userState()
	if !us.cfg.Users.Has(userid) {
		return nil, Errorf(http.StatusInternalServerError, "no such user ('%s')\n", userid)
	}
	permDenied := &Error{Status: http.StatusForbidden, Message: "Permission check failed\n"}
	if userid == perm.RootUser && authuser != perm.RootUser {
		return nil, permDenied
	}
	if authuser != perm.RootUser {
		cp, ok := p["confirmation-password"]
		if !ok {
			return nil, ParamErr("confirmation-password", "password is required to modify user")
		}
		if err := a.CheckPassword(authuser, cp); err != nil {
			return nil, Errorf(http.StatusInternalServerError, "%v\n", err)
		}
		if authuser == userid {
			if err := checkUserEnabled(us.cfg, userid, a.now().Unix()); err != nil {
				return nil, Errorf(http.StatusInternalServerError, "%v\n", err)
			}
		} else if uid.Realm() == "pam" {
			return nil, permDenied
		}
	}
	file, err := a.passwordFile(string(uid.Realm()))
	if err != nil {
		return nil, Errorf(http.StatusInternalServerError, "%v\n", err)
	}
	salt, err := shadow.NewSalt()
	if err != nil {
		return nil, err
	}
	cmd, err := cfs.NewCommand(mutate.OpPassword, mutate.PasswordChange{Userid: userid, Hash: shadow.Hash(p.Get("password"), salt),
		CheckEnabled: authuser != perm.RootUser && authuser == userid})
	if err != nil {
		return nil, err
	}
	cmd.Await = []string{lockIDOf(file)}
	res, err := ApplyWaiting(r.Ctx, a.b, cmd, 10*time.Second, nil)
	if err != nil {
		return nil, Errorf(http.StatusInternalServerError, "%v", err)
	}
	if res.Err != nil {
		return nil, res.Err
	}
	a.log.Info("changed password for user", "user", userid, "by", authuser)
	return nil, nil
}
