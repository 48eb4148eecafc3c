package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const apiPrefix = "/api2/json"

// apiClient talks HTTPS (HTTP/1.1 keep-alive, certificate not verified) to
// one node's REST API as root@pam with a ticket.
type apiClient struct {
	base     string
	http     *http.Client
	user, pw string

	mu           sync.Mutex
	ticket, csrf string
}

func newAPIClient(addr, user, pw string, conns int) *apiClient {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // local benchmark against self-signed certificates
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &apiClient{base: "https://" + addr, http: &http.Client{Transport: tr}, user: user, pw: pw}
}

// withTicket returns a client for the same node sharing c's ticket but with
// its own connection pool (one simulated API client).
func (c *apiClient) withTicket(conns int) *apiClient {
	n := newAPIClient(strings.TrimPrefix(c.base, "https://"), c.user, c.pw, conns)
	n.ticket, n.csrf = c.creds()
	return n
}

func (c *apiClient) creds() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ticket, c.csrf
}

func (c *apiClient) closeIdle() { c.http.CloseIdleConnections() }

// apiError is a non-2xx answer.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// do sends a request and returns the "data" member of a 2xx answer.
func (c *apiClient) do(ctx context.Context, method, path string, form url.Values, hdr http.Header) (json.RawMessage, error) {
	data, err := c.send(ctx, method, path, form, hdr)
	var ae *apiError
	if err != nil && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && path != "/access/ticket" {
		// The ticket may have been refused by a node that just restarted:
		// log in again once.
		if lerr := c.login(ctx); lerr != nil {
			return nil, fmt.Errorf("%w (re-login: %v)", err, lerr)
		}
		data, err = c.send(ctx, method, path, form, hdr)
	}
	return data, err
}

func (c *apiClient) send(ctx context.Context, method, path string, form url.Values, hdr http.Header) (json.RawMessage, error) {
	u := c.base + apiPrefix + path
	var body io.Reader
	if form != nil {
		if method == http.MethodGet || method == http.MethodDelete {
			u += "?" + form.Encode()
		} else {
			body = strings.NewReader(form.Encode())
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if ticket, csrf := c.creds(); ticket != "" {
		req.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: ticket})
		if method != http.MethodGet {
			req.Header.Set("CSRFPreventionToken", csrf)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	var env struct {
		Data    json.RawMessage `json:"data"`
		Message string          `json:"message"`
		Errors  map[string]any  `json:"errors"`
	}
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(env.Message)
		if jerr != nil || msg == "" {
			msg = strings.TrimSpace(resp.Status + " " + snippet(raw))
		}
		if len(env.Errors) > 0 {
			b, _ := json.Marshal(env.Errors)
			msg += " " + string(b)
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, &apiError{Status: resp.StatusCode, Message: msg})
	}
	if jerr != nil {
		return nil, fmt.Errorf("%s %s: HTTP %d with a body that is not JSON: %q", method, path, resp.StatusCode, snippet(raw))
	}
	return env.Data, nil
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// login gets a ticket and CSRF token for user/password.
func (c *apiClient) login(ctx context.Context) error {
	data, err := c.send(ctx, http.MethodPost, "/access/ticket", url.Values{"username": {c.user}, "password": {c.pw}}, nil)
	if err != nil {
		return fmt.Errorf("login %s at %s: %w", c.user, c.base, err)
	}
	var d struct {
		Ticket string `json:"ticket"`
		CSRF   string `json:"CSRFPreventionToken"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("login %s at %s: decode: %w", c.user, c.base, err)
	}
	if d.Ticket == "" || d.CSRF == "" {
		return fmt.Errorf("login %s at %s: no ticket or CSRFPreventionToken in %s", c.user, c.base, snippet(data))
	}
	c.mu.Lock()
	c.ticket, c.csrf = d.Ticket, d.CSRF
	c.mu.Unlock()
	return nil
}

// putFile writes a raw file: PUT /pvecfs/files path=... content=....
func (c *apiClient) putFile(ctx context.Context, path, content string) error {
	_, err := c.do(ctx, http.MethodPut, "/pvecfs/files", url.Values{"path": {path}, "content": {content}}, nil)
	return err
}

// getFile reads a file's content with a linearizable read.
func (c *apiClient) getFile(ctx context.Context, path string) (string, error) {
	data, err := c.do(ctx, http.MethodGet, "/pvecfs/files", url.Values{"path": {path}, "content": {"1"}},
		http.Header{"X-Pvecfs-Consistency": {"linearizable"}})
	if err != nil {
		return "", err
	}
	var d struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return "", fmt.Errorf("read %s from %s: decode: %w", path, c.base, err)
	}
	return d.Content, nil
}

// clusterStatus is the part of GET /pvecfs/cluster/status the benchmark uses.
type clusterStatus struct {
	Quorate int    `json:"quorate"`
	Leader  string `json:"leader"`
	Nodes   []struct {
		Name   string `json:"name"`
		Online int    `json:"online"`
	} `json:"nodes"`
}

func (c *apiClient) status(ctx context.Context) (*clusterStatus, error) {
	data, err := c.do(ctx, http.MethodGet, "/pvecfs/cluster/status", nil, nil)
	if err != nil {
		return nil, err
	}
	var st clusterStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("cluster status from %s: decode %s: %w", c.base, snippet(data), err)
	}
	return &st, nil
}

// checksum reads the whole-tree checksum with a linearizable read.
func (c *apiClient) checksum(ctx context.Context) (string, error) {
	data, err := c.do(ctx, http.MethodGet, "/pvecfs/checksum", nil, http.Header{"X-Pvecfs-Consistency": {"linearizable"}})
	if err != nil {
		return "", err
	}
	var d struct {
		Checksum json.RawMessage `json:"checksum"`
	}
	if err := json.Unmarshal(data, &d); err != nil || len(d.Checksum) == 0 || string(d.Checksum) == "null" {
		return "", fmt.Errorf("checksum from %s: no checksum in %s", c.base, snippet(data))
	}
	return string(d.Checksum), nil
}

// ready reports whether GET /access/domains answers 200 (no authentication).
func (c *apiClient) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := c.send(ctx, http.MethodGet, "/access/domains", nil, nil)
	return err
}
