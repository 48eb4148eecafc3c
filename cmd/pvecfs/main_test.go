package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/api"
	"github.com/pvecfs/pvecfs/cfs"
	"github.com/pvecfs/pvecfs/cli"
	"github.com/pvecfs/pvecfs/cluster"
	"github.com/pvecfs/pvecfs/pki"
)

// testModel is the model of the test format: lines not starting with "bad".
type testModel struct{ lines []string }

func (m testModel) Render() []byte {
	if len(m.lines) == 0 {
		return nil
	}
	return []byte(strings.Join(m.lines, "\n") + "\n")
}

func parseTest(data []byte) (cfs.Model, []string, error) {
	var m testModel
	var warns []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(l, "bad") {
			warns = append(warns, "ignoring line '"+l+"'")
			continue
		}
		if l != "" {
			m.lines = append(m.lines, l)
		}
	}
	return m, warns, nil
}

// node serves the real raw-file and lock endpoints over a local backend on
// DIR/pvecfs.sock, as the daemon's root socket does.
type node struct {
	dir string
}

func newNode(t *testing.T) *node {
	t.Helper()
	reg := cfs.NewRegistry()
	if err := reg.Register(cfs.Format{Path: "test.cfg", Parse: parseTest}); err != nil {
		t.Fatal(err)
	}
	be := api.NewLocalBackend("n1", cfs.NewTree(reg, cfs.NewHandlers()))
	srv := api.New(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.Handle(api.FileEndpoints(be, map[string]api.VirtualFile{
		".version": func(context.Context) ([]byte, error) { return []byte("{}\n"), nil },
	})...)
	dir, err := os.MkdirTemp("", "pvecfs-cmd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, cli.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.SocketHandler()}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return &node{dir: dir}
}

func (n *node) run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		switch k {
		case "PVECFS_DATA_DIR":
			return n.dir
		case "LANG":
			return "C.UTF-8"
		}
		return ""
	}}
	code := run(args, env)
	return code, out.String(), errb.String()
}

func (n *node) ok(t *testing.T, stdin string, args ...string) (string, string) {
	t.Helper()
	code, out, errs := n.run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out, errs
}

func (n *node) fails(t *testing.T, stdin, want string, args ...string) {
	t.Helper()
	code, out, errs := n.run(t, stdin, args...)
	if code == 0 || out != "" || !strings.Contains(errs, want) {
		t.Fatalf("%v: exit %d stdout %q stderr %q, want error with %q", args, code, out, errs, want)
	}
}

func TestFiles(t *testing.T) {
	n := newNode(t)
	// raw file: exact bytes back, no newline added
	if out, errs := n.ok(t, "hello\nworld", "put", "dir/a.txt"); out != "" || errs != "" {
		t.Fatalf("put printed %q %q", out, errs)
	}
	if out, _ := n.ok(t, "", "cat", "dir/a.txt"); out != "hello\nworld" {
		t.Fatalf("cat %q", out)
	}
	if out, _ := n.ok(t, "", "cat", "/etc/pve/dir/a.txt"); out != "hello\nworld" {
		t.Fatalf("cat /etc/pve path %q", out)
	}
	// registered format: warnings on stderr, exit 0, stored as understood
	out, errs := n.ok(t, "x\nbad 1\ny\nbad 2\n", "put", "test.cfg")
	if out != "" || errs != "ignoring line 'bad 1'\nignoring line 'bad 2'\n" {
		t.Fatalf("put warnings %q %q", out, errs)
	}
	if out, _ := n.ok(t, "", "cat", "test.cfg"); out != "x\ny\n" {
		t.Fatalf("cat %q", out)
	}
	// strict refuses and writes nothing
	n.fails(t, "z\nbad\n", "refusing to write 'test.cfg' (strict)", "put", "test.cfg", "--strict", "1")
	if out, _ := n.ok(t, "", "cat", "test.cfg"); out != "x\ny\n" {
		t.Fatalf("strict wrote: %q", out)
	}
	// digest: refused when stale, accepted when current
	var info struct {
		Digest  string `json:"digest"`
		Version uint64 `json:"version"`
	}
	out, _ = n.ok(t, "", "ls", "dir/a.txt", "--output-format", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil || len(info.Digest) != 40 {
		t.Fatalf("ls file json %q: %v", out, err)
	}
	n.fails(t, "new", "", "put", "dir/a.txt", "--digest", strings.Repeat("0", 40))
	n.ok(t, "new", "put", "dir/a.txt", "-digest", info.Digest)
	out, _ = n.ok(t, "", "put", "dir/b.txt", "--output-format", "json")
	if !strings.Contains(out, `"path":"dir/b.txt"`) {
		t.Fatalf("put json %q", out)
	}
	// listing
	out, _ = n.ok(t, "", "ls", "dir")
	if !strings.Contains(out, "│ name  │ type │ size │ version │ mtime") || !strings.Contains(out, "│ a.txt │ file │ 3    │") {
		t.Fatalf("ls table\n%s", out)
	}
	out, _ = n.ok(t, "", "ls", "--output-format", "json")
	var root []map[string]any
	if err := json.Unmarshal([]byte(out), &root); err != nil {
		t.Fatalf("ls json %q: %v", out, err)
	}
	names := map[string]bool{}
	for _, e := range root {
		names[e["name"].(string)] = true
	}
	if !names["dir"] || !names["test.cfg"] || !names[".version"] {
		t.Fatalf("root listing %v", names)
	}
	if out, _ := n.ok(t, "", "cat", ".version"); out != "{}\n" {
		t.Fatalf("virtual file %q", out)
	}
	n.fails(t, "", "'dir' is a directory", "cat", "dir")
	// remove
	n.ok(t, "", "rm", "dir/b.txt")
	n.fails(t, "", "does not exist", "cat", "dir/b.txt")
	// checksum
	out, _ = n.ok(t, "", "checksum", "--output-format", "json", "--linearizable", "1")
	if !strings.Contains(out, `"checksum":`) || !strings.Contains(out, `"version":`) {
		t.Fatalf("checksum %q", out)
	}
}

func TestPutRefusesContent(t *testing.T) {
	n := newNode(t)
	n.fails(t, "ok\xff\xfe", "refusing to write 'x.txt': content is not valid UTF-8 text", "put", "x.txt")
	n.fails(t, strings.Repeat("a", cfs.MaxFileSize+1), "over the 1 MiB file limit", "put", "x.txt")
	n.fails(t, "", "does not exist", "cat", "x.txt")
	n.ok(t, strings.Repeat("a", cfs.MaxFileSize), "put", "x.txt")
}

func TestLocks(t *testing.T) {
	n := newNode(t)
	out, _ := n.ok(t, "", "lock", "acquire", "file-user_cfg", "--owner", "me", "--lease", "30", "--output-format", "json")
	var g struct {
		ID    string `json:"id"`
		Owner string `json:"owner"`
		Fence uint64 `json:"fence"`
	}
	if err := json.Unmarshal([]byte(out), &g); err != nil || g.Owner != "me" || g.Fence == 0 || g.ID != "file-user_cfg" {
		t.Fatalf("grant %q %v", out, err)
	}
	fence := strconv.FormatUint(g.Fence, 10)
	// text output shows owner and fence
	out, _ = n.ok(t, "", "lock", "list")
	if !strings.Contains(out, "file-user_cfg") || !strings.Contains(out, " me ") {
		t.Fatalf("lock list\n%s", out)
	}
	// held by someone else: times out
	n.fails(t, "", "", "lock", "acquire", "file-user_cfg", "--owner", "other", "--timeout", "0")
	// writing with the lock and its fence
	n.ok(t, "v", "put", "guarded", "--lock", "file-user_cfg", "--fence", fence)
	n.fails(t, "", "", "put", "guarded", "--lock", "file-user_cfg", "--fence", "999999")
	out, _ = n.ok(t, "", "lock", "renew", "file-user_cfg", "--owner", "me", "--fence", fence)
	if !strings.Contains(out, "│ owner   │ me") || !strings.Contains(out, "│ fence   │ "+fence) {
		t.Fatalf("renew text\n%s", out)
	}
	n.fails(t, "", "option --fence is required", "lock", "release", "file-user_cfg", "--owner", "me")
	n.ok(t, "", "lock", "release", "file-user_cfg", "--owner", "me", "--fence", fence)
	if out, _ := n.ok(t, "", "lock", "list", "--output-format", "json"); out != "[]\n" {
		t.Fatalf("locks after release %q", out)
	}
}

func TestFingerprint(t *testing.T) {
	dir := t.TempDir()
	cert, _, _, err := pki.EnsureSelfSigned(filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key"), "n1", []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pki.Fingerprint(cert)
	var out, errb bytes.Buffer
	code := run([]string{"fingerprint", "--data-dir", dir}, &cli.Env{Stdout: &out, Stderr: &errb})
	if code != 0 || out.String() != want+"\n" {
		t.Fatalf("exit %d %q %q, want %q", code, out.String(), errb.String(), want)
	}
	out.Reset()
	errb.Reset()
	code = run([]string{"fingerprint"}, &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "PVECFS_DATA_DIR" {
			return t.TempDir()
		}
		return ""
	}})
	if code == 0 || !strings.Contains(errb.String(), "no API certificate at") {
		t.Fatalf("exit %d %q", code, errb.String())
	}
}

func TestServeConfig(t *testing.T) {
	tests := []struct {
		args  []string
		check func(t *testing.T, c *configView)
		err   string
	}{
		{nil, func(t *testing.T, c *configView) {
			if c.APIAddr != "0.0.0.0:8006" || c.RaftAddr != "0.0.0.0:5405" || c.DataDir != cli.DefaultDataDir || c.AuthFailDelay != 3*time.Second ||
				c.Timing != cluster.DefaultTiming || c.LogJSON || c.MetricsAddr != "" || c.Node != "" {
				t.Fatalf("defaults %+v", c)
			}
		}, ""},
		{[]string{"--node", "n1", "-data-dir", "/d", "--api-addr=127.0.0.1:1", "--raft-addr", "127.0.0.1:2", "--raft-advertise", "10.0.0.1:2",
			"--metrics-addr", "127.0.0.1:3", "--log-format", "json", "--auth-fail-delay", "0s", "--raft-heartbeat", "1s", "--raft-election", "0"},
			func(t *testing.T, c *configView) {
				want := cluster.DefaultTiming
				want.Heartbeat = time.Second
				if c.Node != "n1" || c.DataDir != "/d" || c.APIAddr != "127.0.0.1:1" || c.RaftAddr != "127.0.0.1:2" || c.RaftAdvertise != "10.0.0.1:2" ||
					c.MetricsAddr != "127.0.0.1:3" || !c.LogJSON || c.AuthFailDelay != 0 || c.Timing != want {
					t.Fatalf("config %+v", c)
				}
			}, ""},
		{[]string{"--raft-lease", "soon"}, nil, "--raft-lease: invalid duration 'soon'"},
		{[]string{"--log-format", "xml"}, nil, "--log-format: value 'xml'"},
		{[]string{"--bogus", "1"}, nil, "Unknown option: bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *configView
			cmds := commands()
			for _, c := range cmds {
				if c.Name == "serve" {
					c.Run = func(c *cli.Ctx) error {
						cfg, err := serveConfig(c)
						if err != nil {
							return err
						}
						got = &configView{cfg.Node, cfg.DataDir, cfg.APIAddr, cfg.RaftAddr, cfg.RaftAdvertise, cfg.MetricsAddr, cfg.Timing, cfg.AuthFailDelay, cfg.LogJSON}
						return nil
					}
				}
			}
			var errb bytes.Buffer
			code := cli.Main("pvecfs", cmds, &cli.Env{Stderr: &errb, Stdout: io.Discard}, append([]string{"serve"}, tt.args...))
			if tt.err != "" {
				if code == 0 || !strings.Contains(errb.String(), tt.err) {
					t.Fatalf("exit %d %q", code, errb.String())
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d %q", code, errb.String())
			}
			tt.check(t, got)
		})
	}
}

type configView struct {
	Node, DataDir, APIAddr, RaftAddr, RaftAdvertise, MetricsAddr string
	Timing                                                       cluster.Timing
	AuthFailDelay                                                time.Duration
	LogJSON                                                      bool
}
