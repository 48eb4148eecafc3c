package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// APIPrefix is the path prefix of the JSON REST API.
const APIPrefix = "/api2/json"

// maxBody bounds how much of a response body the client reads.
const maxBody = 64 << 20

// Client talks HTTPS to one node's REST API with Proxmox conventions: form
// bodies for POST/PUT, query parameters for GET/DELETE, ticket cookie plus
// CSRFPreventionToken header after Login, or an API token header.
// It is safe for concurrent use.
type Client struct {
	// BaseURL is the scheme and authority, e.g. https://127.0.0.1:8006.
	BaseURL string
	// HTTP is the underlying client; its transport verifies the server
	// certificate against the pinned fingerprint, if any.
	HTTP *http.Client

	mu       sync.Mutex
	ticket   string
	csrf     string
	username string
	token    string // "user@realm!id=secret", empty if unset
	header   http.Header
	peerFP   string
}

// NewClient returns a client for the API at addr (HOST:PORT). With a non-empty
// fingerprint (AA:BB:..., SHA-256 of the leaf certificate, case-insensitive)
// the server certificate must match it; with an empty one any certificate is
// accepted (test simplicity). The certificate seen last is available from
// PeerFingerprint either way.
func NewClient(addr, fingerprint string) *Client {
	c := &Client{BaseURL: "https://" + addr, header: make(http.Header)}
	want := normalizeFingerprint(fingerprint)
	tlsConf := &tls.Config{
		// Name verification is replaced by the fingerprint check below,
		// exactly as Proxmox pins node certificates.
		InsecureSkipVerify: true, //nolint:gosec // pinned or deliberately open in tests
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("server sent no certificate")
			}
			got := Fingerprint(raw[0])
			c.mu.Lock()
			c.peerFP = got
			c.mu.Unlock()
			if want != "" && got != want {
				return fmt.Errorf("certificate fingerprint %s, want %s", got, want)
			}
			return nil
		},
	}
	c.HTTP = &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:     tlsConf,
			DisableKeepAlives:   false,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c
}

// Fingerprint returns the Proxmox-style fingerprint of a DER certificate:
// upper-case hex bytes of its SHA-256, colon separated.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// normalizeFingerprint upper-cases and trims a fingerprint for comparison.
func normalizeFingerprint(fp string) string {
	return strings.ToUpper(strings.TrimSpace(fp))
}

// PeerFingerprint returns the fingerprint of the server certificate seen on
// the most recent TLS handshake, or "" before the first one.
func (c *Client) PeerFingerprint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peerFP
}

// Login posts username and password to /access/ticket and, on success, keeps
// the ticket and CSRF token for later requests (dropping any API token).
func (c *Client) Login(ctx context.Context, user, password string) error {
	resp, err := c.Do(ctx, http.MethodPost, "/access/ticket", url.Values{"username": {user}, "password": {password}})
	if err != nil {
		return fmt.Errorf("login %s: %w", user, err)
	}
	if err := resp.Err(); err != nil {
		return fmt.Errorf("login %s: %w", user, err)
	}
	var d struct {
		Ticket   string `json:"ticket"`
		CSRF     string `json:"CSRFPreventionToken"`
		Username string `json:"username"`
		NeedTFA  any    `json:"NeedTFA"`
	}
	if err := resp.Decode(&d); err != nil {
		return fmt.Errorf("login %s: %w", user, err)
	}
	if d.Ticket == "" || d.CSRF == "" {
		return fmt.Errorf("login %s: response lacks ticket or CSRFPreventionToken: %s", user, resp.Raw)
	}
	c.SetTicket(d.Ticket, d.CSRF)
	c.mu.Lock()
	c.username = d.Username
	c.mu.Unlock()
	return nil
}

// SetTicket makes the client authenticate with this ticket and CSRF token
// (e.g. one obtained from another node), dropping any API token.
func (c *Client) SetTicket(ticket, csrf string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticket, c.csrf, c.token, c.username = ticket, csrf, "", ""
}

// Ticket returns the current ticket and CSRF token ("" if not logged in).
func (c *Client) Ticket() (ticket, csrf string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ticket, c.csrf
}

// Username returns the user name the last Login answered with.
func (c *Client) Username() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.username
}

// SetToken makes the client authenticate with the API token tokenid
// (user@realm!id) and its secret, dropping any ticket.
func (c *Client) SetToken(tokenid, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = tokenid + "=" + secret
	c.ticket, c.csrf, c.username = "", "", ""
}

// ClearAuth drops ticket and token: later requests are unauthenticated.
func (c *Client) ClearAuth() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticket, c.csrf, c.token, c.username = "", "", "", ""
}

// SetHeader sets a header sent with every later request (e.g.
// X-Pvecfs-Consistency: linearizable); an empty value removes it.
func (c *Client) SetHeader(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if value == "" {
		c.header.Del(key)
		return
	}
	c.header.Set(key, value)
}

// Response is a decoded Proxmox API answer.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Reason is the status line's reason phrase (Proxmox puts the first line
	// of the error message there).
	Reason string
	// Data is the raw "data" member ("null" or empty when absent).
	Data json.RawMessage
	// Message is the "message" member of an error answer.
	Message string
	// Errors holds the per-parameter "errors" member; non-string values are
	// kept as their JSON text.
	Errors map[string]string
	// Header is the response header.
	Header http.Header
	// Raw is the complete response body.
	Raw []byte
}

// Decode unmarshals Data into v.
func (r *Response) Decode(v any) error {
	if len(r.Data) == 0 {
		return fmt.Errorf("decode data: response has no data member (status %d)", r.Status)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return fmt.Errorf("decode data (status %d): %w", r.Status, err)
	}
	return nil
}

// OK reports whether the status is 2xx.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Err returns nil for a 2xx answer and otherwise an *APIError describing it.
func (r *Response) Err() error {
	if r.OK() {
		return nil
	}
	return &APIError{Status: r.Status, Reason: r.Reason, Message: r.Message, Errors: r.Errors}
}

// APIError is a non-2xx API answer.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Reason is the status line's reason phrase.
	Reason string
	// Message is the envelope's "message".
	Message string
	// Errors is the envelope's per-parameter "errors".
	Errors map[string]string
}

// Error implements error.
func (e *APIError) Error() string {
	msg := strings.TrimSpace(e.Message)
	if msg == "" {
		msg = e.Reason
	}
	s := fmt.Sprintf("HTTP %d: %s", e.Status, msg)
	if len(e.Errors) > 0 {
		b, _ := json.Marshal(e.Errors)
		s += " " + string(b)
	}
	return s
}

// apiURL joins the base URL, the API prefix (unless path already carries
// /api2/) and path.
func (c *Client) apiURL(path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasPrefix(path, "/api2/") {
		path = APIPrefix + path
	}
	return c.BaseURL + path
}

// Do sends a request to path (relative to /api2/json unless it starts with
// /api2/). params go in the query string for GET, HEAD and DELETE (Proxmox
// answers 501 to a DELETE with a body) and as a form body otherwise.
// The error is non-nil for transport failures; for a body that is not a JSON
// object, Do returns both the Response (with Raw) and an error. HTTP error
// statuses are not errors: check Status or call Err.
func (c *Client) Do(ctx context.Context, method, path string, params url.Values) (*Response, error) {
	u := c.apiURL(path)
	var body io.Reader
	ctype := ""
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		if len(params) > 0 {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + params.Encode()
		}
	default:
		if params != nil {
			body = strings.NewReader(params.Encode())
			ctype = "application/x-www-form-urlencoded"
		}
	}
	return c.send(ctx, method, u, ctype, body)
}

// DoJSON sends body marshalled as JSON (Content-Type application/json) to
// path; a nil body sends no body. Otherwise as Do.
func (c *Client) DoJSON(ctx context.Context, method, path string, body any) (*Response, error) {
	var r io.Reader
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		r = bytes.NewReader(b)
		ctype = "application/json"
	}
	return c.send(ctx, method, c.apiURL(path), ctype, r)
}

// send performs one request with the client's credentials and decodes the
// envelope.
func (c *Client) send(ctx context.Context, method, u, ctype string, body io.Reader) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	c.mu.Lock()
	for k, v := range c.header {
		req.Header[k] = append([]string(nil), v...)
	}
	switch {
	case c.ticket != "":
		// Raw, not URL-encoded, as the common Proxmox clients send it.
		req.Header.Set("Cookie", "PVEAuthCookie="+c.ticket)
		if method != http.MethodGet && method != http.MethodHead {
			req.Header.Set("CSRFPreventionToken", c.csrf)
		}
	case c.token != "":
		req.Header.Set("Authorization", "PVEAPIToken="+c.token)
	}
	c.mu.Unlock()

	hr, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer hr.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(hr.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	resp := &Response{
		Status: hr.StatusCode,
		Reason: reasonPhrase(hr.Status),
		Header: hr.Header,
		Raw:    raw,
	}
	if method == http.MethodHead {
		return resp, nil
	}
	if err := decodeEnvelope(resp); err != nil {
		return resp, fmt.Errorf("%s %s: HTTP %d: %w", method, u, hr.StatusCode, err)
	}
	return resp, nil
}

// reasonPhrase returns the reason part of a status line like "200 OK".
func reasonPhrase(status string) string {
	if _, after, ok := strings.Cut(status, " "); ok {
		return after
	}
	return ""
}

// decodeEnvelope fills Data, Message and Errors from Raw.
func decodeEnvelope(r *Response) error {
	trimmed := bytes.TrimSpace(r.Raw)
	if len(trimmed) == 0 {
		if r.OK() {
			return errors.New("empty body")
		}
		return nil // e.g. a bare error status; Reason says what happened
	}
	var env struct {
		Data    json.RawMessage            `json:"data"`
		Message json.RawMessage            `json:"message"`
		Errors  map[string]json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return fmt.Errorf("body is not a JSON envelope: %w: %.200q", err, trimmed)
	}
	r.Data = env.Data
	r.Message = jsonText(env.Message)
	if len(env.Errors) > 0 {
		r.Errors = make(map[string]string, len(env.Errors))
		for k, v := range env.Errors {
			r.Errors[k] = jsonText(v)
		}
	}
	return nil
}

// jsonText returns a JSON string's value, or the JSON text of anything else
// ("" for null or absent).
func jsonText(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	return string(v)
}
