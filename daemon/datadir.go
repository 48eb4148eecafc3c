package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pvecfs/pvecfs/pki"
)

// Files inside the data dir.
const (
	identityFile = "node.json"
	apiCertFile  = "api.crt"
	apiKeyFile   = "api.key"
	nodeCertFile = "node.crt"
	nodeKeyFile  = "node.key"
	caCertFile   = "ca.crt"
	caKeyFile    = "ca.key"
	// SocketName is the local root socket in the data dir.
	SocketName = "pvecfs.sock"
	// RootPasswordFile holds a generated root@pam password (mode 0600).
	RootPasswordFile = "root-password"
	lockFile         = ".lock"
)

// identity is what the data dir remembers about its node.
type identity struct {
	Name        string `json:"name"`
	Initialized bool   `json:"initialized"` // the defaults were applied to the tree
	Joined      bool   `json:"joined"`      // the tree comes from a cluster this node joined
}

func readIdentity(dir string) (*identity, error) {
	b, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		return nil, err
	}
	var id identity
	if err := json.Unmarshal(b, &id); err != nil {
		return nil, fmt.Errorf("data dir %s: corrupt %s: %w", dir, identityFile, err)
	}
	if id.Name == "" {
		return nil, fmt.Errorf("data dir %s: corrupt %s: no node name", dir, identityFile)
	}
	return &id, nil
}

func writeIdentity(dir string, id *identity) error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	return pki.WriteFileAtomic(filepath.Join(dir, identityFile), append(b, '\n'), 0o600)
}

// lockDataDir takes an exclusive flock so two daemons never share a dir.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir %s is in use by another pvecfs process", dir)
	}
	return f, nil
}

// prepareDataDir makes sure dir exists and is usable, and tells a fresh
// dir from one that holds a node.
func prepareDataDir(dir string) (fresh bool, err error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return false, fmt.Errorf("create data dir: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("data dir %s: %w", dir, err)
	case !st.IsDir():
		return false, fmt.Errorf("data dir %s is not a directory", dir)
	}
	_, err = os.Stat(filepath.Join(dir, identityFile))
	if errors.Is(err, fs.ErrNotExist) {
		// a dir with Raft state but no identity was damaged: refuse, never re-bootstrap over it
		if _, rerr := os.Stat(filepath.Join(dir, "raft")); rerr == nil {
			return false, fmt.Errorf("data dir %s holds Raft state but no %s: refusing to start (restore the file or use an empty dir)", dir, identityFile)
		}
		return true, nil
	}
	return false, err
}
