package mutate

import (
	"github.com/pvecfs/pvecfs/cfs"
)

// PasswordChange is PUT /access/password. The receiving node hashes the new
// password (shadow.Hash with a fresh salt) before the log.
type PasswordChange struct {
	// Userid is the user whose password changes.
	Userid string `json:"userid"`
	// Hash is the new password's crypt(3) hash.
	Hash string `json:"hash"`
	// CheckEnabled is set when users change their own password: the user
	// must then be enabled and not expired (check_user_enabled), judged at
	// the command's stamp time.
	CheckEnabled bool `json:"check-enabled,omitempty"`
}

// ChangePassword stores a new password hash through the user's realm: pve →
// priv/shadow.cfg, pam → priv/pam-shadow.cfg; other realm types give
// "can't set password on auth type 'X'". now is the command's stamp time
// (unix seconds), never the clock.
func ChangePassword(m Models, r PasswordChange, now int64) (Models, error) {
	if err := checkUserid("userid", r.Userid); err != nil {
		return m, err
	}
	if err := checkPasswordHash(r.Hash); err != nil {
		return m, err
	}
	u := m.users().User(r.Userid)
	if u == nil {
		return m, die(cfs.CodeNotFound, "no such user ('%s')", r.Userid)
	}
	if r.CheckEnabled {
		if !u.Enable {
			return m, die("", "user '%s' is disabled", r.Userid)
		}
		if u.Expire != 0 && u.Expire < now {
			return m, die("", "user '%s' access expired", r.Userid)
		}
	}
	return setPassword(m, r.Userid, r.Hash)
}
