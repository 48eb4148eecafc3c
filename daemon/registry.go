package daemon

import (
	"fmt"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/tokens"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
	"github.com/pvecfs/pvecfs/cluster"
)

// PamShadowPath holds password hashes of pam-realm users: pvecfs has no
// PAM, so root@pam's password lives in the tree in shadow.cfg format.
const PamShadowPath = "priv/pam-shadow.cfg"

// NewTree builds an empty tree with every registered file format and
// command handler of pvecfs.
func NewTree() (*cfs.Tree, error) {
	reg := cfs.NewRegistry()
	h := cfs.NewHandlers()
	if err := cluster.RegisterCommands(reg, h); err != nil {
		return nil, fmt.Errorf("register cluster commands: %w", err)
	}
	sh := shadow.Format()
	for _, f := range []cfs.Format{sh, {Path: PamShadowPath, Parse: sh.Parse},
		usercfg.Format(), tokens.Format(), domains.Format()} {
		if err := reg.Register(f); err != nil {
			return nil, fmt.Errorf("register %s: %w", f.Path, err)
		}
	}
	if err := mutate.Register(h); err != nil {
		return nil, fmt.Errorf("register access commands: %w", err)
	}
	return cfs.NewTree(reg, h), nil
}
