package harness

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// writePrograms creates executable placeholder programs in dir.
func writePrograms(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, p := range names {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuilderBuildsOnce(t *testing.T) {
	var calls atomic.Int32
	b := &builder{
		getenv: func(string) string { return "" },
		build: func(dir string) error {
			calls.Add(1)
			writePrograms(t, dir, Programs...)
			return nil
		},
	}
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	for i := range dirs {
		wg.Go(func() {
			d, err := b.get()
			if err != nil {
				t.Error(err)
			}
			dirs[i] = d
		})
	}
	wg.Wait()
	t.Cleanup(func() { _ = os.RemoveAll(dirs[0]) })
	if calls.Load() != 1 {
		t.Fatalf("built %d times", calls.Load())
	}
	for _, d := range dirs {
		if d != dirs[0] || !filepath.IsAbs(d) {
			t.Fatalf("dirs differ or not absolute: %v", dirs)
		}
	}
}

func TestBuilderCachesError(t *testing.T) {
	var calls atomic.Int32
	b := &builder{
		getenv: func(string) string { return "" },
		build: func(string) error {
			calls.Add(1)
			return errors.New("compile error")
		},
	}
	for range 3 {
		if _, err := b.get(); err == nil || !strings.Contains(err.Error(), "compile error") {
			t.Fatalf("err = %v", err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("built %d times", calls.Load())
	}
}

func TestBuilderUsesBinDirEnv(t *testing.T) {
	dir := t.TempDir()
	writePrograms(t, dir, Programs...)
	b := &builder{
		getenv: func(k string) string {
			if k == BinDirEnv {
				return dir
			}
			return ""
		},
		build: func(string) error { t.Error("built despite " + BinDirEnv); return nil },
	}
	got, err := b.get()
	if err != nil || got != dir {
		t.Fatalf("get() = %q, %v; want %q", got, err, dir)
	}

	incomplete := t.TempDir()
	writePrograms(t, incomplete, "pvecfs", "pveum")
	b = &builder{getenv: func(string) string { return incomplete }, build: goBuild}
	if _, err := b.get(); err == nil || !strings.Contains(err.Error(), "pvecm") {
		t.Fatalf("missing pvecm: err = %v", err)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(b), "module "+modulePath+"\n") {
		t.Fatalf("go.mod at %s: %v", root, err)
	}
}

// hasGoFiles reports whether dir holds a .go file.
func hasGoFiles(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(m) > 0
}

// TestBinariesRealBuild builds the real commands (once; cached for the
// process), once they exist.
func TestBinariesRealBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module's commands")
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(BinDirEnv) == "" {
		for _, p := range Programs {
			if !hasGoFiles(filepath.Join(root, "cmd", p)) {
				t.Skipf("cmd/%s has no Go files yet", p)
			}
		}
	}
	dir := Binaries(t)
	for _, p := range Programs {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.Mode()&0o111 == 0 {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if again := Binaries(t); again != dir {
		t.Fatalf("second call gave %q, first %q", again, dir)
	}
}

// TestGoBuildCommandForm runs the real go build invocation on a scratch
// module with three main packages and checks the result is accepted.
func TestGoBuildCommandForm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	root := t.TempDir()
	files := map[string]string{"go.mod": "module example.com/scratch\n\ngo 1.21\n"}
	for _, p := range Programs {
		files["cmd/"+p+"/main.go"] = "package main\n\nfunc main() {}\n"
	}
	for name, body := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOWORK", "off")
	out := t.TempDir()
	if err := goBuildIn(root, "example.com/scratch/cmd/...", out); err != nil {
		t.Fatal(err)
	}
	if _, err := checkBinDir(out); err != nil {
		t.Fatal(err)
	}
	if err := goBuildIn(root, "example.com/scratch/nosuch/...", t.TempDir()); err == nil || !strings.Contains(err.Error(), "matched no packages") {
		t.Fatalf("build of nothing: %v", err)
	}
}
