package compat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/tests/harness"
)

// exchange is one request and its answer as seen on the wire.
type exchange struct {
	Method string
	Path   string // relative to /api2/json, with the query
	Auth   string // none, cookie or token
	CSRF   bool
	// Status and StatusLine are the answer's code and full status line
	// ("500 no such user ('x@pve')"); Status is 0 if the request failed.
	Status     int
	StatusLine string
	CT         string // response Content-Type
	Body       []byte // response body (at most maxRecordedBody bytes)
	Err        error
}

const maxRecordedBody = 1 << 20

// recorder is an http.RoundTripper that logs every exchange of one client to
// the test log (shown on failure or with -v) and keeps it for assertions.
type recorder struct {
	t    testing.TB
	name string
	base http.RoundTripper

	mu  sync.Mutex
	log []exchange
}

// newRecorder returns a recorder named name over base.
func newRecorder(t testing.TB, name string, base http.RoundTripper) *recorder {
	return &recorder{t: t, name: name, base: base}
}

// RoundTrip implements http.RoundTripper.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchange{
		Method: req.Method,
		Path:   strings.TrimPrefix(req.URL.Path, harness.APIPrefix),
		Auth:   authKind(req.Header),
		CSRF:   req.Header.Get("CSRFPreventionToken") != "",
	}
	if req.URL.RawQuery != "" {
		ex.Path += "?" + req.URL.RawQuery
	}
	var reqBody string
	if req.Body != nil && req.GetBody != nil && !sensitivePath(ex.Path) {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 4096))
			_ = rc.Close()
			reqBody = string(b)
		}
	}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		ex.Err = err
		r.add(ex, reqBody)
		return nil, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		ex.Err = fmt.Errorf("read body: %w", rerr)
	}
	ex.Status, ex.StatusLine = resp.StatusCode, resp.Status
	ex.CT = resp.Header.Get("Content-Type")
	ex.Body = body
	r.add(ex, reqBody)
	return resp, nil
}

// add stores ex and logs it.
func (r *recorder) add(ex exchange, reqBody string) {
	r.mu.Lock()
	r.log = append(r.log, ex)
	r.mu.Unlock()
	line := fmt.Sprintf("[%s] %s %s auth=%s csrf=%v", r.name, ex.Method, ex.Path, ex.Auth, ex.CSRF)
	if reqBody != "" {
		line += " body=" + reqBody
	}
	if ex.Err != nil {
		r.t.Logf("%s -> error: %v", line, ex.Err)
		return
	}
	shown := "<redacted>"
	if !sensitivePath(ex.Path) || ex.Status >= 400 {
		shown = clip(string(ex.Body), 400)
	}
	r.t.Logf("%s -> %q ct=%q body=%s", line, ex.StatusLine, ex.CT, shown)
}

// all returns a copy of the recorded exchanges.
func (r *recorder) all() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

// since returns the exchanges recorded after the first n.
func (r *recorder) since(n int) []exchange {
	all := r.all()
	if n > len(all) {
		return nil
	}
	return all[n:]
}

// count returns how many exchanges were recorded.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log)
}

// last returns the last recorded exchange for method and path (path without
// query matches any query), or false.
func (r *recorder) last(method, path string) (exchange, bool) {
	all := r.all()
	for i := len(all) - 1; i >= 0; i-- {
		p := all[i].Path
		if !strings.Contains(path, "?") {
			p, _, _ = strings.Cut(p, "?")
		}
		if all[i].Method == method && p == path {
			return all[i], true
		}
	}
	return exchange{}, false
}

// sensitivePath reports whether bodies of this path carry secrets that should
// not be logged (login and password change).
func sensitivePath(p string) bool {
	p, _, _ = strings.Cut(p, "?")
	return p == "/access/ticket" || p == "/access/password"
}

// authKind names how a request authenticates, as in the wire logs.
func authKind(h http.Header) string {
	if a := h.Get("Authorization"); strings.HasPrefix(a, "PVEAPIToken") {
		return "token"
	}
	for _, c := range h.Values("Cookie") {
		if strings.Contains(c, "PVEAuthCookie") {
			return "cookie"
		}
	}
	return "none"
}

// clip shortens s to at most n bytes for logging.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// pinnedTransport returns an HTTPS transport that accepts only the server
// certificate with fingerprint fp (AA:BB:..., SHA-256); an empty fp accepts
// any certificate.
func pinnedTransport(fp string) *http.Transport {
	want := strings.ToUpper(strings.TrimSpace(fp))
	return &http.Transport{
		TLSClientConfig: &tls.Config{
			// Name verification is replaced by the fingerprint pin, as
			// Proxmox pins node certificates.
			InsecureSkipVerify: true, //nolint:gosec // pinned below
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 {
					return errors.New("server sent no certificate")
				}
				if got := certFingerprint(raw[0]); want != "" && got != want {
					return fmt.Errorf("server certificate fingerprint %s, want %s", got, want)
				}
				return nil
			},
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
}

// certFingerprint formats the SHA-256 of a DER certificate as AA:BB:...
func certFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// nodeFingerprint returns the node's certificate fingerprint from `pvecfs
// fingerprint`. If that fails, the failure is reported (t.Errorf: the CLI is
// part of the contract) and "" is returned, so that the client flow still
// runs, without pinning.
func nodeFingerprint(ctx context.Context, t *testing.T, n *harness.Node) string {
	t.Helper()
	fp, err := n.Fingerprint(ctx)
	if err != nil {
		t.Errorf("pvecfs fingerprint (clients run without certificate pinning): %v", err)
		return ""
	}
	return fp
}
