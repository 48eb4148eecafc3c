package harness

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newFakeNode creates a node running the fake daemon; it is killed at the end.
func newFakeNode(t *testing.T, args ...string) *Node {
	t.Helper()
	n, err := NewNode(NodeConfig{
		Name: "fake1", Dir: filepath.Join(t.TempDir(), "fake1"), BinDir: fakeBinDir(t),
		RootPassword: "pw", Args: args,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n.Running() {
			_ = n.Kill()
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", n.Name, n.LogTail(LogTailLines))
		}
	})
	return n
}

// processGone reports whether no process has the given pid.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestNodeLifecycle(t *testing.T) {
	ctx := testCtx(t)
	n := newFakeNode(t)
	if n.Running() || n.PID() != 0 {
		t.Fatal("running before Start")
	}
	if err := n.Kill(); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Kill before Start: %v", err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Start: %v", err)
	}
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	pid := n.PID()
	if !n.Running() || pid <= 0 {
		t.Fatalf("running %v pid %d", n.Running(), pid)
	}

	fp, err := n.Fingerprint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := n.Client()
	if resp, err := c.Do(ctx, http.MethodGet, "/access/domains", nil); err != nil || resp.Status != 200 {
		t.Fatalf("domains: %v", err)
	}
	if c.PeerFingerprint() != fp {
		t.Fatalf("served certificate %s, fingerprint command %s", c.PeerFingerprint(), fp)
	}
	pc, err := n.PinnedClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Do(ctx, http.MethodGet, "/access/domains", nil); err != nil {
		t.Fatalf("pinned client: %v", err)
	}
	rc, err := n.RootClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := rc.Do(ctx, http.MethodGet, "/cluster/status", nil); err != nil || resp.Status != 200 {
		t.Fatalf("root client: %v %+v", err, resp)
	}

	// SIGKILL: the process is gone, the ports are free again.
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if n.Running() || n.PID() != 0 || !processGone(pid) {
		t.Fatalf("after Kill: running %v pid %d gone %v", n.Running(), n.PID(), processGone(pid))
	}
	if err := n.ExitErr(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("ExitErr after Kill = %v", err)
	}
	if !portFree(portOf(t, n.APIAddr)) {
		t.Fatal("API port still bound after Kill")
	}

	// Restart: same ports, same data dir (so the same certificate).
	api, raft := n.APIAddr, n.RaftAddr
	if err := n.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if n.APIAddr != api || n.RaftAddr != raft || n.PID() == pid || n.Starts() != 2 {
		t.Fatalf("restart changed addresses or pid: %s %s %d (starts %d)", n.APIAddr, n.RaftAddr, n.PID(), n.Starts())
	}
	c2 := n.Client()
	if _, err := c2.Do(ctx, http.MethodGet, "/access/domains", nil); err != nil || c2.PeerFingerprint() != fp {
		t.Fatalf("after restart: %v, certificate %s want %s", err, c2.PeerFingerprint(), fp)
	}
	// Restart of a running node goes through a clean stop.
	pid2 := n.PID()
	if err := n.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if !processGone(pid2) || n.Starts() != 3 {
		t.Fatalf("restart of a running node: old pid %d gone %v, starts %d", pid2, processGone(pid2), n.Starts())
	}

	// SIGTERM: clean exit.
	if err := n.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := n.ExitErr(); err != nil {
		t.Fatalf("ExitErr after clean Stop = %v", err)
	}
	if err := n.Wait(ctx); err != nil {
		t.Fatalf("Wait after Stop = %v", err)
	}
	if err := n.Stop(); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("second Stop: %v", err)
	}
	log := n.LogTail(1000)
	if strings.Count(log, "=== harness: start #") != 3 || !strings.Contains(log, "fake pvecfs: SIGTERM") {
		t.Fatalf("log does not record the starts and the stop:\n%s", log)
	}
	if n.LogTail(1) == "" || strings.Contains(n.LogTail(1), "\n") {
		t.Fatalf("LogTail(1) = %q", n.LogTail(1))
	}
}

// portOf returns the port of a HOST:PORT address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNodeStopFallsBackToKill(t *testing.T) {
	old := stopTimeout
	stopTimeout = 300 * time.Millisecond
	t.Cleanup(func() { stopTimeout = old })
	ctx := testCtx(t)
	n := newFakeNode(t, "--ignore-sigterm")
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	pid := n.PID()
	err := n.Stop()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop of a process ignoring SIGTERM: %v", err)
	}
	if n.Running() || !processGone(pid) {
		t.Fatal("still running after Stop fallback")
	}
}

func TestNodeWaitReadyNoticesExit(t *testing.T) {
	ctx := testCtx(t)
	n := newFakeNode(t)
	if err := os.MkdirAll(n.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.DataDir, "crash-on-start"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := n.WaitReady(ctx)
	if err == nil || !strings.Contains(err.Error(), "process exited") || !strings.Contains(err.Error(), "panic: fake crash") {
		t.Fatalf("WaitReady on a crashing node: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("WaitReady took %s to notice the exit", time.Since(start))
	}
	if p := scanLog(n.LogPath); len(p) != 1 || p[0] != "panic: fake crash on start" {
		t.Fatalf("scanLog = %q", p)
	}
	if n.exitRequested() {
		t.Fatal("a crash counted as requested exit")
	}
}

func TestNodeWaitReadyTimeout(t *testing.T) {
	n := newFakeNode(t)
	// Never started: nothing listens, but WaitReady must still end with ctx.
	n.mu.Lock()
	n.done = make(chan struct{}) // pretend running so only ctx can end the wait
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := n.WaitReady(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady = %v, want deadline exceeded", err)
	}
	n.mu.Lock()
	close(n.done)
	n.mu.Unlock()
}

func TestNodeCLI(t *testing.T) {
	ctx := testCtx(t)
	t.Setenv("PVECFS_TOKEN", "outer@pam!x=leak")
	n := newFakeNode(t)

	out, errOut, code, err := n.CLIStdin(ctx, "file body\n", []string{"PVECFS_EXTRA=1"}, "pveum", "user", "add", "a@pve", "--comment", "x y")
	if err != nil || code != 0 {
		t.Fatalf("pveum: %v %d %s", err, code, errOut)
	}
	var got struct {
		Args  []string
		Env   []string
		Stdin string
	}
	if err := jsonUnmarshalString(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if strings.Join(got.Args, "|") != "user|add|a@pve|--comment|x y" || got.Stdin != "file body\n" {
		t.Fatalf("args %q stdin %q", got.Args, got.Stdin)
	}
	env := strings.Join(got.Env, "\n")
	if !strings.Contains(env, "PVECFS_DATA_DIR="+n.DataDir) || !strings.Contains(env, "PVECFS_EXTRA=1") || strings.Contains(env, "PVECFS_TOKEN") {
		t.Fatalf("environment %q", got.Env)
	}

	_, errOut, code, err = n.CLI(ctx, nil, "pveum", "fail", "3")
	if err != nil || code != 3 || !strings.Contains(errOut, "failing as asked") {
		t.Fatalf("failing CLI: err %v code %d stderr %q", err, code, errOut)
	}

	if _, _, _, err := n.CLI(ctx, nil, "../pveum"); err == nil {
		t.Fatal("program with a path: no error")
	}
	if _, _, _, err := n.CLI(ctx, nil, "nosuch"); err == nil {
		t.Fatal("missing program: no error")
	}

	// A CLI that does not end is stopped by ctx.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, _, code, err = n.CLI(short, nil, "pvecfs", "serve", "--node", "x", "--data-dir", t.TempDir(),
		"--api-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0")
	if !errors.Is(err, context.DeadlineExceeded) || code != -1 {
		t.Fatalf("hanging CLI: err %v code %d", err, code)
	}
}
