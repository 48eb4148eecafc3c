package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// BinDirEnv names the environment variable that points the harness at
// already built binaries (pvecfs, pveum, pvecm) instead of building them.
const BinDirEnv = "PVECFS_BIN_DIR"

// RaceEnv names the environment variable that, set to 1, builds the binaries
// with the race detector (-race); their reports land in the node logs and fail
// the test (see Cluster cleanup).
const RaceEnv = "PVECFS_HARNESS_RACE"

// modulePath is the import path of the module whose commands are built.
const modulePath = "github.com/pvecfs/pvecfs"

// Programs lists the binaries the harness needs.
var Programs = []string{"pvecfs", "pveum", "pvecm"}

// builder builds the binaries at most once per process.
type builder struct {
	once   sync.Once
	dir    string
	err    error
	getenv func(string) string
	build  func(dir string) error
}

var defaultBuilder = &builder{getenv: os.Getenv, build: goBuild}

// get returns the binary directory, building it on the first call.
func (b *builder) get() (string, error) {
	b.once.Do(func() {
		if d := b.getenv(BinDirEnv); d != "" {
			b.dir, b.err = checkBinDir(d)
			return
		}
		dir, err := os.MkdirTemp("", "pvecfs-harness-bin-")
		if err != nil {
			b.err = fmt.Errorf("harness: create binary dir: %w", err)
			return
		}
		if err := b.build(dir); err != nil {
			_ = os.RemoveAll(dir)
			b.err = err
			return
		}
		b.dir, b.err = checkBinDir(dir)
	})
	return b.dir, b.err
}

// checkBinDir verifies that dir holds every program in Programs and returns
// its absolute path.
func checkBinDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("harness: binary dir %q: %w", dir, err)
	}
	for _, p := range Programs {
		fi, err := os.Stat(filepath.Join(abs, p))
		if err != nil {
			return "", fmt.Errorf("harness: binary dir %s: %w", abs, err)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("harness: binary dir %s: %s is not an executable file", abs, p)
		}
	}
	return abs, nil
}

// Binaries returns the directory holding freshly built pvecfs, pveum and pvecm
// binaries. They are built once per test binary run (go build from the module
// root) into a temporary directory; with PVECFS_BIN_DIR set, that directory is
// used as is. A build failure fails t, and every later call fails the same way.
func Binaries(t testing.TB) string {
	t.Helper()
	dir, err := defaultBuilder.get()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return dir
}

// RemoveBinaries deletes the binaries built by Binaries (never a directory
// given by PVECFS_BIN_DIR). Call it from TestMain after m.Run if the temporary
// directory should not outlive the test binary.
func RemoveBinaries() {
	b := defaultBuilder
	if b.getenv(BinDirEnv) != "" {
		return
	}
	b.once.Do(func() { b.err = errors.New("harness: binaries removed") })
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// ModuleRoot returns the directory of the go.mod of the pvecfs module, found
// by walking up from the current working directory (a test's package dir).
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("harness: module root: %w", err)
	}
	for dir := wd; ; {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("harness: no go.mod above %s", wd)
		}
		dir = parent
	}
}

// goBuild builds every command of the module into dir.
func goBuild(dir string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	return goBuildIn(root, modulePath+"/cmd/...", dir)
}

// goBuildIn runs `go build -o DIR/ PATTERN` in the module at root.
func goBuildIn(root, pattern, dir string) error {
	args := []string{"build"}
	if os.Getenv(RaceEnv) == "1" {
		args = append(args, "-race")
	}
	args = append(args, "-o", dir+string(filepath.Separator), pattern)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("harness: go %s in %s: %w\n%s", strings.Join(args, " "), root, err, out.Bytes())
	}
	return nil
}
