package harness

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// pveMock is an httptest TLS server that mimics the Proxmox envelope and
// authentication rules closely enough to check what the client sends.
type pveMock struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request // clones of the requests, bodies read into bodies
	body []string
}

const (
	mockTicket = "PVE:root@pam:6745A1B2::c2ln+/bmF0dXJl="
	mockCSRF   = "6745A1B2:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo"
	mockToken  = "root@pam!ci=0f1e2d3c-aaaa-bbbb-cccc-123456789abc"
)

func newPVEMock(t *testing.T) *pveMock {
	t.Helper()
	m := &pveMock{}
	write := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	// auth returns the identity of the request, or "".
	auth := func(r *http.Request) string {
		if c := r.Header.Get("Cookie"); c == "PVEAuthCookie="+mockTicket {
			if r.Method != http.MethodGet && r.Header.Get("CSRFPreventionToken") != mockCSRF {
				return "bad-csrf"
			}
			return "root@pam"
		}
		if a := r.Header.Get("Authorization"); a == "PVEAPIToken="+mockToken {
			return "root@pam!ci"
		}
		return ""
	}
	m.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m.mu.Lock()
		m.seen = append(m.seen, r.Clone(context.Background()))
		m.body = append(m.body, string(b))
		m.mu.Unlock()
		if r.Method == http.MethodDelete && len(b) > 0 {
			write(w, 501, map[string]any{"data": nil, "message": "Unexpected content for method 'DELETE'"})
			return
		}
		switch r.URL.Path {
		case "/api2/json/access/domains":
			write(w, 200, map[string]any{"data": []map[string]string{{"realm": "pam", "type": "pam"}}})
			return
		case "/api2/json/access/ticket":
			f, _ := url.ParseQuery(string(b))
			if f.Get("username") == "root@pam" && f.Get("password") == "secret" {
				write(w, 200, map[string]any{"data": map[string]any{
					"username": "root@pam", "ticket": mockTicket, "CSRFPreventionToken": mockCSRF,
					"cap": map[string]any{"access": map[string]int{"User.Modify": 1}}}})
				return
			}
			write(w, 401, map[string]any{"data": nil, "message": "authentication failure\n"})
			return
		case "/api2/json/notjson":
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
			return
		}
		who := auth(r)
		switch who {
		case "":
			write(w, 401, map[string]any{"data": nil, "message": "No ticket"})
			return
		case "bad-csrf":
			write(w, 401, map[string]any{"data": nil, "message": "Permission denied - invalid csrf token\n"})
			return
		}
		switch {
		case r.URL.Path == "/api2/json/access/users" && r.Method == http.MethodPost:
			f, _ := url.ParseQuery(string(b))
			if f.Get("userid") == "" {
				write(w, 400, map[string]any{"data": nil, "message": "Parameter verification failed.\n",
					"errors": map[string]any{"userid": "property is missing and it is not optional", "n": 5}})
				return
			}
			write(w, 200, map[string]any{"data": nil})
		case r.URL.Path == "/api2/json/whoami":
			write(w, 200, map[string]any{"data": map[string]any{"who": who, "query": r.URL.RawQuery,
				"ctype": r.Header.Get("Content-Type"), "body": string(b)}})
		default:
			write(w, 501, map[string]any{"data": nil, "message": "Method '" + r.Method + " " + r.URL.Path + "' not implemented"})
		}
	}))
	t.Cleanup(m.Close)
	return m
}

// last returns the most recent request and its body.
func (m *pveMock) last() (*http.Request, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen[len(m.seen)-1], m.body[len(m.body)-1]
}

// addr returns HOST:PORT of the mock.
func (m *pveMock) addr() string { return strings.TrimPrefix(m.URL, "https://") }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientLoginCookieAndCSRF(t *testing.T) {
	m := newPVEMock(t)
	ctx := testCtx(t)
	c := NewClient(m.addr(), "")

	resp, err := c.Do(ctx, http.MethodGet, "/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 401 || resp.Message != "No ticket" {
		t.Fatalf("unauthenticated: got %d %q", resp.Status, resp.Message)
	}
	var ae *APIError
	if err := resp.Err(); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("Err() = %v, want *APIError 401", err)
	}

	if err := c.Login(ctx, "root@pam", "wrong"); err == nil || !strings.Contains(err.Error(), "authentication failure") {
		t.Fatalf("login with wrong password: err = %v", err)
	}
	if err := c.Login(ctx, "root@pam", "secret"); err != nil {
		t.Fatal(err)
	}
	req, body := m.last()
	if req.Method != http.MethodPost || req.URL.Path != "/api2/json/access/ticket" ||
		req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("login request: %s %s %q", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	if f, _ := url.ParseQuery(body); f.Get("username") != "root@pam" || f.Get("password") != "secret" {
		t.Fatalf("login body %q", body)
	}
	if tk, csrf := c.Ticket(); tk != mockTicket || csrf != mockCSRF || c.Username() != "root@pam" {
		t.Fatalf("stored ticket %q csrf %q user %q", tk, csrf, c.Username())
	}

	// GET: cookie (raw, not URL-encoded), no CSRF header, params in the query.
	resp, err = c.Do(ctx, http.MethodGet, "/whoami", url.Values{"full": {"1"}})
	if err != nil || resp.Status != 200 {
		t.Fatalf("GET after login: %v %+v", err, resp)
	}
	req, _ = m.last()
	if got := req.Header.Get("Cookie"); got != "PVEAuthCookie="+mockTicket {
		t.Fatalf("cookie %q", got)
	}
	if req.Header.Get("CSRFPreventionToken") != "" {
		t.Fatalf("CSRF header sent on GET")
	}
	var who struct{ Who, Query string }
	if err := resp.Decode(&who); err != nil || who.Who != "root@pam" || who.Query != "full=1" {
		t.Fatalf("decode: %v %+v", err, who)
	}

	// POST: form body plus CSRF header.
	resp, err = c.Do(ctx, http.MethodPost, "/access/users", url.Values{"userid": {"alice@pve"}, "comment": {"a b&c"}})
	if err != nil || resp.Status != 200 || string(resp.Data) != "null" {
		t.Fatalf("POST: %v %+v", err, resp)
	}
	req, body = m.last()
	if req.Header.Get("CSRFPreventionToken") != mockCSRF {
		t.Fatalf("CSRF header %q on POST", req.Header.Get("CSRFPreventionToken"))
	}
	if f, _ := url.ParseQuery(body); f.Get("comment") != "a b&c" || f.Get("userid") != "alice@pve" {
		t.Fatalf("POST body %q", body)
	}

	// DELETE: params in the query, no body (Proxmox answers 501 to a body).
	resp, err = c.Do(ctx, http.MethodDelete, "/whoami", url.Values{"force": {"1"}})
	if err != nil || resp.Status != 200 {
		t.Fatalf("DELETE: %v %+v", err, resp)
	}
	req, body = m.last()
	if body != "" || req.URL.RawQuery != "force=1" || req.Header.Get("CSRFPreventionToken") != mockCSRF {
		t.Fatalf("DELETE sent body %q query %q csrf %q", body, req.URL.RawQuery, req.Header.Get("CSRFPreventionToken"))
	}

	// A ticket moved to another client works there too.
	c2 := NewClient(m.addr(), "")
	c2.SetTicket(c.Ticket())
	if resp, err := c2.Do(ctx, http.MethodPut, "/whoami", url.Values{}); err != nil || resp.Status != 200 {
		t.Fatalf("SetTicket: %v %+v", err, resp)
	}
}

func TestClientErrorEnvelope(t *testing.T) {
	m := newPVEMock(t)
	ctx := testCtx(t)
	c := NewClient(m.addr(), "")
	if err := c.Login(ctx, "root@pam", "secret"); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(ctx, http.MethodPost, "/access/users", url.Values{"comment": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 400 || resp.Reason != "Bad Request" || resp.Message != "Parameter verification failed.\n" {
		t.Fatalf("got %d %q %q", resp.Status, resp.Reason, resp.Message)
	}
	if resp.Errors["userid"] != "property is missing and it is not optional" || resp.Errors["n"] != "5" {
		t.Fatalf("errors %v", resp.Errors)
	}
	if string(resp.Data) != "null" || !strings.Contains(string(resp.Raw), `"errors"`) {
		t.Fatalf("data %q raw %q", resp.Data, resp.Raw)
	}
	err = resp.Err()
	if err == nil || !strings.Contains(err.Error(), "HTTP 400: Parameter verification failed.") || !strings.Contains(err.Error(), "userid") {
		t.Fatalf("Err() = %v", err)
	}
	var v any
	if err := (&Response{Status: 200}).Decode(&v); err == nil {
		t.Fatal("Decode without data: no error")
	}

	resp, err = c.Do(ctx, http.MethodGet, "/notjson", nil)
	if err == nil || resp == nil || resp.Status != 502 || string(resp.Raw) != "<html>bad gateway</html>" {
		t.Fatalf("non-JSON body: err %v resp %+v", err, resp)
	}

	resp, err = c.Do(ctx, http.MethodGet, "/nosuch", nil)
	if err != nil || resp.Status != 501 || !strings.Contains(resp.Message, "not implemented") {
		t.Fatalf("501: %v %+v", err, resp)
	}
}

func TestClientTokenAndJSON(t *testing.T) {
	m := newPVEMock(t)
	ctx := testCtx(t)
	c := NewClient(m.addr(), "")
	c.SetToken("root@pam!ci", "0f1e2d3c-aaaa-bbbb-cccc-123456789abc")
	c.SetHeader("X-Pvecfs-Consistency", "linearizable")
	resp, err := c.DoJSON(ctx, http.MethodPost, "/api2/json/whoami", map[string]any{"enable": 1, "userid": "a@pve"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("DoJSON: %v %+v", err, resp)
	}
	req, body := m.last()
	if req.Header.Get("Cookie") != "" || req.Header.Get("CSRFPreventionToken") != "" {
		t.Fatalf("token request carries ticket headers: %v", req.Header)
	}
	if req.Header.Get("X-Pvecfs-Consistency") != "linearizable" {
		t.Fatalf("extra header missing")
	}
	var d struct{ Who, Ctype string }
	if err := resp.Decode(&d); err != nil || d.Who != "root@pam!ci" || d.Ctype != "application/json" {
		t.Fatalf("decode: %v %+v", err, d)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(body), &sent); err != nil || sent["userid"] != "a@pve" {
		t.Fatalf("JSON body %q: %v", body, err)
	}
	c.SetHeader("X-Pvecfs-Consistency", "")
	c.ClearAuth()
	if resp, err := c.Do(ctx, http.MethodGet, "/whoami", nil); err != nil || resp.Status != 401 {
		t.Fatalf("after ClearAuth: %v %+v", err, resp)
	}
	req, _ = m.last()
	if req.Header.Get("Authorization") != "" || req.Header.Get("X-Pvecfs-Consistency") != "" {
		t.Fatalf("headers survive ClearAuth/SetHeader(\"\"): %v", req.Header)
	}
}

func TestClientFingerprintPinning(t *testing.T) {
	m := newPVEMock(t)
	ctx := testCtx(t)
	want := Fingerprint(m.Certificate().Raw)
	if len(want) != 95 || strings.ToUpper(want) != want {
		t.Fatalf("fingerprint format %q", want)
	}

	open := NewClient(m.addr(), "")
	if open.PeerFingerprint() != "" {
		t.Fatal("peer fingerprint before any request")
	}
	if resp, err := open.Do(ctx, http.MethodGet, "/access/domains", nil); err != nil || resp.Status != 200 {
		t.Fatalf("open client: %v", err)
	}
	if got := open.PeerFingerprint(); got != want {
		t.Fatalf("PeerFingerprint %q, want %q", got, want)
	}

	pinned := NewClient(m.addr(), strings.ToLower(want))
	if _, err := pinned.Do(ctx, http.MethodGet, "/access/domains", nil); err != nil {
		t.Fatalf("pinned to the right fingerprint: %v", err)
	}

	wrong := strings.Repeat("00:", 31) + "00"
	bad := NewClient(m.addr(), wrong)
	if _, err := bad.Do(ctx, http.MethodGet, "/access/domains", nil); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("pinned to a wrong fingerprint: err = %v", err)
	}
}
