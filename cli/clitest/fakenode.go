// Package clitest provides a fake pvecfs node for CLI tests: it records the
// requests a command sends to the local root socket and answers them.
package clitest

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pvecfs/pvecfs/cli"
)

// Request is one recorded API call (path below /api2/json, still escaped).
type Request struct {
	Method, Path string
	Form         url.Values
}

// FakeNode serves the root socket in a temporary data dir (Dir). Each call
// is answered with answers["METHOD PATH"] or {"data":null}; an answer
// starting with "!" is an error (400 if it is a parameter error, else 500).
type FakeNode struct {
	Dir     string
	mu      sync.Mutex
	reqs    []Request
	answers map[string]string
}

// NewFakeNode starts a fake node that stops with the test.
func NewFakeNode(t testing.TB, answers map[string]string) *FakeNode {
	t.Helper()
	dir, err := os.MkdirTemp("", "cli-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &FakeNode{Dir: dir, answers: answers}
	ln, err := net.Listen("unix", filepath.Join(dir, cli.SocketName))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

// ServeHTTP records the request and answers it.
func (f *FakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	for k, v := range r.URL.Query() {
		form[k] = v
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), cli.APIPrefix)
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{r.Method, path, form})
	f.mu.Unlock()
	out, ok := f.answers[r.Method+" "+path]
	if !ok {
		out = `{"data":null}`
	}
	status := http.StatusOK
	if strings.HasPrefix(out, "!") {
		status, out = http.StatusInternalServerError, out[1:]
		if strings.Contains(out, "Parameter verification failed") {
			status = http.StatusBadRequest
		}
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

// Take returns the requests recorded since the last Take.
func (f *FakeNode) Take() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reqs
	f.reqs = nil
	return r
}
