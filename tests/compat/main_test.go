package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/tests/harness"
)

// startTimeout bounds starting a node until it is ready (a fresh node is
// ready within seconds).
const startTimeout = 45 * time.Second

// buildErr is the error of building the server binaries in TestMain, if any.
var buildErr error

// TestMain builds pvecfs, pveum and pvecm from the repository root and points
// the harness at them through PVECFS_BIN_DIR. The harness cannot build them
// itself here: it looks for the module root by walking up to the first go.mod,
// which from this directory is this nested module's, not the server's.
func TestMain(m *testing.M) {
	cleanup := func() {}
	if os.Getenv(harness.BinDirEnv) == "" {
		dir, err := buildServer()
		if err != nil {
			buildErr = err
		} else {
			cleanup = func() { _ = os.RemoveAll(dir) }
			if err := os.Setenv(harness.BinDirEnv, dir); err != nil {
				buildErr = fmt.Errorf("set %s: %w", harness.BinDirEnv, err)
			}
		}
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// repoRoot returns the server repository root: the directory two levels up
// from this package that holds a go.mod declaring the server module.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repo root: %w", err)
	}
	root := filepath.Clean(filepath.Join(wd, "..", ".."))
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("repo root %s: %w", root, err)
	}
	if !bytes.Contains(gomod, []byte("module github.com/pvecfs/pvecfs\n")) {
		return "", fmt.Errorf("repo root %s: go.mod is not the github.com/pvecfs/pvecfs module", root)
	}
	return root, nil
}

// buildServer runs `go build -o DIR/ ./cmd/...` in the repository root and
// returns DIR, checking that every program the harness needs is there.
func buildServer() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "pvecfs-compat-bin-")
	if err != nil {
		return "", fmt.Errorf("build server: %w", err)
	}
	args := []string{"build"}
	if os.Getenv(harness.RaceEnv) == "1" {
		args = append(args, "-race")
	}
	args = append(args, "-o", dir+string(filepath.Separator), "./cmd/...")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("build server: go %v in %s: %w\n%s", args, root, err, out)
	}
	var missing []error
	for _, p := range harness.Programs {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			missing = append(missing, fmt.Errorf("%s was not built (does %s/cmd/%s hold a main package?)", p, root, p))
		}
	}
	if err := errors.Join(missing...); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("build server: %w", err)
	}
	return dir, nil
}

// needServer fails t if the server binaries could not be built.
func needServer(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("server binaries: %v", buildErr)
	}
}
