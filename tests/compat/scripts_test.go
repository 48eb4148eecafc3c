package compat

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/tests/harness"
)

// systemPython is Debian's interpreter, the one that sees python3-proxmoxer
// (a pyenv or venv python does not).
const systemPython = "/usr/bin/python3"

// scriptTimeout bounds one client script run.
const scriptTimeout = 90 * time.Second

// TestProxmoxer replays the proxmoxer 1.2.0 flow (python/proxmoxer_flow.py)
// against a real one-node cluster.
func TestProxmoxer(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("proxmoxer test needs Debian's %s: %v (scripts/compat.sh installs python3-proxmoxer)", systemPython, err)
	}
	out, err := exec.Command(systemPython, "-c", "import proxmoxer, requests; print(proxmoxer.__version__)").CombinedOutput()
	if err != nil {
		t.Skipf("proxmoxer test: %s cannot import proxmoxer and requests (apt-get install python3-proxmoxer python3-requests, as scripts/compat.sh does): %v: %s",
			systemPython, err, strings.TrimSpace(string(out)))
	}
	if v := strings.TrimSpace(string(out)); v != "1.2.0" {
		t.Skipf("proxmoxer test targets proxmoxer 1.2.0 (Debian python3-proxmoxer); %s has %s", systemPython, v)
	}
	script, err := filepath.Abs(filepath.Join("python", "proxmoxer_flow.py"))
	if err != nil {
		t.Fatal(err)
	}
	runClientScript(t, "proxmoxer", "", systemPython, script)
}

// TestProxmoxAPI replays the npm proxmox-api 1.1.1 flow
// (js/proxmox_api_flow.js) against a real one-node cluster.
func TestProxmoxAPI(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skipf("proxmox-api test needs node: %v", err)
	}
	dir, err := filepath.Abs("js")
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "node_modules", "proxmox-api", "package.json")
	b, err := os.ReadFile(pkg)
	if err != nil {
		t.Skipf("proxmox-api test: the npm package is not installed (%v); run scripts/compat.sh or `npm ci` in tests/compat/js", err)
	}
	if !bytes.Contains(b, []byte(`"version": "1.1.1"`)) {
		t.Skipf("proxmox-api test targets proxmox-api 1.1.1; %s is another version", pkg)
	}
	runClientScript(t, "proxmox-api", dir, node, filepath.Join(dir, "proxmox_api_flow.js"))
}

// runClientScript starts a one-node cluster (`pvecm create`, so that
// /cluster/status has its cluster entry), runs cmd against it with the
// COMPAT_* environment (in dir, if not empty) and turns every
// "FAIL <step>: <why>" line of its output into a test error.
func runClientScript(t *testing.T, name, dir string, argv ...string) {
	t.Helper()
	needServer(t)
	hc := harness.NewCluster(t, 1, harness.WithTimeout(startTimeout))
	node := hc.Nodes[0]
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := hc.Form(ctx); err != nil {
		// The flow still runs; its cluster step reports what is missing.
		t.Errorf("forming the one-node cluster: %v", err)
	}
	fp := nodeFingerprint(ctx, t, node)
	host, port, ok := strings.Cut(node.APIAddr, ":")
	if !ok {
		t.Fatalf("API address %q", node.APIAddr)
	}

	sctx, scancel := context.WithTimeout(ctx, scriptTimeout)
	defer scancel()
	run := exec.CommandContext(sctx, argv[0], argv[1:]...)
	run.Dir = dir
	run.Env = append(os.Environ(),
		"COMPAT_HOST="+host,
		"COMPAT_PORT="+port,
		"COMPAT_ROOT_PASSWORD="+node.RootPassword,
		"COMPAT_NODE="+node.Name,
		"COMPAT_CLUSTER="+hc.Name,
		"COMPAT_FINGERPRINT="+fp,
		"PYTHONDONTWRITEBYTECODE=1",
		"NODE_NO_WARNINGS=1",
	)
	run.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	runErr := run.Run()

	var fails, passes int
	summary := ""
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "PASS "):
			passes++
			t.Logf("%s: %s", name, line)
		case strings.HasPrefix(line, "FAIL "):
			fails++
			t.Errorf("%s: %s", name, strings.TrimPrefix(line, "FAIL "))
		case strings.HasPrefix(line, "SUMMARY "):
			summary = line
			t.Logf("%s: %s", name, line)
		case strings.HasPrefix(line, "SKIP "):
			t.Skipf("%s: %s", name, strings.TrimPrefix(line, "SKIP "))
		default:
			t.Logf("%s stdout: %s", name, line)
		}
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("%s stderr:\n%s", name, s)
	}
	var ee *exec.ExitError
	switch {
	case sctx.Err() != nil:
		t.Errorf("%s: the flow did not finish within %s (passed %d, failed %d so far)", name, scriptTimeout, passes, fails)
	case runErr == nil && fails == 0 && summary != "":
	case runErr == nil && summary == "":
		t.Errorf("%s: the script exited 0 without a SUMMARY line", name)
	case errors.As(runErr, &ee) && fails > 0:
		// Already reported step by step.
	default:
		t.Errorf("%s: %s", name, describeRun(runErr, stderr.String()))
	}
}

// describeRun explains a script run that failed without reporting a step.
func describeRun(err error, stderr string) string {
	if err == nil {
		return "the script reported failures but exited 0"
	}
	return fmt.Sprintf("the script failed without reporting a step: %v: %s", err, clip(stderr, 2000))
}
