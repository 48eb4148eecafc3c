package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StopTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
const StopTimeout = 10 * time.Second

// stopTimeout is StopTimeout; tests shorten it.
var stopTimeout = StopTimeout

// killWait bounds the wait for a SIGKILLed process to be reaped.
const killWait = 30 * time.Second

// defaultCLITimeout bounds a CLI run whose context has no deadline.
const defaultCLITimeout = 2 * time.Minute

// pollInterval is the period of the readiness and condition polls.
const pollInterval = 50 * time.Millisecond

// ErrNotRunning is returned when a process operation needs a running node.
var ErrNotRunning = errors.New("node is not running")

// ErrRunning is returned by Start when the node is already running.
var ErrRunning = errors.New("node is already running")

// NodeConfig describes a node before it is created.
type NodeConfig struct {
	// Name is the node name (--node).
	Name string
	// Dir is the node's own directory: the data dir is Dir/data and the
	// process log Dir/<Name>.log. It is created if missing.
	Dir string
	// BinDir holds pvecfs, pveum and pvecm (see Binaries).
	BinDir string
	// RootPassword is passed as PVECFS_ROOT_PASSWORD on every start.
	RootPassword string
	// LogFormat is passed as --log-format unless empty.
	LogFormat string
	// Env holds extra KEY=VALUE entries for the daemon's environment.
	Env []string
	// Args holds extra arguments appended to the serve command line.
	Args []string
	// APIPort and RaftPort are used if non-zero; otherwise FreePorts picks.
	APIPort, RaftPort int
}

// Node is one pvecfs serve process with its own data dir and ports. Its
// methods are safe for concurrent use.
type Node struct {
	// Name is the node name.
	Name string
	// Dir is the node's directory (holds DataDir and LogPath).
	Dir string
	// DataDir is the --data-dir.
	DataDir string
	// APIAddr is the --api-addr, 127.0.0.1:PORT.
	APIAddr string
	// RaftAddr is the --raft-addr, 127.0.0.1:PORT.
	RaftAddr string
	// LogPath is the file receiving the process's stdout and stderr, across
	// restarts.
	LogPath string
	// RootPassword is the root@pam password the node was started with.
	RootPassword string
	// BinDir holds the programs.
	BinDir string

	logFormat string
	env       []string
	args      []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when the current process has been reaped
	waitErr error         // the current or last process's exit error
	starts  int
	fp      string
	stopped bool // the harness signalled the current process
}

// NewNode creates a node (not started) from cfg, reserving ports as needed.
func NewNode(cfg NodeConfig) (*Node, error) {
	if cfg.Name == "" || cfg.Dir == "" || cfg.BinDir == "" {
		return nil, errors.New("harness: NewNode: Name, Dir and BinDir are required")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: node %s: %w", cfg.Name, err)
	}
	need := 0
	if cfg.APIPort == 0 {
		need++
	}
	if cfg.RaftPort == 0 {
		need++
	}
	if need > 0 {
		ps, err := FreePorts(need)
		if err != nil {
			return nil, fmt.Errorf("harness: node %s: %w", cfg.Name, err)
		}
		if cfg.APIPort == 0 {
			cfg.APIPort, ps = ps[0], ps[1:]
		}
		if cfg.RaftPort == 0 {
			cfg.RaftPort = ps[0]
		}
	}
	return &Node{
		Name:         cfg.Name,
		Dir:          cfg.Dir,
		DataDir:      filepath.Join(cfg.Dir, "data"),
		APIAddr:      net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.APIPort)),
		RaftAddr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.RaftPort)),
		LogPath:      filepath.Join(cfg.Dir, cfg.Name+".log"),
		RootPassword: cfg.RootPassword,
		BinDir:       cfg.BinDir,
		logFormat:    cfg.LogFormat,
		env:          append([]string(nil), cfg.Env...),
		args:         append([]string(nil), cfg.Args...),
	}, nil
}

// String returns the node name.
func (n *Node) String() string { return n.Name }

// ServeArgs returns the pvecfs command line (without the program) that Start runs.
func (n *Node) ServeArgs() []string {
	a := []string{"serve", "--node", n.Name, "--data-dir", n.DataDir,
		"--api-addr", n.APIAddr, "--raft-addr", n.RaftAddr}
	if n.logFormat != "" {
		a = append(a, "--log-format", n.logFormat)
	}
	return append(a, n.args...)
}

// Start launches pvecfs serve in the background; it does not wait for
// readiness (see WaitReady). Output is appended to LogPath.
func (n *Node) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", n.Name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.runningLocked() {
		return fmt.Errorf("start %s: %w", n.Name, ErrRunning)
	}
	logf, err := os.OpenFile(n.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", n.Name, err)
	}
	args := n.ServeArgs()
	n.starts++
	fmt.Fprintf(logf, "=== harness: start #%d of %s at %s: pvecfs %s\n",
		n.starts, n.Name, time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	cmd := exec.Command(filepath.Join(n.BinDir, "pvecfs"), args...)
	cmd.Env = append(baseEnv(), "PVECFS_ROOT_PASSWORD="+n.RootPassword)
	cmd.Env = append(cmd.Env, n.env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Dir = n.Dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(logf, "=== harness: start failed: %v\n", err)
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", n.Name, err)
	}
	done := make(chan struct{})
	n.cmd, n.done, n.waitErr, n.stopped = cmd, done, nil, false
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logf, "=== harness: %s (pid %d) exited at %s: %s\n",
			n.Name, cmd.Process.Pid, time.Now().Format(time.RFC3339Nano), exitText(err))
		_ = logf.Close()
		n.mu.Lock()
		n.waitErr = err
		n.mu.Unlock()
		close(done)
	}()
	return nil
}

// exitText describes a Wait result.
func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// runningLocked reports whether a started process has not been reaped yet.
// Callers hold n.mu.
func (n *Node) runningLocked() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Running reports whether the node's process is running (started and not yet
// exited).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runningLocked()
}

// PID returns the process id of the running process, or 0.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.runningLocked() {
		return 0
	}
	return n.cmd.Process.Pid
}

// Starts returns how many times the node has been started.
func (n *Node) Starts() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.starts
}

// ExitErr returns the exit error of the last process that exited (nil for
// exit status 0, or if none has exited).
func (n *Node) ExitErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.runningLocked() {
		return nil
	}
	return n.waitErr
}

// Wait blocks until the current process exits or ctx ends, and returns its
// exit error (nil for exit status 0). It returns ErrNotRunning if no process
// was ever started.
func (n *Node) Wait(ctx context.Context) error {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return fmt.Errorf("wait %s: %w", n.Name, ErrNotRunning)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("wait %s: %w", n.Name, ctx.Err())
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.waitErr
}

// current returns the running process and its done channel, marking its
// exit as requested by the harness.
func (n *Node) current() (*os.Process, chan struct{}, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.runningLocked() {
		return nil, nil, ErrNotRunning
	}
	n.stopped = true
	return n.cmd.Process, n.done, nil
}

// exitRequested reports whether the harness signalled the current or last
// process (Kill, Stop).
func (n *Node) exitRequested() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopped
}

// Kill sends SIGKILL and waits until the process is reaped.
func (n *Node) Kill() error {
	p, done, err := n.current()
	if err != nil {
		return fmt.Errorf("kill %s: %w", n.Name, err)
	}
	if err := p.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", n.Name, p.Pid, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("kill %s (pid %d): not reaped within %s of SIGKILL", n.Name, p.Pid, killWait)
	}
}

// Stop sends SIGTERM and waits for the process to exit; after StopTimeout it
// sends SIGKILL. It returns an error if SIGKILL was needed or the process did
// not exit with status 0 (the contract: SIGTERM shuts down cleanly).
func (n *Node) Stop() error {
	p, done, err := n.current()
	if err != nil {
		return fmt.Errorf("stop %s: %w", n.Name, err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s (pid %d): %w", n.Name, p.Pid, err)
	}
	select {
	case <-done:
	case <-time.After(stopTimeout):
		if err := p.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("stop %s (pid %d): no exit within %s of SIGTERM; SIGKILL: %w", n.Name, p.Pid, stopTimeout, err)
		}
		select {
		case <-done:
		case <-time.After(killWait):
			return fmt.Errorf("stop %s (pid %d): not reaped within %s of SIGKILL", n.Name, p.Pid, killWait)
		}
		return fmt.Errorf("stop %s (pid %d): no exit within %s of SIGTERM; killed", n.Name, p.Pid, stopTimeout)
	}
	if err := n.ExitErr(); err != nil {
		return fmt.Errorf("stop %s (pid %d): unclean exit after SIGTERM: %w", n.Name, p.Pid, err)
	}
	return nil
}

// Restart stops the node if it is running (SIGTERM, see Stop), starts it
// again with the same ports and data dir, and waits until it is ready. A
// Stop error is returned only if the node could not be restarted; use Stop
// and Start to check the shutdown itself.
func (n *Node) Restart(ctx context.Context) error {
	if n.Running() {
		if err := n.Stop(); err != nil && n.Running() {
			return fmt.Errorf("restart %s: %w", n.Name, err)
		}
	}
	if err := n.Start(ctx); err != nil {
		return fmt.Errorf("restart %s: %w", n.Name, err)
	}
	if err := n.WaitReady(ctx); err != nil {
		return fmt.Errorf("restart %s: %w", n.Name, err)
	}
	return nil
}

// WaitReady polls GET /api2/json/access/domains until it answers 200. It
// fails early, with the tail of the log, if the process exits.
func (n *Node) WaitReady(ctx context.Context) error {
	c := n.Client()
	c.HTTP.Timeout = 2 * time.Second
	defer c.HTTP.CloseIdleConnections()
	var last string
	ready := func() bool {
		resp, err := c.Do(ctx, http.MethodGet, "/access/domains", nil)
		switch {
		case err != nil:
			last = err.Error()
		case resp.Status != http.StatusOK:
			last = fmt.Sprintf("HTTP %d %s", resp.Status, resp.Reason)
		default:
			return true
		}
		return false
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		if !n.Running() {
			return fmt.Errorf("wait ready %s: process exited (%s); log tail:\n%s",
				n.Name, exitText(n.ExitErr()), n.LogTail(20))
		}
		if ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait ready %s at %s: %w (last: %s)", n.Name, n.APIAddr, ctx.Err(), last)
		case <-t.C:
		}
	}
}

// Client returns a new, unauthenticated API client for the node that accepts
// any server certificate (its fingerprint is still recorded; see
// PeerFingerprint and PinnedClient).
func (n *Node) Client() *Client { return NewClient(n.APIAddr, "") }

// PinnedClient returns a new, unauthenticated API client that only accepts
// the node's certificate, as reported by Fingerprint.
func (n *Node) PinnedClient(ctx context.Context) (*Client, error) {
	fp, err := n.Fingerprint(ctx)
	if err != nil {
		return nil, err
	}
	return NewClient(n.APIAddr, fp), nil
}

// RootClient returns a new client for the node logged in as root@pam with
// RootPassword.
func (n *Node) RootClient(ctx context.Context) (*Client, error) {
	c := n.Client()
	if err := c.Login(ctx, "root@pam", n.RootPassword); err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	return c, nil
}

// fingerprintRE matches a SHA-256 fingerprint AA:BB:...
var fingerprintRE = regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)

// Fingerprint returns the node's API certificate fingerprint from
// `pvecfs fingerprint --data-dir DIR` (cached after the first success; the
// certificate exists once the node has started).
func (n *Node) Fingerprint(ctx context.Context) (string, error) {
	n.mu.Lock()
	fp := n.fp
	n.mu.Unlock()
	if fp != "" {
		return fp, nil
	}
	out, errOut, code, err := n.CLI(ctx, nil, "pvecfs", "fingerprint", "--data-dir", n.DataDir)
	if err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", n.Name, err)
	}
	if code != 0 {
		return "", fmt.Errorf("fingerprint %s: exit status %d: %s", n.Name, code, strings.TrimSpace(errOut))
	}
	fp = strings.TrimSpace(out)
	if !fingerprintRE.MatchString(fp) {
		return "", fmt.Errorf("fingerprint %s: unexpected output %q", n.Name, out)
	}
	n.mu.Lock()
	n.fp = fp
	n.mu.Unlock()
	return fp, nil
}

// CLI runs prog (pvecfs, pveum or pvecm from BinDir) against this node's
// local socket: PVECFS_DATA_DIR is set to DataDir, inherited PVECFS_*
// variables are dropped, and env (KEY=VALUE) is added last. exitCode is the
// program's exit status; err is non-nil only if the program could not be run
// or ctx ended (a context without deadline gets a 2-minute limit).
func (n *Node) CLI(ctx context.Context, env []string, prog string, args ...string) (stdout, stderr string, exitCode int, err error) {
	return n.CLIStdin(ctx, "", env, prog, args...)
}

// CLIStdin is CLI with stdin as the program's standard input (e.g. for
// `pvecfs put PATH`).
func (n *Node) CLIStdin(ctx context.Context, stdin string, env []string, prog string, args ...string) (stdout, stderr string, exitCode int, err error) {
	if prog == "" || strings.ContainsAny(prog, `/\`) || prog == "." || prog == ".." {
		return "", "", -1, fmt.Errorf("cli %s: invalid program name %q", n.Name, prog)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultCLITimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, filepath.Join(n.BinDir, prog), args...)
	cmd.Env = append(baseEnv(), "PVECFS_DATA_DIR="+n.DataDir)
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = n.Dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	var so, se bytes.Buffer
	cmd.Stdout = &so
	cmd.Stderr = &se
	runErr := cmd.Run()
	stdout, stderr = so.String(), se.String()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return stdout, stderr, -1, fmt.Errorf("cli %s: %s %s: %w", n.Name, prog, strings.Join(args, " "), ctxErr)
	}
	var ee *exec.ExitError
	switch {
	case runErr == nil:
		return stdout, stderr, 0, nil
	case errors.As(runErr, &ee) && ee.Exited():
		return stdout, stderr, ee.ExitCode(), nil
	default:
		return stdout, stderr, -1, fmt.Errorf("cli %s: %s %s: %w", n.Name, prog, strings.Join(args, " "), runErr)
	}
}

// baseEnv returns the test process's environment without PVECFS_* variables,
// so the outer environment cannot change what the nodes and CLIs do.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PVECFS_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// LogTail returns the last lines lines of the node's log file.
func (n *Node) LogTail(lines int) string {
	return tailFile(n.LogPath, lines)
}

// tailFile returns the last lines lines of the file at path (reading at most
// its last 1 MiB), or a note saying why it cannot.
func tailFile(path string, lines int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	const window = 1 << 20
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log: %v)", err)
	}
	off := max(fi.Size()-window, 0)
	buf := make([]byte, fi.Size()-off)
	nr, err := f.ReadAt(buf, off)
	if err != nil && nr < len(buf) && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(log: %v)", err)
	}
	buf = bytes.TrimRight(buf[:nr], "\n")
	if lines <= 0 || len(buf) == 0 {
		return ""
	}
	all := bytes.Split(buf, []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}
