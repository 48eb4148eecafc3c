// Package api serves the Proxmox-compatible REST API (/api2/json/...) on
// gorilla/mux: parameter validation, the response envelope, authentication
// hooks and the endpoint table. Handlers read the local tree and change
// state only by applying commands through the cluster.
package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// Prefix is the root of the JSON API.
const Prefix = "/api2/json"

// Identity is who a request acts as.
type Identity struct {
	Authid  string // "user@realm" or "user@realm!token"
	IsToken bool
	Ticket  bool // authenticated by a ticket cookie/header (CSRF applies)
	Socket  bool // came through the local root socket
}

// Root reports whether the identity is exactly root@pam (which bypasses checks).
func (id *Identity) Root() bool { return id != nil && id.Authid == "root@pam" }

// Authenticator turns request credentials into an identity. It returns
// (nil, nil) when the request carries no credentials, and an *Error (401)
// when it carries bad ones.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (*Identity, error)
}

// Endpoint is one method + path of the API.
type Endpoint struct {
	Method string
	Path   string // below Prefix, gorilla syntax: "/access/users/{userid}"
	Params []Param
	// World: no authentication needed.
	World bool
	// NoToken: API tokens are refused (allowtoken => 0).
	NoToken bool
	// Check runs after authentication and parameter validation; nil means
	// any authenticated identity.
	Check func(r *Request) error
	// Handler does the work; its value is sent as {"data": value}.
	Handler func(r *Request) (any, error)
	// Description documents the endpoint (docs/api.md).
	Description string
}

// Request is what a handler sees.
type Request struct {
	Ctx    context.Context
	HTTP   *http.Request
	Params Params
	Auth   *Identity // nil for anonymous (World endpoints)
}

// Server is the REST API of one node.
type Server struct {
	router    *mux.Router
	auth      Authenticator
	log       *slog.Logger
	endpoints []Endpoint
	// FailDelay is how long a 401 waits before it is answered (Proxmox ~3 s).
	FailDelay time.Duration
}

// New returns an API server; auth may be nil (every request anonymous).
func New(auth Authenticator, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{router: mux.NewRouter(), auth: auth, log: log.With("component", "api"), FailDelay: 3 * time.Second}
	s.router.UseEncodedPath()
	s.router.NotFoundHandler = http.HandlerFunc(s.notImplemented)
	s.router.MethodNotAllowedHandler = http.HandlerFunc(s.notImplemented)
	return s
}

// SetAuthenticator replaces the authenticator.
func (s *Server) SetAuthenticator(a Authenticator) { s.auth = a }

// Handle registers endpoints.
func (s *Server) Handle(eps ...Endpoint) {
	for _, ep := range eps {
		ep := ep
		s.endpoints = append(s.endpoints, ep)
		s.router.Handle(Prefix+ep.Path, s.wrap(&ep)).Methods(ep.Method)
	}
}

// Endpoints lists the registered endpoints in registration order.
func (s *Server) Endpoints() []Endpoint { return s.endpoints }

// HandleRaw registers a plain http.Handler at a path (outside the envelope).
func (s *Server) HandleRaw(path string, h http.Handler) { s.router.Handle(path, h) }

// Handler returns the HTTP handler for the TLS listener.
func (s *Server) Handler() http.Handler { return s.router }

// SocketHandler returns the handler for the local root socket: every
// request acts as root@pam.
func (s *Server) SocketHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), socketKey{}, true)
		s.router.ServeHTTP(w, r.WithContext(ctx))
	})
}

type socketKey struct{}

func (s *Server) notImplemented(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, Prefix)
	s.writeError(w, r, NotImplemented(r.Method, p))
}

func (s *Server) wrap(ep *Endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		req := &Request{Ctx: hr.Context(), HTTP: hr}
		if hr.Context().Value(socketKey{}) != nil {
			req.Auth = &Identity{Authid: "root@pam", Socket: true}
		} else if s.auth != nil {
			id, err := s.auth.Authenticate(hr.Context(), hr)
			if err != nil {
				s.fail(w, hr, toError(err))
				return
			}
			req.Auth = id
		}
		if req.Auth == nil && !ep.World {
			s.fail(w, hr, &Error{Status: http.StatusUnauthorized, Message: "No ticket\n"})
			return
		}
		if req.Auth != nil && req.Auth.IsToken && ep.NoToken {
			s.writeError(w, hr, Forbidden(fmt.Sprintf("URI '%s' not available with API token, need proper ticket.\n", hr.URL.Path)))
			return
		}
		raw, err := rawParams(hr)
		if err != nil {
			s.writeError(w, hr, toError(err))
			return
		}
		vars := map[string]string{}
		for k, v := range mux.Vars(hr) {
			if u, err := url.PathUnescape(v); err == nil {
				vars[k] = u
			} else {
				vars[k] = v
			}
		}
		req.Params, err = validate(ep.Params, raw, vars)
		if err != nil {
			s.writeError(w, hr, toError(err))
			return
		}
		if ep.Check != nil && req.Auth != nil && !req.Auth.Root() {
			if err := ep.Check(req); err != nil {
				s.writeError(w, hr, toError(err))
				return
			}
		}
		data, err := ep.Handler(req)
		if err != nil {
			e := toError(err)
			if e.Status == http.StatusUnauthorized {
				s.fail(w, hr, e)
				return
			}
			s.writeError(w, hr, e)
			return
		}
		writeData(w, data)
	})
}

// fail answers a 401 after FailDelay, without holding anything but the
// request's goroutine (and giving up if the client goes away).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *Error) {
	if s.FailDelay > 0 && r.Context().Value(socketKey{}) == nil {
		t := time.NewTimer(s.FailDelay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	s.writeError(w, r, e)
}

// ContentType is what every JSON answer carries.
const ContentType = "application/json;charset=UTF-8"

func writeData(w http.ResponseWriter, data any) {
	body, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		body = []byte(`{"data":null}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError sends {"data":null,"message":...,"errors":...} with the
// message's first line as the HTTP reason phrase, as pve-http-server does.
// Go's ResponseWriter cannot set a reason phrase, so on HTTP/1.x the
// connection is hijacked and the status line written by hand.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	payload := map[string]any{"data": nil, "message": e.Message}
	if len(e.Errors) > 0 {
		payload["errors"] = e.Errors
	}
	body, _ := json.Marshal(payload)
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if hj, ok := w.(http.Hijacker); ok && r.ProtoMajor == 1 {
		if conn, buf, err := hj.Hijack(); err == nil {
			defer conn.Close()
			writeRawResponse(buf.Writer, r, status, reasonPhrase(e.Message), body)
			_ = buf.Flush()
			return
		}
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeRawResponse(bw *bufio.Writer, r *http.Request, status int, reason string, body []byte) {
	fmt.Fprintf(bw, "HTTP/1.1 %03d %s\r\n", status, reason)
	fmt.Fprintf(bw, "Content-Type: %s\r\n", ContentType)
	fmt.Fprintf(bw, "Content-Length: %d\r\n", len(body))
	fmt.Fprintf(bw, "Date: %s\r\n", time.Now().UTC().Format(http.TimeFormat))
	bw.WriteString("Cache-Control: max-age=0\r\nPragma: no-cache\r\nConnection: close\r\n\r\n")
	if r.Method != http.MethodHead {
		bw.Write(body)
	}
}

// Serve runs an http.Server for h on ln until ctx ends (HTTP/1.1 only, so
// that error reason phrases reach the client).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}
