package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startNode(t *testing.T, dir, name string) *Daemon {
	t.Helper()
	t.Setenv("PVECFS_ROOT_PASSWORD", "secret123")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := Start(context.Background(), Config{Node: name, DataDir: dir, APIAddr: freePort(t), RaftAddr: freePort(t), Logger: log})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return d
}

// sockClient talks HTTP to the node's root socket.
func sockClient(dir string) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", filepath.Join(dir, SocketName))
	}}}
}

type envelope struct {
	Data    json.RawMessage   `json:"data"`
	Message string            `json:"message"`
	Errors  map[string]string `json:"errors"`
}

func call(t *testing.T, c *http.Client, method, path string, form url.Values) (int, envelope) {
	t.Helper()
	var body io.Reader
	u := "http://pvecfs/api2/json" + path
	if method == "GET" {
		u += "?" + form.Encode()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s %s: bad body %q", method, path, b)
	}
	return resp.StatusCode, env
}

func TestStandaloneNodeFilesAndRestart(t *testing.T) {
	dir := t.TempDir()
	d := startNode(t, dir, "pve1")
	c := sockClient(dir)
	st, env := call(t, c, "GET", "/pvecfs/files", url.Values{"path": {"user.cfg"}})
	if st != 200 {
		t.Fatalf("read user.cfg: %d %s", st, env.Message)
	}
	var fi struct{ Content string }
	_ = json.Unmarshal(env.Data, &fi)
	if !strings.Contains(fi.Content, "user:root@pam:1:0:") {
		t.Fatalf("user.cfg content %q", fi.Content)
	}
	for i := 0; i < 5; i++ {
		if st, env := call(t, c, "PUT", "/pvecfs/files", url.Values{"path": {fmt.Sprintf("test/f%d", i)}, "content": {"hello"}}); st != 200 {
			t.Fatalf("put: %d %s %v", st, env.Message, env.Errors)
		}
	}
	big := strings.Repeat("x", 1024*1024+1)
	if st, env := call(t, c, "PUT", "/pvecfs/files", url.Values{"path": {"big"}, "content": {big}}); st != 400 || env.Errors["content"] == "" {
		t.Fatalf("oversized put: %d %s %v", st, env.Message, env.Errors)
	}
	if st, env := call(t, c, "PUT", "/pvecfs/files", url.Values{"path": {"a/../b"}, "content": {"x"}}); st != 400 {
		t.Fatalf("bad path: %d %s", st, env.Message)
	}
	if st, env := call(t, c, "GET", "/pvecfs/files", url.Values{"path": {".members"}}); st != 200 || !strings.Contains(string(env.Data), "nodename") {
		t.Fatalf(".members: %d %s", st, env.Data)
	}
	_, env = call(t, c, "GET", "/pvecfs/checksum", nil)
	var sum1 struct{ Checksum string }
	_ = json.Unmarshal(env.Data, &sum1)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// restart: same data, same tree
	d2 := startNode(t, dir, "pve1")
	defer d2.Close()
	_, env = call(t, sockClient(dir), "GET", "/pvecfs/checksum", url.Values{})
	var sum2 struct{ Checksum string }
	_ = json.Unmarshal(env.Data, &sum2)
	if sum1.Checksum == "" || sum1.Checksum != sum2.Checksum {
		t.Fatalf("tree changed across restart: %s vs %s", sum1.Checksum, sum2.Checksum)
	}
	// wrong node name for the data dir is refused
	if _, err := Start(context.Background(), Config{Node: "other", DataDir: dir, APIAddr: freePort(t), RaftAddr: freePort(t)}); err == nil {
		t.Fatal("second daemon on the same dir started")
	}
}

func TestLocksOverAPI(t *testing.T) {
	dir := t.TempDir()
	d := startNode(t, dir, "pve1")
	defer d.Close()
	c := sockClient(dir)
	st, env := call(t, c, "POST", "/pvecfs/locks/file-user_cfg", url.Values{"owner": {"editor"}, "lease": {"60"}})
	if st != 200 {
		t.Fatalf("acquire: %d %s", st, env.Message)
	}
	var g struct {
		Fence uint64
		Owner string
	}
	_ = json.Unmarshal(env.Data, &g)
	start := time.Now()
	st, env = call(t, c, "POST", "/pvecfs/locks/file-user_cfg", url.Values{"owner": {"other"}, "timeout": {"1"}})
	if st != 500 || env.Message != "cfs-lock 'file-user_cfg' error: got lock request timeout" || time.Since(start) < time.Second {
		t.Fatalf("second acquire: %d %q after %v", st, env.Message, time.Since(start))
	}
	if st, env := call(t, c, "PUT", "/pvecfs/files", url.Values{"path": {"x"}, "content": {"1"}, "lock": {"file-user_cfg"}, "fence": {fmt.Sprint(g.Fence)}}); st != 200 {
		t.Fatalf("fenced write: %d %s", st, env.Message)
	}
	if st, env := call(t, c, "DELETE", "/pvecfs/locks/file-user_cfg", url.Values{"owner": {"editor"}, "fence": {fmt.Sprint(g.Fence)}}); st != 200 {
		t.Fatalf("release: %d %s", st, env.Message)
	}
	if st, env := call(t, c, "PUT", "/pvecfs/files", url.Values{"path": {"x"}, "content": {"2"}, "lock": {"file-user_cfg"}, "fence": {fmt.Sprint(g.Fence)}}); st != 500 || !strings.Contains(env.Message, "stale") {
		t.Fatalf("stale fenced write: %d %s", st, env.Message)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PVECFS_ROOT_PASSWORD", "secret123")
	maddr := freePort(t)
	d, err := Start(context.Background(), Config{Node: "pve1", DataDir: dir, APIAddr: freePort(t), RaftAddr: freePort(t),
		MetricsAddr: maddr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := sockClient(dir)
	// one lock wait that times out, so the counters move
	if st, env := call(t, c, "POST", "/pvecfs/locks/x", url.Values{"owner": {"a"}}); st != 200 {
		t.Fatalf("acquire: %d %s", st, env.Message)
	}
	if st, _ := call(t, c, "POST", "/pvecfs/locks/x", url.Values{"owner": {"b"}, "timeout": {"1"}}); st != 500 {
		t.Fatalf("second acquire: %d", st)
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"pvecfs_raft_state 2", "pvecfs_quorate 1", "pvecfs_lock_waits_total", "pvecfs_lock_timeouts_total",
		"pvecfs_fsm_apply_seconds_count", "pvecfs_tree_entries", "pvecfs_forwarded_writes_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "pvecfs_lock_timeouts_total ") && strings.HasSuffix(line, " 0") {
			t.Errorf("lock timeout not counted: %s", line)
		}
	}
}
