package mutate

import (
	"fmt"

	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
)

// TokenCreate is POST /access/users/{userid}/token/{tokenid}. The receiving
// node generates the secret before the log; the command carries only its
// hash (tokens.HashSecret), and the REST layer adds the clear value to the
// answer once the command is applied.
type TokenCreate struct {
	// Userid is the owner.
	Userid string `json:"userid"`
	// Tokenid is the token's sub-id (the part after '!').
	Tokenid string `json:"tokenid"`
	// Hash is tokens.HashSecret(secret).
	Hash string `json:"hash"`
	// Privsep is the privilege separation flag (default true).
	Privsep *bool `json:"privsep,omitempty"`
	// Expire is the token's own expiry (epoch seconds, 0 = none).
	Expire *int64 `json:"expire,omitempty"`
	// Comment is stored if true in Perl's sense.
	Comment string `json:"comment,omitempty"`
}

// TokenInfo is a token's "info" as the API returns it.
type TokenInfo struct {
	// Privsep is 0 or 1.
	Privsep int `json:"privsep"`
	// Expire is present when the request set it.
	Expire *int64 `json:"expire,omitempty"`
	// Comment is present when not empty.
	Comment string `json:"comment,omitempty"`
}

// TokenCreateResult is token creation's answer without the secret, which
// only the REST layer knows ("value").
type TokenCreateResult struct {
	// FullTokenid is "user@realm!tokenid".
	FullTokenid string `json:"full-tokenid"`
	// Info is the new token's settings.
	Info TokenInfo `json:"info"`
}

// TokenUpdate is PUT /access/users/{userid}/token/{tokenid}.
type TokenUpdate struct {
	// Userid is the owner.
	Userid string `json:"userid"`
	// Tokenid is the token's sub-id.
	Tokenid string `json:"tokenid"`
	// Privsep sets the privilege separation flag.
	Privsep *bool `json:"privsep,omitempty"`
	// Expire sets the expiry.
	Expire *int64 `json:"expire,omitempty"`
	// Comment sets the comment; an empty one removes it.
	Comment *string `json:"comment,omitempty"`
	// Delete lists settings to remove; only "comment" is allowed.
	Delete []string `json:"delete,omitempty"`
	// Regenerate replaces the secret by the one Hash stands for.
	Regenerate bool `json:"regenerate,omitempty"`
	// Hash is tokens.HashSecret(new secret), required with Regenerate.
	Hash string `json:"hash,omitempty"`
}

// TokenUpdateResult is the updated token as the API returns it (without
// the new secret, which the REST layer adds as "value" on regeneration).
type TokenUpdateResult struct {
	// Privsep is 0 or 1.
	Privsep int `json:"privsep"`
	// Expire is the expiry (0 = none).
	Expire int64 `json:"expire"`
	// Comment is present when not empty.
	Comment string `json:"comment,omitempty"`
	// FullTokenid is set when the secret was regenerated.
	FullTokenid string `json:"full-tokenid,omitempty"`
}

// TokenDelete is DELETE /access/users/{userid}/token/{tokenid}.
type TokenDelete struct {
	// Userid is the owner.
	Userid string `json:"userid"`
	// Tokenid is the token's sub-id.
	Tokenid string `json:"tokenid"`
}

func checkTokenRef(userid, sub string, expire *int64) error {
	return firstErr(checkUserid("userid", userid), checkTokenName("tokenid", sub), checkExpire("expire", expire))
}

func checkHash(h string) error {
	if !tokens.IsHash(h) {
		return invalid("token secret must be given as its hash (tokens.HashSecret)")
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateToken adds an API token and its secret hash. The owner must exist
// ("no such user ('U')"); an existing token is the parameter error
// {tokenid: "Token already exists."}.
func CreateToken(m Models, r TokenCreate) (Models, *TokenCreateResult, error) {
	if err := checkTokenRef(r.Userid, r.Tokenid, r.Expire); err != nil {
		return m, nil, err
	}
	if err := checkHash(r.Hash); err != nil {
		return m, nil, err
	}
	cfg := m.users()
	u := cfg.User(r.Userid)
	if u == nil {
		return m, nil, tokenExists(cfg, r.Userid, r.Tokenid)
	}
	if u.Token(r.Tokenid) != nil {
		return m, nil, paramErr("tokenid", "Token already exists.")
	}
	full := r.Userid + "!" + r.Tokenid
	store, err := m.Tokens.With(full, r.Hash)
	if err != nil {
		return m, nil, invalid("%v", err)
	}
	t := &usercfg.Token{Privsep: r.Privsep == nil || *r.Privsep}
	res := &TokenCreateResult{FullTokenid: full, Info: TokenInfo{Privsep: b2i(t.Privsep)}}
	if r.Expire != nil {
		t.Expire = *r.Expire
		exp := *r.Expire
		res.Info.Expire = &exp
	}
	if truthy(r.Comment) {
		t.Comment = canonText(r.Comment)
		res.Info.Comment = t.Comment
	}
	e := newEdit(cfg)
	nu := e.user(r.Userid)
	nu.Tokens = nu.Tokens.Set(r.Tokenid, t)
	out := m
	out.Users = e.result()
	out.Tokens = store
	return out, res, nil
}

// UpdateToken changes a token's settings and, with Regenerate, its secret.
// A missing user or token gives "no such user ('U')" / "no such token 'T'
// for user 'U'"; deleting anything but the comment gives Proxmox's error
// from inside its lock, "updating token info failed: 400 Parameter
// verification failed.\ndelete: unknown option 'X'\n" (HTTP 500).
func UpdateToken(m Models, r TokenUpdate) (Models, *TokenUpdateResult, error) {
	if err := checkTokenRef(r.Userid, r.Tokenid, r.Expire); err != nil {
		return m, nil, err
	}
	switch {
	case r.Regenerate:
		if err := checkHash(r.Hash); err != nil {
			return m, nil, err
		}
	case r.Hash != "":
		return m, nil, invalid("a token hash is only accepted with regenerate")
	}
	cfg := m.users()
	if err := tokenExists(cfg, r.Userid, r.Tokenid); err != nil {
		return m, nil, err
	}
	t := cfg.User(r.Userid).Token(r.Tokenid).Clone()
	for _, opt := range r.Delete {
		if opt != "comment" {
			return m, nil, locked("updating token info failed", paramErr("delete", fmt.Sprintf("unknown option '%s'", opt)))
		}
		t.Comment = ""
	}
	if r.Privsep != nil {
		t.Privsep = *r.Privsep
	}
	if r.Expire != nil {
		t.Expire = *r.Expire
	}
	if r.Comment != nil {
		t.Comment = canonText(*r.Comment)
	}
	out := m
	res := &TokenUpdateResult{Privsep: b2i(t.Privsep), Expire: t.Expire, Comment: t.Comment}
	if r.Regenerate {
		full := r.Userid + "!" + r.Tokenid
		store, err := m.Tokens.With(full, r.Hash)
		if err != nil {
			return m, nil, invalid("%v", err)
		}
		out.Tokens = store
		res.FullTokenid = full
	}
	e := newEdit(cfg)
	nu := e.user(r.Userid)
	nu.Tokens = nu.Tokens.Set(r.Tokenid, t)
	out.Users = e.result()
	return out, res, nil
}

// DeleteToken removes a token, its secret hash and every ACL entry of it.
func DeleteToken(m Models, r TokenDelete) (Models, error) {
	if err := checkTokenRef(r.Userid, r.Tokenid, nil); err != nil {
		return m, err
	}
	cfg := m.users()
	if err := tokenExists(cfg, r.Userid, r.Tokenid); err != nil {
		return m, err
	}
	full := r.Userid + "!" + r.Tokenid
	e := newEdit(cfg)
	u := e.user(r.Userid)
	u.Tokens = u.Tokens.Delete(r.Tokenid)
	e.purge(aclFilter{tokens: []string{full}})
	out := m
	out.Users = e.result()
	out.Tokens = m.Tokens.Without(full)
	return out, nil
}
