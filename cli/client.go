package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pvecfs/pvecfs/pki"
)

// DefaultDataDir is the data dir used when neither --data-dir nor
// PVECFS_DATA_DIR is given.
const DefaultDataDir = "/var/lib/pvecfs"

// SocketName is the local root socket inside the data dir.
const SocketName = "pvecfs.sock"

// APIPrefix is the root of the JSON API.
const APIPrefix = "/api2/json"

// ConnOptions say how to reach a node.
type ConnOptions struct {
	// DataDir locates the local socket (used when URL is empty).
	DataDir string
	// URL is https://HOST:PORT of a node's REST API.
	URL string
	// User logs in with a ticket (password from PVECFS_PASSWORD).
	User string
	// Fingerprint pins the server certificate (SHA-256, AA:BB:...).
	Fingerprint string
	// Getenv reads the environment (PVECFS_TOKEN, PVECFS_PASSWORD,
	// PVECFS_INSECURE); nil reads nothing.
	Getenv func(string) string
	// Timeout bounds each request (0: 5 minutes).
	Timeout time.Duration
}

// Client talks to one pvecfs node, over the local root socket or HTTPS.
type Client struct {
	base     string
	hc       *http.Client
	socket   string
	token    string
	user     string
	password string
	ticket   string
	csrf     string
	headers  http.Header
}

// APIError is an error answer of the server.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the server's message (trailing newline removed).
	Message string
	// Errors are per-parameter messages of a 400.
	Errors map[string]string
}

// Error renders the message and, for parameter errors, one "param: msg"
// line per parameter, sorted.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n%s: %s", k, strings.TrimRight(e.Errors[k], "\n"))
	}
	return b.String()
}

// NewClient builds a client from connection options. With a URL it needs
// PVECFS_TOKEN, or User with PVECFS_PASSWORD; the login happens on the
// first request.
func NewClient(o ConnOptions) (*Client, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	c := &Client{headers: http.Header{}}
	if o.URL == "" {
		if o.User != "" {
			return nil, errors.New("--user needs --url (the local socket needs no login)")
		}
		dir := o.DataDir
		if dir == "" {
			dir = DefaultDataDir
		}
		c.socket = filepath.Join(dir, SocketName)
		sock := c.socket
		tr := &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
			DisableCompression: true,
		}
		c.hc = &http.Client{Transport: tr, Timeout: timeout}
		c.base = "http://localhost"
		return c, nil
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("invalid --url '%s': want https://HOST:PORT", o.URL)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("invalid --url '%s': only https is supported", o.URL)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "8006")
	}
	var tcfg *tls.Config
	switch {
	case o.Fingerprint != "":
		fp, err := pki.NormalizeFingerprint(o.Fingerprint)
		if err != nil {
			return nil, fmt.Errorf("--fingerprint: %w", err)
		}
		tcfg = pki.PinnedClientTLS(fp)
	case getenv("PVECFS_INSECURE") == "1":
		tcfg = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} // explicitly asked for
	default:
		tcfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr := &http.Transport{TLSClientConfig: tcfg, Proxy: http.ProxyFromEnvironment, DisableCompression: true,
		TLSHandshakeTimeout: 15 * time.Second}
	c.hc = &http.Client{Transport: tr, Timeout: timeout}
	c.base = "https://" + u.Host
	if tok := getenv("PVECFS_TOKEN"); tok != "" {
		if !strings.Contains(tok, "!") || !strings.ContainsAny(tok, "=:") {
			return nil, errors.New("PVECFS_TOKEN must be USER@REALM!TOKENID=SECRET")
		}
		c.token = tok
		return c, nil
	}
	if o.User == "" {
		return nil, errors.New("--url needs credentials: set PVECFS_TOKEN=USER@REALM!TOKENID=SECRET, or give --user USER@REALM with PVECFS_PASSWORD")
	}
	c.user = o.User
	c.password = getenv("PVECFS_PASSWORD")
	if c.password == "" {
		return nil, fmt.Errorf("--user %s needs its password in PVECFS_PASSWORD", o.User)
	}
	return c, nil
}

// Local reports whether the client uses the local root socket.
func (c *Client) Local() bool { return c.socket != "" }

// Password returns the login password of a --user client ("" otherwise).
func (c *Client) Password() string { return c.password }

// SetHeader sets a header sent with every request (e.g. X-Pvecfs-Consistency).
func (c *Client) SetHeader(k, v string) { c.headers.Set(k, v) }

// Get sends a GET request with params in the query string.
func (c *Client) Get(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	return c.Do(ctx, http.MethodGet, path, params)
}

// Post sends a POST request with params in a form body.
func (c *Client) Post(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	return c.Do(ctx, http.MethodPost, path, params)
}

// Put sends a PUT request with params in a form body.
func (c *Client) Put(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	return c.Do(ctx, http.MethodPut, path, params)
}

// Delete sends a DELETE request with params in the query string.
func (c *Client) Delete(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	return c.Do(ctx, http.MethodDelete, path, params)
}

// Do sends one API request; path is below /api2/json (e.g. "/access/users").
// It returns the "data" member of a 200 answer, or an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, params url.Values) (json.RawMessage, error) {
	if c.user != "" && c.ticket == "" {
		if err := c.login(ctx); err != nil {
			return nil, err
		}
	}
	return c.do(ctx, method, path, params, true)
}

func (c *Client) do(ctx context.Context, method, path string, params url.Values, auth bool) (json.RawMessage, error) {
	u := c.base + APIPrefix + path
	var body io.Reader
	form := method == http.MethodPost || method == http.MethodPut
	if len(params) > 0 {
		if form {
			body = strings.NewReader(params.Encode())
		} else {
			u += "?" + params.Encode()
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	if auth {
		switch {
		case c.token != "":
			req.Header.Set("Authorization", "PVEAPIToken="+c.token)
		case c.ticket != "":
			req.Header.Set("Cookie", "PVEAuthCookie="+c.ticket)
			if method != http.MethodGet {
				req.Header.Set("CSRFPreventionToken", c.csrf)
			}
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.connError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	var env struct {
		Data    json.RawMessage   `json:"data"`
		Message string            `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode, Message: strings.TrimRight(env.Message, "\n"), Errors: env.Errors}
		if jerr != nil || ae.Message == "" {
			// no JSON message: the reason phrase carries it, as in Proxmox
			_, reason, _ := strings.Cut(resp.Status, " ")
			ae.Message = reason
			if ae.Message == "" {
				ae.Message = http.StatusText(resp.StatusCode)
			}
		}
		if resp.StatusCode == http.StatusUnauthorized && ae.Message == "" {
			ae.Message = "authentication failure"
		}
		return nil, ae
	}
	if jerr != nil {
		return nil, fmt.Errorf("%s %s: invalid answer: %w", method, path, jerr)
	}
	if len(env.Data) == 0 {
		env.Data = json.RawMessage("null")
	}
	return env.Data, nil
}

// login gets a ticket with POST /access/ticket.
func (c *Client) login(ctx context.Context) error {
	data, err := c.do(ctx, http.MethodPost, "/access/ticket", url.Values{"username": {c.user}, "password": {c.password}}, false)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			return fmt.Errorf("login as %s failed: %s", c.user, ae.Message)
		}
		return fmt.Errorf("login as %s: %w", c.user, err)
	}
	var t struct {
		Ticket string `json:"ticket"`
		CSRF   string `json:"CSRFPreventionToken"`
	}
	if err := json.Unmarshal(data, &t); err != nil || t.Ticket == "" {
		return fmt.Errorf("login as %s: no ticket in answer", c.user)
	}
	c.ticket, c.csrf = t.Ticket, t.CSRF
	return nil
}

// connError explains a transport failure.
func (c *Client) connError(err error) error {
	if c.socket != "" {
		return fmt.Errorf("unable to connect to local socket %s: %v (is 'pvecfs serve' running with this data dir? set --data-dir or PVECFS_DATA_DIR)", c.socket, unwrapURLError(err))
	}
	var fe *pki.FingerprintError
	if errors.As(err, &fe) {
		return fmt.Errorf("%s: %v", c.base, fe)
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var tv *tls.CertificateVerificationError
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &tv) {
		return fmt.Errorf("%s: server certificate not trusted (%v); pin it with --fingerprint FP (see 'pvecfs fingerprint' on the node) or set PVECFS_INSECURE=1 to skip verification", c.base, unwrapURLError(err))
	}
	return fmt.Errorf("unable to connect to %s: %v", c.base, unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// PathEscape escapes one path segment the way Proxmox clients do: every
// byte but unreserved characters is percent-encoded ("joe@pve" is
// "joe%40pve").
func PathEscape(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}
