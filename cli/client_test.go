package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recorded is one request the fake server saw.
type recorded struct {
	Method, Path, RawPath string
	Form                  url.Values
	Header                http.Header
}

type fakeServer struct {
	mu   sync.Mutex
	reqs []recorded
	// answer returns status and body for a request.
	answer func(r recorded) (int, string)
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	for k, v := range r.URL.Query() {
		form[k] = v
	}
	rec := recorded{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Form: form, Header: r.Header.Clone()}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	status, out := 200, `{"data":null}`
	if f.answer != nil {
		status, out = f.answer(rec)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (f *fakeServer) last() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		return recorded{}
	}
	return f.reqs[len(f.reqs)-1]
}

// startSocket serves f on DIR/pvecfs.sock and returns DIR.
func startSocket(t *testing.T, f http.Handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pvecfs-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return dir
}

func TestClientSocket(t *testing.T) {
	f := &fakeServer{answer: func(r recorded) (int, string) {
		switch r.Path {
		case "/api2/json/access/users":
			return 200, `{"data":[{"userid":"root@pam"}]}`
		case "/api2/json/bad":
			return 400, `{"data":null,"message":"Parameter verification failed.\n","errors":{"userid":"invalid format","b":"x\n"}}`
		case "/api2/json/die":
			return 500, `{"data":null,"message":"create user failed: user 'a@pve' already exists\n"}`
		case "/api2/json/nojson":
			return 501, `garbage`
		}
		return 200, `{"data":null}`
	}}
	dir := startSocket(t, f)
	c, err := NewClient(ConnOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data, err := c.Get(ctx, "/access/users", url.Values{"full": {"1"}})
	if err != nil || string(data) != `[{"userid":"root@pam"}]` {
		t.Fatalf("get: %s %v", data, err)
	}
	if r := f.last(); r.Method != "GET" || r.Form.Get("full") != "1" || r.Header.Get("Authorization") != "" {
		t.Fatalf("request %+v", r)
	}
	if _, err := c.Post(ctx, "/access/users/"+PathEscape("joe@pve")+"/token/t", url.Values{"privsep": {"1"}}); err != nil {
		t.Fatal(err)
	}
	if r := f.last(); r.RawPath != "/api2/json/access/users/joe%40pve/token/t" || r.Form.Get("privsep") != "1" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("request %+v", r)
	}
	if _, err := c.Delete(ctx, "/x", url.Values{"digest": {"ab"}}); err != nil {
		t.Fatal(err)
	}
	if r := f.last(); r.Method != "DELETE" || r.Form.Get("digest") != "ab" {
		t.Fatalf("request %+v", r)
	}
	errTests := []struct {
		path, want string
		status     int
	}{
		{"/bad", "Parameter verification failed.\nb: x\nuserid: invalid format", 400},
		{"/die", "create user failed: user 'a@pve' already exists", 500},
		{"/nojson", "Not Implemented", 501},
	}
	for _, tt := range errTests {
		_, err := c.Put(ctx, tt.path, nil)
		ae, ok := err.(*APIError)
		if !ok || ae.Error() != tt.want || ae.Status != tt.status {
			t.Errorf("%s: err %v, want %q", tt.path, err, tt.want)
		}
	}
}

func TestClientSocketMissing(t *testing.T) {
	c, err := NewClient(ConnOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "/version", nil)
	if err == nil || !strings.Contains(err.Error(), "unable to connect to local socket") || !strings.Contains(err.Error(), "PVECFS_DATA_DIR") {
		t.Fatalf("err %v", err)
	}
}

func fingerprintOf(srv *httptest.Server) string {
	sum := sha256.Sum256(srv.Certificate().Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func TestClientHTTPS(t *testing.T) {
	f := &fakeServer{answer: func(r recorded) (int, string) {
		if r.Path == "/api2/json/access/ticket" {
			if r.Form.Get("username") == "root@pam" && r.Form.Get("password") == "pw" {
				return 200, `{"data":{"ticket":"PVE:root@pam:ABC::sig+/=","CSRFPreventionToken":"CSRF1","username":"root@pam"}}`
			}
			return 401, `{"data":null,"message":"authentication failure\n"}`
		}
		return 200, `{"data":"ok"}`
	}}
	srv := httptest.NewTLSServer(f)
	defer srv.Close()
	fp := fingerprintOf(srv)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	ctx := context.Background()

	t.Run("token", func(t *testing.T) {
		c, err := NewClient(ConnOptions{URL: srv.URL, Fingerprint: strings.ToLower(fp), Getenv: env(map[string]string{"PVECFS_TOKEN": "joe@pve!m=secret"})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Put(ctx, "/x", nil); err != nil {
			t.Fatal(err)
		}
		if h := f.last().Header.Get("Authorization"); h != "PVEAPIToken=joe@pve!m=secret" {
			t.Fatalf("auth header %q", h)
		}
	})
	t.Run("ticket", func(t *testing.T) {
		c, err := NewClient(ConnOptions{URL: srv.URL, Fingerprint: fp, User: "root@pam", Getenv: env(map[string]string{"PVECFS_PASSWORD": "pw"})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "/x", nil); err != nil {
			t.Fatal(err)
		}
		r := f.last()
		if r.Header.Get("Cookie") != "PVEAuthCookie=PVE:root@pam:ABC::sig+/=" || r.Header.Get("CSRFPreventionToken") != "" {
			t.Fatalf("GET headers %v", r.Header)
		}
		if _, err := c.Post(ctx, "/x", nil); err != nil {
			t.Fatal(err)
		}
		if r := f.last(); r.Header.Get("CSRFPreventionToken") != "CSRF1" {
			t.Fatalf("POST headers %v", r.Header)
		}
	})
	t.Run("bad password", func(t *testing.T) {
		c, _ := NewClient(ConnOptions{URL: srv.URL, Fingerprint: fp, User: "root@pam", Getenv: env(map[string]string{"PVECFS_PASSWORD": "no"})})
		_, err := c.Get(ctx, "/x", nil)
		if err == nil || err.Error() != "login as root@pam failed: authentication failure" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("wrong fingerprint", func(t *testing.T) {
		other := strings.Repeat("AB:", 31) + "AB"
		c, _ := NewClient(ConnOptions{URL: srv.URL, Fingerprint: other, Getenv: env(map[string]string{"PVECFS_TOKEN": "a@pve!t=s"})})
		_, err := c.Get(ctx, "/x", nil)
		if err == nil || !strings.Contains(err.Error(), "fingerprint '"+fp+"' not verified, abort!") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("unpinned refused", func(t *testing.T) {
		c, _ := NewClient(ConnOptions{URL: srv.URL, Getenv: env(map[string]string{"PVECFS_TOKEN": "a@pve!t=s"})})
		_, err := c.Get(ctx, "/x", nil)
		if err == nil || !strings.Contains(err.Error(), "--fingerprint") || !strings.Contains(err.Error(), "PVECFS_INSECURE=1") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("insecure", func(t *testing.T) {
		c, _ := NewClient(ConnOptions{URL: srv.URL, Getenv: env(map[string]string{"PVECFS_TOKEN": "a@pve!t=s", "PVECFS_INSECURE": "1"})})
		data, err := c.Get(ctx, "/x", nil)
		if err != nil || string(data) != `"ok"` {
			t.Fatalf("%s %v", data, err)
		}
	})
}

func TestNewClientErrors(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name string
		o    ConnOptions
		want string
	}{
		{"user without url", ConnOptions{User: "root@pam"}, "--user needs --url"},
		{"http url", ConnOptions{URL: "http://h:8006"}, "only https"},
		{"no host", ConnOptions{URL: "https://"}, "invalid --url"},
		{"no credentials", ConnOptions{URL: "https://h:8006"}, "PVECFS_TOKEN"},
		{"no password", ConnOptions{URL: "https://h:8006", User: "root@pam"}, "PVECFS_PASSWORD"},
		{"bad token", ConnOptions{URL: "https://h", Getenv: env(map[string]string{"PVECFS_TOKEN": "nope"})}, "PVECFS_TOKEN must be"},
		{"bad fingerprint", ConnOptions{URL: "https://h", Fingerprint: "AA:BB", Getenv: env(map[string]string{"PVECFS_TOKEN": "a@pve!t=s"})}, "--fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPathEscape(t *testing.T) {
	for in, want := range map[string]string{"joe@pve": "joe%40pve", "a!b": "a%21b", "x y/z": "x%20y%2Fz", "Az09-_.~": "Az09-_.~"} {
		if got := PathEscape(in); got != want {
			t.Errorf("PathEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeKeepsNumbers(t *testing.T) {
	v, err := Decode([]byte(`{"n":12345678901234567890}`))
	if err != nil {
		t.Fatal(err)
	}
	if JSONCompact(v) != `{"n":12345678901234567890}` {
		t.Fatalf("got %s", JSONCompact(v))
	}
	b, _ := json.Marshal(v)
	_ = b
}
