package api

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// /access/users/{userid}/token[/{tokenid}] (API2/User.pm): API tokens.
// Secrets are generated here, on the node that received the request; only
// their hash enters the log, and the clear value is answered once.

// tokenInfo is a token as GET …/token/{tokenid} and GET /access/users/{id}
// (tokens object) answer it.
type tokenInfo struct {
	Privsep int    `json:"privsep"`
	Expire  int64  `json:"expire"`
	Comment string `json:"comment,omitempty"`
}

// tokenListEntry is one element of GET …/token and of the tokens list of
// GET /access/users?full=1.
type tokenListEntry struct {
	Tokenid string `json:"tokenid"`
	Privsep int    `json:"privsep"`
	Expire  int64  `json:"expire"`
	Comment string `json:"comment,omitempty"`
}

func newTokenInfo(t *usercfg.Token) tokenInfo {
	return tokenInfo{Privsep: accBool01(t.Privsep), Expire: t.Expire, Comment: t.Comment}
}

// tokenList lists a user's tokens sorted by id (nil without tokens).
func tokenList(u *usercfg.User) []tokenListEntry {
	if u.Tokens.Len() == 0 {
		return nil
	}
	out := make([]tokenListEntry, 0, u.Tokens.Len())
	for sub, t := range u.Tokens.All() { // sorted by id
		out = append(out, tokenListEntry{Tokenid: sub, Privsep: accBool01(t.Privsep), Expire: t.Expire, Comment: t.Comment})
	}
	return out
}

// Token parameters (schema of API2/User.pm).
var (
	pTokenExpire     = Param{Name: "expire", Type: TInteger, Optional: true, Min: Int64(0)}
	pTokenPrivsep    = Param{Name: "privsep", Type: TBoolean, Optional: true}
	pTokenComment    = Param{Name: "comment", Optional: true}
	pTokenDelete     = Param{Name: "delete", Optional: true, Format: accListOf(fmtConfigid), List: true}
	pTokenRegenerate = Param{Name: "regenerate", Type: TBoolean, Optional: true}
	// pTokenDigest is a pvecfs extension taken from Proxmox Backup Server's
	// token update: the SHA-1 (Proxmox's digest) or SHA-256 (PBS's) hex
	// digest of user.cfg as the client last read it.
	pTokenDigest = Param{Name: "digest", Optional: true, MaxLength: 64, Pattern: accDigestRE}
)

func (s *AccessState) tokenEndpoints() []Endpoint {
	check := s.check(declSelfOrUM, nil)
	ids := []Param{pUserid, pTokenid}
	return []Endpoint{
		{Method: "GET", Path: "/access/users/{userid}/token", Check: check, Params: []Param{pUserid},
			Description: "List a user's API tokens (yourself, or User.Modify via userid-group).",
			Handler:     s.listTokens},
		{Method: "GET", Path: "/access/users/{userid}/token/{tokenid}", Check: check, Params: ids,
			Description: "Read an API token's settings.",
			Handler:     s.readToken},
		{Method: "POST", Path: "/access/users/{userid}/token/{tokenid}", Check: check,
			Params:      append(append([]Param{}, ids...), pTokenExpire, pTokenPrivsep, pTokenComment),
			Description: "Create an API token; the secret (value) is answered only here.",
			Handler:     s.createToken},
		{Method: "PUT", Path: "/access/users/{userid}/token/{tokenid}", Check: check,
			Params: append(append([]Param{}, ids...), pTokenExpire, pTokenPrivsep, pTokenComment, pTokenDelete,
				pTokenRegenerate, pTokenDigest),
			Description: "Update an API token; regenerate answers a new secret; digest (pvecfs/PBS extension) refuses a changed user.cfg.",
			Handler:     s.updateToken},
		{Method: "DELETE", Path: "/access/users/{userid}/token/{tokenid}", Check: check, Params: ids,
			Description: "Delete an API token, its secret and its ACL entries.",
			Handler:     s.deleteToken},
	}
}

// accLookupToken returns a token or Proxmox's check_token_exist errors.
func accLookupToken(cfg *usercfg.Config, userid, sub string) (*usercfg.Token, error) {
	u, err := accLookupUser(cfg, userid)
	if err != nil {
		return nil, err
	}
	t := u.Token(sub)
	if t == nil {
		return nil, accDie("no such token '%s' for user '%s'", sub, userid)
	}
	return t, nil
}

// listTokens is GET /access/users/{userid}/token.
func (s *AccessState) listTokens(r *Request) (any, error) {
	cfg, err := s.readConfig(r)
	if err != nil {
		return nil, err
	}
	userid := r.Params.Get("userid")
	u, err := accLookupUser(cfg, userid)
	if err != nil {
		return nil, err
	}
	out := tokenList(u)
	if out == nil {
		out = []tokenListEntry{}
	}
	return out, nil
}

// readToken is GET /access/users/{userid}/token/{tokenid}.
func (s *AccessState) readToken(r *Request) (any, error) {
	cfg, err := s.readConfig(r)
	if err != nil {
		return nil, err
	}
	t, err := accLookupToken(cfg, r.Params.Get("userid"), r.Params.Get("tokenid"))
	if err != nil {
		return nil, err
	}
	return newTokenInfo(t), nil
}

// newTokenSecret makes a secret and its stored hash.
func newTokenSecret(prefix string) (string, string, error) {
	secret, err := tokens.NewSecret()
	if err != nil {
		return "", "", accDie("%s: unable to generate token secret: %v", prefix, err)
	}
	return secret, tokens.HashSecret(secret), nil
}

var tokenLocks = []string{LockUserCfg, LockTokenCfg}

// createToken is POST /access/users/{userid}/token/{tokenid}.
func (s *AccessState) createToken(r *Request) (any, error) {
	p := r.Params
	userid, sub := p.Get("userid"), p.Get("tokenid")
	// Proxmox checks both before taking the lock: a missing user is a die,
	// an existing token a parameter error. The command checks again.
	u, err := s.lookupUserCaughtUp(r, userid)
	if err != nil {
		return nil, err
	}
	if u.Token(sub) != nil {
		return nil, ParamErr("tokenid", "Token already exists.")
	}
	const prefix = "generating token failed"
	secret, hash, err := newTokenSecret(prefix)
	if err != nil {
		return nil, err
	}
	body := mutate.TokenCreate{Userid: userid, Tokenid: sub, Hash: hash, Privsep: accOptBool(p, "privsep"),
		Expire: accOptInt(p, "expire"), Comment: p.Get("comment")}
	res, err := s.apply(r, accMutation{op: mutate.OpTokenCreate, body: body, locks: tokenLocks, prefix: prefix})
	if err != nil {
		return nil, err
	}
	var cr mutate.TokenCreateResult
	if err := res.Decode(&cr); err != nil {
		return nil, accDie("%s: decode result: %v", prefix, err)
	}
	return map[string]any{"full-tokenid": cr.FullTokenid, "info": cr.Info, "value": secret}, nil
}

// userCfgDigests returns the SHA-1 and SHA-256 hex digests of user.cfg as
// it reads now (an absent file reads as empty).
func (s *AccessState) userCfgDigests() (string, string) {
	var data []byte
	if e, ok := s.b.Tree().Get(mutate.UserCfgPath); ok && !e.IsDir() {
		data = e.Bytes()
	}
	s1 := sha1.Sum(data)
	s2 := sha256.Sum256(data)
	return hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:])
}

// updateToken is PUT /access/users/{userid}/token/{tokenid}.
func (s *AccessState) updateToken(r *Request) (any, error) {
	p := r.Params
	const prefix = "updating token info failed"
	if dg := strings.ToLower(p.Get("digest")); dg != "" {
		// Checked against the local copy before the log: a change that
		// races with this request between here and its apply is not seen.
		d1, d256 := s.userCfgDigests()
		if dg != d1 && dg != d256 {
			return nil, &Error{Status: http.StatusInternalServerError, Message: prefix + ": " + cfs.DigestMismatch}
		}
	}
	body := mutate.TokenUpdate{Userid: p.Get("userid"), Tokenid: p.Get("tokenid"), Privsep: accOptBool(p, "privsep"),
		Expire: accOptInt(p, "expire"), Comment: accOptString(p, "comment"), Delete: ident.SplitList(p.Get("delete")),
		Regenerate: p.Bool("regenerate", false)}
	var secret string
	if body.Regenerate {
		var err error
		if secret, body.Hash, err = newTokenSecret(prefix); err != nil {
			return nil, err
		}
	}
	res, err := s.apply(r, accMutation{op: mutate.OpTokenUpdate, body: body, locks: tokenLocks, prefix: prefix})
	if err != nil {
		return nil, err
	}
	var ur mutate.TokenUpdateResult
	if err := res.Decode(&ur); err != nil {
		return nil, accDie("%s: decode result: %v", prefix, err)
	}
	out := map[string]any{"privsep": ur.Privsep, "expire": ur.Expire}
	if ur.Comment != "" {
		out["comment"] = ur.Comment
	}
	if body.Regenerate {
		out["full-tokenid"] = ur.FullTokenid
		out["value"] = secret
	}
	return out, nil
}

// deleteToken is DELETE /access/users/{userid}/token/{tokenid}.
func (s *AccessState) deleteToken(r *Request) (any, error) {
	body := mutate.TokenDelete{Userid: r.Params.Get("userid"), Tokenid: r.Params.Get("tokenid")}
	_, err := s.apply(r, accMutation{op: mutate.OpTokenDelete, body: body, locks: tokenLocks, prefix: "deleting token failed"})
	return nil, err
}

// lookupUserCaughtUp finds a user in the local copy; on a miss it first
// catches up with the cluster (a user created through another node a
// moment ago must not make this write fail) and looks again.
func (s *AccessState) lookupUserCaughtUp(r *Request, userid string) (*usercfg.User, error) {
	cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	u, err := accLookupUser(cfg, userid)
	if err == nil {
		return u, nil
	}
	if cerr := s.b.LinearizableRead(r.Ctx); cerr != nil {
		return nil, err
	}
	if cfg, cerr := s.Config(); cerr == nil {
		return accLookupUser(cfg, userid)
	}
	return nil, err
}
