package mutate

import (
	"fmt"
	"net/http"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

// File paths (relative to the tree root) the mutations read and write.
const (
	// UserCfgPath is user.cfg.
	UserCfgPath = "user.cfg"
	// PAMShadowPath holds the password hashes of the pam realm, in
	// shadow.cfg's format keyed by bare user name; pvecfs keeps them in the
	// tree instead of running usermod on one node.
	PAMShadowPath = "priv/pam-shadow.cfg"
)

// PAMShadowFormat returns the registered format of priv/pam-shadow.cfg
// (shadow.cfg's parser under PAMShadowPath), for the daemon to register.
func PAMShadowFormat() cfs.Format {
	f := shadow.Format()
	f.Path = PAMShadowPath
	return f
}

// Models is the set of access-control files a mutation reads and writes.
// A mutation returns a new Models in which only the files it changed are new
// values; the others are the same pointers. A nil field reads as the empty
// file (user.cfg and domains.cfg with Proxmox's defaults).
type Models struct {
	// Users is user.cfg.
	Users *usercfg.Config
	// Tokens is priv/token.cfg (secret hashes).
	Tokens *tokens.Store
	// Shadow is priv/shadow.cfg (pve realm password hashes).
	Shadow *shadow.Shadow
	// PAMShadow is priv/pam-shadow.cfg (pam realm password hashes).
	PAMShadow *shadow.Shadow
	// Domains is domains.cfg.
	Domains *domains.Domains
}

func (m Models) users() *usercfg.Config {
	if m.Users == nil {
		return usercfg.New()
	}
	return m.Users
}

func (m Models) domains() *domains.Domains {
	if m.Domains == nil {
		return domains.New()
	}
	return m.Domains
}

// files names which models a handler loads.
type files uint8

const (
	fUsers files = 1 << iota
	fTokens
	fShadow
	fPAMShadow
	fDomains
)

// loaded is a handler's view of the models in a transaction.
type loaded struct {
	tx     *cfs.Txn
	m      Models
	pamErr error // why priv/pam-shadow.cfg could not be loaded (unregistered)
}

func model[T cfs.Model](tx *cfs.Txn, path string) (T, error) {
	var zero T
	m, err := tx.Model(path)
	if err != nil {
		return zero, err
	}
	t, ok := m.(T)
	if !ok {
		return zero, &cfs.Error{Status: http.StatusInternalServerError, Message: fmt.Sprintf("internal error: %s holds a %T model", path, m)}
	}
	return t, nil
}

// load reads the models named by which from the transaction. The pam shadow
// file is optional: if its format is not registered, it reads as empty and
// storing a change to it fails.
func load(tx *cfs.Txn, which files) (*loaded, error) {
	l := &loaded{tx: tx}
	var err error
	if which&fUsers != 0 {
		if l.m.Users, err = model[*usercfg.Config](tx, UserCfgPath); err != nil {
			return nil, err
		}
	}
	if which&fTokens != 0 {
		if l.m.Tokens, err = model[*tokens.Store](tx, tokens.Path); err != nil {
			return nil, err
		}
	}
	if which&fShadow != 0 {
		if l.m.Shadow, err = model[*shadow.Shadow](tx, shadow.Path); err != nil {
			return nil, err
		}
	}
	if which&fPAMShadow != 0 {
		if l.m.PAMShadow, err = model[*shadow.Shadow](tx, PAMShadowPath); err != nil {
			l.m.PAMShadow, l.pamErr = nil, err
		}
	}
	if which&fDomains != 0 {
		if l.m.Domains, err = model[*domains.Domains](tx, domains.Path); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// store writes every model that differs from the loaded one.
func (l *loaded) store(n Models) error {
	put := func(path string, changed bool, m cfs.Model) error {
		if !changed {
			return nil
		}
		if dir := parentDir(path); dir != "" {
			if err := l.tx.MkdirAll(dir); err != nil {
				return err
			}
		}
		return l.tx.PutModel(path, m)
	}
	if err := put(UserCfgPath, n.Users != l.m.Users && n.Users != nil, n.Users); err != nil {
		return err
	}
	if err := put(tokens.Path, n.Tokens != l.m.Tokens && n.Tokens != nil, n.Tokens); err != nil {
		return err
	}
	if err := put(shadow.Path, n.Shadow != l.m.Shadow && n.Shadow != nil, n.Shadow); err != nil {
		return err
	}
	if n.PAMShadow != l.m.PAMShadow && n.PAMShadow != nil {
		if l.pamErr != nil {
			return l.pamErr
		}
		if err := put(PAMShadowPath, true, n.PAMShadow); err != nil {
			return err
		}
	}
	return put(domains.Path, n.Domains != l.m.Domains && n.Domains != nil, n.Domains)
}

func parentDir(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return ""
}
