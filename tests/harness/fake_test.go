package harness

// A fake pvecfs/pvecm/pveum, built into the test binary: TestMain runs it when
// the binary is invoked through a symlink named after one of the programs.
// It implements just enough of the contract to drive the harness through real
// processes, real ports and real HTTPS: serve (TLS API with the envelope,
// ticket login, /cluster/status with a leader mark, SIGTERM handling),
// fingerprint, pvecm create/add/delnode/status, and an echoing pveum.
// Cluster state is a JSON file owned by the first node, shared through the
// file system; "online" means the member's API port accepts connections and
// the leader is the first online member.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBinDir returns a directory whose pvecfs, pveum and pvecm are symlinks
// to the running test binary.
func fakeBinDir(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("executable: %v", err)
	}
	dir := t.TempDir()
	for _, p := range Programs {
		if err := os.Symlink(exe, filepath.Join(dir, p)); err != nil {
			t.Fatalf("symlink: %v", err)
		}
	}
	return dir
}

// fakeMain runs the fake program prog and returns its exit status.
func fakeMain(prog string, args []string) int {
	var err error
	switch {
	case prog == "pvecfs" && len(args) > 0 && args[0] == "serve":
		err = fakeServe(args[1:])
	case prog == "pvecfs" && len(args) > 0 && args[0] == "fingerprint":
		err = fakeFingerprint(args[1:])
	case prog == "pvecm":
		err = fakePvecm(args)
	case prog == "pveum":
		return fakePveum(args)
	default:
		err = fmt.Errorf("fake %s: unknown command %q", prog, args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fakeSelf is what a fake node records about itself in its data dir.
type fakeSelf struct {
	Name string `json:"name"`
	API  string `json:"api"`
}

// fakeState is the shared cluster state.
type fakeState struct {
	Name    string     `json:"name"`
	Members []fakeSelf `json:"members"`
}

// fakeServe is `pvecfs serve`.
func fakeServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	name := fs.String("node", "", "")
	dataDir := fs.String("data-dir", "", "")
	apiAddr := fs.String("api-addr", "", "")
	raftAddr := fs.String("raft-addr", "", "")
	fs.String("log-format", "text", "")
	ignoreTerm := fs.Bool("ignore-sigterm", false, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*dataDir, "crash-on-start")); err == nil {
		fmt.Fprintln(os.Stderr, "panic: fake crash on start")
		os.Exit(2)
	}
	pwFile := filepath.Join(*dataDir, "root-password")
	if _, err := os.Stat(pwFile); err != nil {
		if err := os.WriteFile(pwFile, []byte(os.Getenv("PVECFS_ROOT_PASSWORD")), 0o600); err != nil {
			return err
		}
	}
	cert, err := fakeCert(*dataDir)
	if err != nil {
		return err
	}
	self, _ := json.Marshal(fakeSelf{Name: *name, API: *apiAddr})
	if err := os.WriteFile(filepath.Join(*dataDir, "self.json"), self, 0o600); err != nil {
		return err
	}
	rl, err := net.Listen("tcp", *raftAddr)
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := rl.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	ln, err := tls.Listen("tcp", *apiAddr, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "fake pvecfs: node %s serving on %s, raft %s, pid %d\n", *name, *apiAddr, *raftAddr, os.Getpid())
	srv := &http.Server{Handler: fakeHandler(*name, *dataDir), ReadHeaderTimeout: 5 * time.Second}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		for range sig {
			if *ignoreTerm {
				fmt.Fprintln(os.Stderr, "fake pvecfs: ignoring SIGTERM")
				continue
			}
			fmt.Fprintln(os.Stderr, "fake pvecfs: SIGTERM, shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = srv.Shutdown(ctx)
			cancel()
			return
		}
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// fakeCert loads or creates the node's self-signed API certificate.
func fakeCert(dataDir string) (tls.Certificate, error) {
	path := filepath.Join(dataDir, "api.pem")
	if b, err := os.ReadFile(path); err == nil {
		return tls.X509KeyPair(b, b)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "fake-pvecfs"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	b = append(b, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})...)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(b, b)
}

// fakeFingerprint is `pvecfs fingerprint --data-dir DIR`.
func fakeFingerprint(args []string) error {
	fs := flag.NewFlagSet("fingerprint", flag.ContinueOnError)
	dataDir := fs.String("data-dir", os.Getenv("PVECFS_DATA_DIR"), "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(*dataDir, "api.pem"))
	if err != nil {
		return fmt.Errorf("no certificate yet: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return errors.New("bad certificate file")
	}
	fmt.Println(Fingerprint(blk.Bytes))
	return nil
}

const fakeTicket = "PVE:root@pam:6745A1B2::ZmFrZQ=="

// fakeCSRF is the fake node's CSRF token.
const fakeCSRF = "6745A1B2:fakecsrf"

// fakeJSON writes a Proxmox envelope.
func fakeJSON(w http.ResponseWriter, status int, data any, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	env := map[string]any{"data": data}
	if msg != "" {
		env["message"] = msg
	}
	_ = json.NewEncoder(w).Encode(env)
}

// fakeHandler serves the fake API of node name.
func fakeHandler(name, dataDir string) http.Handler {
	authed := func(r *http.Request) bool {
		c, err := r.Cookie("PVEAuthCookie")
		return err == nil && c.Value == fakeTicket
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api2/json/access/domains", func(w http.ResponseWriter, r *http.Request) {
		fakeJSON(w, 200, []map[string]string{{"realm": "pam", "type": "pam"}}, "")
	})
	mux.HandleFunc("POST /api2/json/access/ticket", func(w http.ResponseWriter, r *http.Request) {
		pw, _ := os.ReadFile(filepath.Join(dataDir, "root-password"))
		if r.PostFormValue("username") != "root@pam" || r.PostFormValue("password") != string(pw) {
			fakeJSON(w, 401, nil, "authentication failure\n")
			return
		}
		fakeJSON(w, 200, map[string]string{"username": "root@pam", "ticket": fakeTicket, "CSRFPreventionToken": fakeCSRF}, "")
	})
	mux.HandleFunc("GET /api2/json/cluster/status", func(w http.ResponseWriter, r *http.Request) {
		if !authed(r) {
			fakeJSON(w, 401, nil, "No ticket")
			return
		}
		st, _, err := fakeLoadState(dataDir)
		if err != nil {
			fakeJSON(w, 200, []map[string]any{{"type": "node", "id": "node/" + name, "name": name, "local": 1, "nodeid": 0, "online": 1}}, "")
			return
		}
		fakeJSON(w, 200, fakeStatusEntries(st, name), "")
	})
	mux.HandleFunc("POST /api2/json/fake/join", func(w http.ResponseWriter, r *http.Request) {
		if !authed(r) || r.Header.Get("CSRFPreventionToken") != fakeCSRF {
			fakeJSON(w, 401, nil, "Permission denied - invalid csrf token\n")
			return
		}
		st, path, err := fakeLoadState(dataDir)
		if err != nil {
			fakeJSON(w, 500, nil, "not in a cluster\n")
			return
		}
		m := fakeSelf{Name: r.PostFormValue("name"), API: r.PostFormValue("api")}
		for _, x := range st.Members {
			if x.Name == m.Name {
				fakeJSON(w, 200, map[string]string{"state": path}, "")
				return
			}
		}
		st.Members = append(st.Members, m)
		if err := fakeSaveState(path, st); err != nil {
			fakeJSON(w, 500, nil, err.Error())
			return
		}
		fakeJSON(w, 200, map[string]string{"state": path}, "")
	})
	return mux
}

// fakeOnline reports whether addr accepts connections.
func fakeOnline(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// fakeStatusEntries renders /cluster/status for the node local.
func fakeStatusEntries(st *fakeState, local string) []map[string]any {
	online := 0
	leader := ""
	var nodes []map[string]any
	for i, m := range st.Members {
		on := 0
		if m.Name == local || fakeOnline(m.API) {
			on = 1
			online++
			if leader == "" {
				leader = m.Name
			}
		}
		l := 0
		if m.Name == local {
			l = 1
		}
		nodes = append(nodes, map[string]any{"type": "node", "id": "node/" + m.Name, "name": m.Name,
			"nodeid": i + 1, "ip": "127.0.0.1", "local": l, "online": on, "level": ""})
	}
	quorate := 0
	if 2*online > len(st.Members) {
		quorate = 1
	}
	for _, n := range nodes {
		if n["name"] == leader && quorate == 1 {
			n["leader"] = 1
		} else {
			n["leader"] = 0
		}
	}
	return append([]map[string]any{{"type": "cluster", "id": "cluster", "name": st.Name,
		"nodes": len(st.Members), "version": len(st.Members), "quorate": quorate}}, nodes...)
}

// fakeLoadState reads the cluster state that dataDir belongs to.
func fakeLoadState(dataDir string) (*fakeState, string, error) {
	path := filepath.Join(dataDir, "cluster.json")
	if ref, err := os.ReadFile(filepath.Join(dataDir, "cluster-ref")); err == nil {
		path = string(ref)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var st fakeState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, "", err
	}
	return &st, path, nil
}

// fakeSaveState writes the cluster state atomically.
func fakeSaveState(path string, st *fakeState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fakePvecm is the fake pvecm; it finds its node through PVECFS_DATA_DIR.
func fakePvecm(args []string) error {
	dataDir := os.Getenv("PVECFS_DATA_DIR")
	if dataDir == "" || len(args) == 0 {
		return errors.New("usage: pvecm create|add|delnode|status (PVECFS_DATA_DIR required)")
	}
	var self fakeSelf
	b, err := os.ReadFile(filepath.Join(dataDir, "self.json"))
	if err != nil {
		return fmt.Errorf("node not initialised: %w", err)
	}
	if err := json.Unmarshal(b, &self); err != nil {
		return err
	}
	switch {
	case args[0] == "create" && len(args) == 2:
		return fakeSaveState(filepath.Join(dataDir, "cluster.json"), &fakeState{Name: args[1], Members: []fakeSelf{self}})
	case args[0] == "add" && len(args) == 4 && args[2] == "--fingerprint":
		pw := os.Getenv("PVECFS_JOIN_PASSWORD")
		c := NewClient(args[1], args[3])
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Login(ctx, "root@pam", pw); err != nil {
			return err
		}
		resp, err := c.Do(ctx, http.MethodPost, "/fake/join", url.Values{"name": {self.Name}, "api": {self.API}})
		if err != nil {
			return err
		}
		if err := resp.Err(); err != nil {
			return err
		}
		var d struct {
			State string `json:"state"`
		}
		if err := resp.Decode(&d); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dataDir, "cluster-ref"), []byte(d.State), 0o600)
	case args[0] == "delnode" && len(args) == 2:
		st, path, err := fakeLoadState(dataDir)
		if err != nil {
			return err
		}
		var keep []fakeSelf
		for _, m := range st.Members {
			if m.Name != args[1] {
				keep = append(keep, m)
			}
		}
		st.Members = keep
		return fakeSaveState(path, st)
	case args[0] == "status":
		st, _, err := fakeLoadState(dataDir)
		if err != nil {
			return errors.New("Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?")
		}
		entries := fakeStatusEntries(st, self.Name)
		leader := ""
		for _, e := range entries {
			if e["leader"] == 1 {
				leader = e["name"].(string)
			}
		}
		out, _ := json.Marshal(map[string]any{"name": st.Name, "leader": leader})
		fmt.Println(string(out))
		return nil
	}
	return fmt.Errorf("pvecm: unknown command %q", args)
}

// fakePveum echoes its invocation as JSON; `pveum fail CODE` exits with CODE.
func fakePveum(args []string) int {
	if len(args) == 2 && args[0] == "fail" {
		fmt.Fprintln(os.Stderr, "pveum: failing as asked")
		code := 0
		_, _ = fmt.Sscanf(args[1], "%d", &code)
		return code
	}
	in, _ := io.ReadAll(os.Stdin)
	var pvecfsEnv []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PVECFS_") {
			pvecfsEnv = append(pvecfsEnv, kv)
		}
	}
	out, _ := json.Marshal(map[string]any{"args": args, "env": pvecfsEnv, "stdin": string(in)})
	fmt.Println(string(out))
	return 0
}

// jsonUnmarshalString decodes a JSON document held in a string.
func jsonUnmarshalString(s string, v any) error { return json.Unmarshal([]byte(s), v) }
