package ticket

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pvecfs/pvecfs/access/ident"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// OpSetPassword is the log command that stores a user's password hash in a
// shadow file (PUT /access/password). The receiving node hashes the password
// before the command enters the log; the command carries only the hash.
const OpSetPassword = "auth.password"

// SetPassword is the body of OpSetPassword.
type SetPassword struct {
	// Userid is the full user ID ("alice@pve"); the file is keyed by its
	// name part.
	Userid string `json:"userid"`
	// Path is the shadow file to write (one of those registered with
	// RegisterCommands).
	Path string `json:"path"`
	// Hash is the crypt(3) hash ("$5$salt$digest").
	Hash string `json:"hash"`
}

// userCfgPath is where user.cfg lives in the tree.
var userCfgPath = usercfg.Format().Path

// RegisterCommands registers OpSetPassword; the command may write only the
// shadow files named (each must be a registered shadow.cfg format).
func RegisterCommands(h *cfs.Handlers, shadowFiles ...string) error {
	allowed := make(map[string]bool, len(shadowFiles))
	for _, f := range shadowFiles {
		allowed[f] = true
	}
	return h.Register(OpSetPassword, func(tx *cfs.Txn, body json.RawMessage) (any, error) {
		var req SetPassword
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, cfs.Errorf(400, cfs.CodeInvalid, "bad request body: %v", err)
		}
		return nil, applySetPassword(tx, &req, allowed)
	})
}

func isCryptHash(h string) bool {
	for _, p := range []string{"$1$", "$5$", "$6$", "$y$"} {
		if strings.HasPrefix(h, p) && len(h) > len(p) {
			return true
		}
	}
	return false
}

func applySetPassword(tx *cfs.Txn, req *SetPassword, allowed map[string]bool) error {
	if !allowed[req.Path] {
		return cfs.Errorf(400, cfs.CodeInvalid, "set password: '%s' is not a password file", req.Path)
	}
	uid, err := ident.ParseUserid(req.Userid)
	if err != nil {
		return cfs.Errorf(400, cfs.CodeInvalid, "%v", err)
	}
	if !isCryptHash(req.Hash) {
		return cfs.Errorf(400, cfs.CodeInvalid, "set password: not a password hash")
	}
	// The user must still exist when the command applies: a password
	// stored for a user deleted meanwhile would wait for a namesake.
	m, err := tx.Model(userCfgPath)
	if err != nil {
		return fmt.Errorf("set password: read %s: %w", userCfgPath, err)
	}
	cfg, ok := m.(*usercfg.Config)
	if !ok {
		return fmt.Errorf("set password: %s has an unexpected model %T", userCfgPath, m)
	}
	if _, ok := cfg.Users[req.Userid]; !ok {
		return cfs.Errorf(500, cfs.CodeNotFound, "no such user ('%s')\n", req.Userid)
	}
	sm, err := tx.Model(req.Path)
	if err != nil {
		return fmt.Errorf("set password: read %s: %w", req.Path, err)
	}
	sh, ok := sm.(*shadow.Shadow)
	if !ok {
		return fmt.Errorf("set password: %s has an unexpected model %T", req.Path, sm)
	}
	nsh, err := sh.With(uid.Name(), req.Hash)
	if err != nil {
		return cfs.Errorf(400, cfs.CodeInvalid, "%v", err)
	}
	if err := tx.PutModel(req.Path, nsh); err != nil {
		return err
	}
	return nil
}
