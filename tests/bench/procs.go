package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pvecfs/pvecfs/tests/harness"
)

// Part (b) and (c) run real `pvecfs serve` processes.

type daemon struct {
	name     string
	bin      string // directory holding pvecfs, pvecm
	dataDir  string
	logPath  string
	apiAddr  string
	raftAddr string
	password string
	ctl      *apiClient // control client (status, checksum), logged in as root@pam

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	exitErr error
}

// baseEnv is the environment without inherited PVECFS_* variables.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PVECFS_") {
			env = append(env, kv)
		}
	}
	return env
}

func (d *daemon) start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done != nil {
		select {
		case <-d.done:
		default:
			return fmt.Errorf("start %s: already running (pid %d)", d.name, d.cmd.Process.Pid)
		}
	}
	logf, err := os.OpenFile(d.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", d.name, err)
	}
	args := []string{"serve", "--node", d.name, "--data-dir", d.dataDir, "--api-addr", d.apiAddr, "--raft-addr", d.raftAddr,
		"--raft-heartbeat", benchTiming.Heartbeat.String(), "--raft-election", benchTiming.Election.String(), "--raft-lease", benchTiming.LeaderLease.String()}
	fmt.Fprintf(logf, "=== bench: %s pvecfs %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	cmd := exec.Command(filepath.Join(d.bin, "pvecfs"), args...)
	cmd.Env = append(baseEnv(), "PVECFS_ROOT_PASSWORD="+d.password)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", d.name, err)
	}
	done := make(chan struct{})
	d.cmd, d.done, d.exitErr = cmd, done, nil
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logf, "=== bench: %s exited: %v\n", time.Now().Format(time.RFC3339Nano), err)
		logf.Close()
		d.mu.Lock()
		d.exitErr = err
		d.mu.Unlock()
		close(done)
	}()
	return nil
}

// pid returns the process id of the current process (0 if never started).
func (d *daemon) pid() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil || d.cmd.Process == nil {
		return 0
	}
	return d.cmd.Process.Pid
}

func (d *daemon) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done == nil {
		return false
	}
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the running process and returns its done channel.
func (d *daemon) signal(sig syscall.Signal) (<-chan struct{}, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done == nil {
		return nil, fmt.Errorf("%s: not started", d.name)
	}
	select {
	case <-d.done:
		return d.done, nil
	default:
	}
	if err := d.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return nil, fmt.Errorf("%s: send %v to pid %d: %w", d.name, sig, d.cmd.Process.Pid, err)
	}
	return d.done, nil
}

// stop sends SIGTERM and, after timeout, SIGKILL; it waits for the exit.
func (d *daemon) stop(timeout time.Duration) {
	done, err := d.signal(syscall.SIGTERM)
	if err != nil || done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(timeout):
		if done, err = d.signal(syscall.SIGKILL); err == nil {
			<-done
		}
	}
}

func (d *daemon) waitReady(ctx context.Context, timeout time.Duration) error {
	c := newAPIClient(d.apiAddr, "", "", 1)
	defer c.closeIdle()
	begin := time.Now()
	deadline := begin.Add(timeout)
	var last error
	for {
		if !d.running() {
			return fmt.Errorf("%s exited before it was ready (%v); log %s:\n%s", d.name, d.exitErr, d.logPath, tail(d.logPath, 15))
		}
		if last = c.ready(ctx); last == nil {
			return nil
		}
		var ae *apiError
		if errors.As(last, &ae) && ae.Status == http.StatusNotImplemented && time.Since(begin) > 5*time.Second {
			return fmt.Errorf("%s: %w (this binary does not serve the endpoint)", d.name, last)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v; log %s:\n%s", d.name, timeout, last, d.logPath, tail(d.logPath, 15))
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("%s: wait ready: %w", d.name, err)
		}
	}
}

// cli runs prog from the bin dir against this node's local socket
// (PVECFS_DATA_DIR) and returns its standard output.
func (d *daemon) cli(ctx context.Context, env []string, prog string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, prog), args...)
	cmd.Env = append(append(baseEnv(), "PVECFS_DATA_DIR="+d.dataDir), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s (on %s): %w: %s", prog, strings.Join(args, " "), d.name, err,
			strings.TrimSpace(errb.String()+" "+out.String()))
	}
	return out.String(), nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pveCluster is three pvecfs processes formed into one cluster.
type pveCluster struct {
	nodes []*daemon
}

func (c *pveCluster) byName(name string) *daemon {
	for _, d := range c.nodes {
		if d.name == name {
			return d
		}
	}
	return nil
}

func (c *pveCluster) stop() {
	var wg sync.WaitGroup
	for _, d := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.stop(10 * time.Second)
		}()
	}
	wg.Wait()
}

// startPVECluster starts n nodes and forms the cluster "bench":
// pvecm create on the first, pvecm add on the others.
func startPVECluster(ctx context.Context, o *options, n int) (*pveCluster, error) {
	for _, p := range []string{"pvecfs", "pvecm"} {
		if _, err := os.Stat(filepath.Join(o.bin, p)); err != nil {
			return nil, fmt.Errorf("binary %s: %w (build with: go build -o %s/ ./cmd/...)", p, err, o.bin)
		}
	}
	ports, err := harness.FreePorts(2 * n)
	if err != nil {
		return nil, fmt.Errorf("free ports: %w", err)
	}
	c := &pveCluster{}
	for i := 0; i < n; i++ {
		name := "pve" + strconv.Itoa(i+1)
		dir := filepath.Join(o.work, name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			return nil, fmt.Errorf("node dir: %w", err)
		}
		d := &daemon{name: name, bin: o.bin, dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "log"),
			apiAddr:  "127.0.0.1:" + strconv.Itoa(ports[2*i]),
			raftAddr: "127.0.0.1:" + strconv.Itoa(ports[2*i+1]), password: o.password}
		d.ctl = newAPIClient(d.apiAddr, "root@pam", o.password, 64)
		c.nodes = append(c.nodes, d)
	}
	fail := func(err error) (*pveCluster, error) {
		c.stop()
		return nil, err
	}
	for _, d := range c.nodes {
		if err := d.start(); err != nil {
			return fail(err)
		}
	}
	for _, d := range c.nodes {
		if err := d.waitReady(ctx, 60*time.Second); err != nil {
			return fail(err)
		}
	}
	first := c.nodes[0]
	if _, err := first.cli(ctx, nil, "pvecm", "create", "bench"); err != nil {
		return fail(fmt.Errorf("form cluster: %w", err))
	}
	if err := first.ctl.login(ctx); err != nil {
		return fail(fmt.Errorf("form cluster: %w", err))
	}
	if _, err := c.waitStable(ctx, c.nodes[:1], 30*time.Second); err != nil {
		return fail(fmt.Errorf("form cluster: after pvecm create: %w", err))
	}
	out, err := first.cli(ctx, nil, "pvecfs", "fingerprint", "--data-dir", first.dataDir)
	if err != nil {
		return fail(fmt.Errorf("form cluster: %w", err))
	}
	fp := strings.TrimSpace(out)
	for i, d := range c.nodes[1:] {
		env := []string{"PVECFS_JOIN_PASSWORD=" + o.password}
		if _, err := d.cli(ctx, env, "pvecm", "add", first.apiAddr, "--fingerprint", fp); err != nil {
			return fail(fmt.Errorf("form cluster: %w; log %s:\n%s", err, d.logPath, tail(d.logPath, 15)))
		}
		if err := d.waitReady(ctx, 60*time.Second); err != nil {
			return fail(fmt.Errorf("form cluster: after join: %w", err))
		}
		if err := d.ctl.login(ctx); err != nil {
			return fail(fmt.Errorf("form cluster: after join: %w", err))
		}
		if _, err := c.waitStable(ctx, c.nodes[:i+2], 60*time.Second); err != nil {
			return fail(fmt.Errorf("form cluster: after joining %s: %w", d.name, err))
		}
	}
	return c, nil
}

// waitStable waits until every node in members is quorate, sees exactly the
// members online and names the same leader, which it returns.
func (c *pveCluster) waitStable(ctx context.Context, members []*daemon, timeout time.Duration) (*daemon, error) {
	want := make([]string, 0, len(members))
	for _, d := range members {
		want = append(want, d.name)
	}
	slices.Sort(want)
	deadline := time.Now().Add(timeout)
	var last string
	for {
		leader, why := c.stableLeader(ctx, members, want)
		if leader != nil {
			return leader, nil
		}
		last = why
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("cluster not stable after %s: %s", timeout, last)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return nil, fmt.Errorf("wait for a stable cluster: %w (last: %s)", err, last)
		}
	}
}

func (c *pveCluster) stableLeader(ctx context.Context, members []*daemon, want []string) (*daemon, string) {
	leader := ""
	for _, d := range members {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		st, err := d.ctl.status(sctx)
		cancel()
		if err != nil {
			return nil, fmt.Sprintf("%s: %v", d.name, err)
		}
		var online []string
		for _, m := range st.Nodes {
			if m.Online == 1 {
				online = append(online, m.Name)
			}
		}
		slices.Sort(online)
		switch {
		case st.Quorate != 1:
			return nil, d.name + ": not quorate"
		case st.Leader == "":
			return nil, d.name + ": no leader"
		case leader != "" && st.Leader != leader:
			return nil, fmt.Sprintf("leader disagreement: %s vs %s", leader, st.Leader)
		case !slices.Equal(online, want):
			return nil, fmt.Sprintf("%s: online %v, want %v", d.name, online, want)
		}
		leader = st.Leader
	}
	l := c.byName(leader)
	if l == nil {
		return nil, "leader " + leader + " is not a benchmark node"
	}
	return l, ""
}
