package main

// Part "access": the access-control REST API on the three-node cluster.
//
//	(1) POST /access/users/{userid}/token/{tokenid} as root@pam (ticket and
//	    CSRF token), 64 clients spread round-robin over the three nodes, each
//	    creating tokens for its own user bench<k>@pve; compared with the bare
//	    raft Apply rate at 64 clients (part (a) of the same run, or measured
//	    here when part (a) did not run at 64 clients).
//	(2) GET /access/users/{self}/token authenticated with an API token
//	    (Authorization: PVEAPIToken=...) on one node, 64 keep-alive clients,
//	    against a bare net/http TLS server in this process that answers the
//	    same bytes, on the same TLS setup (self-signed ECDSA P-256 certificate
//	    from pki.SelfSigned, TLS >= 1.2, HTTP/1.1 only, api.Serve).
//
// Its report is the "## Access API" section (accessHeading), printed and,
// with -out, written into that file whatever the other parts did.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pvecfs/pvecfs/api"
	"github.com/pvecfs/pvecfs/pki"
)

const (
	accessHeading = "## Access API"
	accessClients = 64
	getUser       = "benchget@pve"
	getTokenID    = "get"
)

// accessResult is what the access part measured; a failed row keeps its
// error instead of numbers.
type accessResult struct {
	info      runInfo
	setupErr  error
	create    []loadResult // (1) token creation, one per round
	createErr error
	raft      []loadResult // bare raft Apply at 64 clients
	raftSrc   string
	raftErr   error
	rest      []loadResult // part (b) at 64 clients of the same run, for reference
	get       []loadResult // (2) token-authenticated GET on one node
	getErr    error
	bare      []loadResult // bare HTTPS handler
	bareErr   error
	getNode   string
	getRole   string // "leader" or "follower" when known
	getBody   int    // bytes of the answer body (both servers)
	verified  []string
	tokens    []int64 // tokens acknowledged in all, after each round of (1)
	elapsed   time.Duration
}

func (ar *accessResult) err() error {
	return errors.Join(ar.setupErr, ar.createErr, ar.raftErr, ar.getErr, ar.bareErr)
}

// accessPart runs the access benchmark on pc (started here when nil and no
// cluster error is known), using the bare raft rows of res or rb (a raft
// cluster of its own when both lack them), prints the section and writes it
// into o.out. It returns the first failure.
func accessPart(ctx context.Context, o *options, pc *pveCluster, rb *raftBench, res *results, progress func(string, ...any)) error {
	begin := time.Now()
	ar := &accessResult{info: runInfo{Command: command(), Date: time.Now(), Commit: gitCommit(), Machine: machine(o.work), LoadStart: loadAvg(), Opts: o}}
	func() {
		if pc == nil {
			if res != nil && res.clusterE != nil {
				ar.setupErr = res.clusterE
				return
			}
			progress("access: starting and forming the pvecfs cluster")
			c, err := startPVECluster(ctx, o, 3)
			if err != nil {
				ar.setupErr = fmt.Errorf("pvecfs cluster: %w", err)
				return
			}
			defer c.stop()
			pc = c
		}
		ar.run(ctx, o, pc, rb, res, progress)
	}()
	ar.info.LoadEnd = loadAvg()
	ar.elapsed = time.Since(begin)
	body := ar.render()
	fmt.Print(accessHeading + "\n\n" + body + "\n")
	err := ar.err()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: access FAILED:", err)
	}
	if o.out != "" {
		if werr := writeNamedSection(o.out, accessHeading, body); werr != nil {
			fmt.Fprintln(os.Stderr, "bench:", werr)
			return errors.Join(err, werr)
		}
		fmt.Fprintf(os.Stderr, "bench: updated the %q section of %s\n", accessHeading, o.out)
	}
	return err
}

// runAccessOnly is the whole program for -only access.
func runAccessOnly(o *options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	work, err := os.MkdirTemp(o.dir, "pvecfs-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: scratch dir:", err)
		return 1
	}
	o.work = work
	progress := func(format string, a ...any) {
		if o.verbose {
			fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
		}
	}
	if err := accessPart(ctx, o, nil, nil, nil, progress); err != nil {
		fmt.Fprintf(os.Stderr, "bench: data and logs kept in %s\n", work)
		return 1
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "bench: data and logs kept in %s\n", work)
	} else if err := os.RemoveAll(work); err != nil {
		fmt.Fprintln(os.Stderr, "bench: remove scratch dir:", err)
	}
	return 0
}

func (ar *accessResult) run(ctx context.Context, o *options, pc *pveCluster, rb *raftBench, res *results, progress func(string, ...any)) {
	root := pc.nodes[0].ctl
	progress("access: creating %d users and the token of %s", accessClients, getUser)
	secret, err := accessSetup(ctx, root)
	if err != nil {
		ar.setupErr = err
		return
	}

	// Bare raft at 64 clients: from part (a) of this run when it has them.
	measureRaft := false
	if res != nil {
		ar.rest = res.rest[accessClients]
	}
	switch {
	case res != nil && len(res.raft[accessClients]) > 0:
		ar.raft, ar.raftSrc = res.raft[accessClients], "part (a) of this run (measured before this part)"
	case res != nil && res.raftErr != nil:
		ar.raftErr = fmt.Errorf("part (a): %w", res.raftErr)
	case rb != nil:
		measureRaft, ar.raftSrc = true, "part (a)'s raft cluster, rounds interleaved with (1)"
	default:
		progress("access: starting the bare raft cluster")
		b, err := newRaftBench(ctx, o, []byte(payloadText(o.payload)))
		if err != nil {
			ar.raftErr = err
		} else {
			defer b.close()
			rb, measureRaft = b, true
			ar.raftSrc = "a bare raft cluster of this part (as part (a)), rounds interleaved with (1)"
		}
	}

	creators := make([]*apiClient, accessClients)
	for k := range creators {
		creators[k] = pc.nodes[k%len(pc.nodes)].ctl.withTicket(1)
	}
	defer func() {
		for _, c := range creators {
			c.closeIdle()
		}
	}()
	for round := 1; round <= o.rounds && ctx.Err() == nil; round++ {
		if ar.createErr == nil {
			progress("access: round %d: (1) token creation, %d clients", round, accessClients)
			r, err := ar.measureCreate(ctx, o, pc, creators, round)
			if err != nil {
				ar.createErr = err
			} else {
				ar.create = append(ar.create, r)
			}
		}
		if measureRaft && ar.raftErr == nil {
			progress("access: round %d: bare raft, %d clients", round, accessClients)
			r, err := rb.measure(ctx, o, accessClients)
			if err != nil {
				ar.raftErr = err
			} else {
				ar.raft = append(ar.raft, r)
			}
		}
	}

	// (2) on the last node: it did not receive the token creation of the
	// GET user, so the token is known there through replication.
	d := pc.nodes[len(pc.nodes)-1]
	ar.getNode = d.name
	if st, err := d.ctl.status(ctx); err == nil {
		ar.getRole = "follower"
		if st.Leader == d.name {
			ar.getRole = "leader"
		}
	}
	auth := "PVEAPIToken=" + getUser + "!" + getTokenID + "=" + secret
	path := apiPrefix + "/access/users/" + url.PathEscape(getUser) + "/token"
	want, err := fetchOnce(ctx, "https://"+d.apiAddr+path, auth)
	if err != nil {
		ar.getErr = fmt.Errorf("%s: %w", d.name, err)
		return
	}
	ar.getBody = len(want)
	var list []struct {
		Tokenid string `json:"tokenid"`
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(want, &env) != nil || json.Unmarshal(env.Data, &list) != nil || len(list) != 1 || list[0].Tokenid != getTokenID {
		ar.getErr = fmt.Errorf("%s: GET %s answered %q, want one token %q", d.name, path, snippet(want), getTokenID)
		return
	}
	ar.verified = append(ar.verified, fmt.Sprintf("the token of %s, created on %s, authenticates on %s and lists itself", getUser, pc.nodes[0].name, d.name))
	bare, err := startBareHTTPS(ctx, want)
	if err != nil {
		ar.bareErr = err
	} else {
		defer bare.Close()
	}
	for round := 1; round <= o.rounds && ctx.Err() == nil; round++ {
		if ar.getErr == nil {
			progress("access: round %d: (2) token GET on %s, %d clients", round, d.name, accessClients)
			r, err := measureGET(ctx, o, "(2) pvecfs token GET", "https://"+d.apiAddr+path, auth, pc.cpu)
			if err != nil {
				ar.getErr = err
			} else {
				ar.get = append(ar.get, r)
			}
		}
		if bare != nil && ar.bareErr == nil {
			progress("access: round %d: bare HTTPS GET, %d clients", round, accessClients)
			r, err := measureGET(ctx, o, "bare HTTPS handler", "https://"+bare.Addr().String()+path, auth, func() cpuSample {
				self, ok := selfCPU()
				return cpuSample{self: self, ok: ok}
			})
			if err != nil {
				ar.bareErr = err
			} else {
				ar.bare = append(ar.bare, r)
			}
		}
	}
}

// accessSetup creates the users bench0..63@pve and benchget@pve with the
// token benchget@pve!get through root, and returns that token's secret.
func accessSetup(ctx context.Context, root *apiClient) (string, error) {
	if t, _ := root.creds(); t == "" {
		if err := root.login(ctx); err != nil {
			return "", fmt.Errorf("access setup: %w", err)
		}
	}
	for k := 0; k <= accessClients; k++ {
		u := "bench" + strconv.Itoa(k) + "@pve"
		if k == accessClients {
			u = getUser
		}
		if _, err := root.do(ctx, http.MethodPost, "/access/users", url.Values{"userid": {u}}, nil); err != nil {
			return "", fmt.Errorf("access setup: create user %s: %w", u, err)
		}
	}
	secret, err := createToken(ctx, root, getUser, getTokenID)
	if err != nil {
		return "", fmt.Errorf("access setup: %w", err)
	}
	// A token is never "self" for its user (Proxmox's userid-param self
	// compares the token id), so the GET passes through userid-group
	// [User.Modify]: PVEUserAdmin on /access/groups for the user and, as
	// privilege separation is on, for the token too.
	acl := url.Values{"path": {"/access/groups"}, "roles": {"PVEUserAdmin"}, "users": {getUser}, "tokens": {getUser + "!" + getTokenID}}
	if _, err := root.do(ctx, http.MethodPut, "/access/acl", acl, nil); err != nil {
		return "", fmt.Errorf("access setup: grant PVEUserAdmin on /access/groups: %w", err)
	}
	return secret, nil
}

// createToken is POST /access/users/{userid}/token/{tokenid}; it returns the
// secret.
func createToken(ctx context.Context, c *apiClient, userid, tokenid string) (string, error) {
	data, err := c.do(ctx, http.MethodPost, "/access/users/"+url.PathEscape(userid)+"/token/"+url.PathEscape(tokenid), url.Values{}, nil)
	if err != nil {
		return "", err
	}
	var d struct {
		Full  string `json:"full-tokenid"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.Value == "" || d.Full != userid+"!"+tokenid {
		return "", fmt.Errorf("create token %s!%s: unexpected answer %s", userid, tokenid, snippet(data))
	}
	return d.Value, nil
}

func benchTokenID(round, seq int) string { return "r" + strconv.Itoa(round) + "-" + strconv.Itoa(seq) }

// measureCreate runs one round of (1), then checks on the last node (with a
// linearizable read) that every token client 0 got acknowledged exists.
func (ar *accessResult) measureCreate(ctx context.Context, o *options, pc *pveCluster, creators []*apiClient, round int) (loadResult, error) {
	var acked0, total atomic.Int64
	r, err := runLoad(ctx, "(1) token creation", len(creators), o.warmup, o.duration, pc.cpu, func(ctx context.Context, k, seq int) error {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := createToken(octx, creators[k], "bench"+strconv.Itoa(k)+"@pve", benchTokenID(round, seq))
		if err == nil {
			total.Add(1)
			if k == 0 {
				acked0.Store(int64(seq) + 1)
			}
		}
		return err
	})
	prev := int64(0)
	if len(ar.tokens) > 0 {
		prev = ar.tokens[len(ar.tokens)-1]
	}
	ar.tokens = append(ar.tokens, prev+total.Load())
	if err != nil {
		return r, err
	}
	last := pc.nodes[len(pc.nodes)-1]
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := last.ctl.do(vctx, http.MethodGet, "/access/users/bench0@pve/token", nil, http.Header{"X-Pvecfs-Consistency": {"linearizable"}})
	if err != nil {
		return r, fmt.Errorf("(1) verify on %s: %w", last.name, err)
	}
	var list []struct {
		Tokenid string `json:"tokenid"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return r, fmt.Errorf("(1) verify on %s: decode %s: %w", last.name, snippet(data), err)
	}
	have := map[string]bool{}
	for _, t := range list {
		have[t.Tokenid] = true
	}
	n := int(acked0.Load())
	for seq := 0; seq < n; seq++ {
		if !have[benchTokenID(round, seq)] {
			return r, fmt.Errorf("(1) verify: token bench0@pve!%s was acknowledged by %s but %s does not list it", benchTokenID(round, seq), pc.nodes[0].name, last.name)
		}
	}
	ar.verified = append(ar.verified, fmt.Sprintf("round %d: all %d tokens acknowledged to client 0 (on %s) are listed by %s (linearizable read)",
		round, n, pc.nodes[0].name, last.name))
	return r, nil
}

// getClient is one keep-alive HTTPS connection (HTTP/1.1, certificate not
// verified), as apiClient but without its envelope handling.
func getClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // local benchmark against self-signed certificates
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}}
}

// getOnce sends GET u with the Authorization header and reads the whole
// answer; anything but 200 is an error with the body's start.
func getOnce(ctx context.Context, c *http.Client, u, auth string, buf []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("GET %s: read body: %w", u, err)
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, snippet(buf))
	}
	return buf, nil
}

func fetchOnce(ctx context.Context, u, auth string) ([]byte, error) {
	c := getClient()
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := getOnce(ctx, c, u, auth, make([]byte, 0, 512))
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// measureGET runs one row of GETs from accessClients keep-alive clients.
func measureGET(ctx context.Context, o *options, name, u, auth string, meter cpuMeter) (loadResult, error) {
	clients := make([]*http.Client, accessClients)
	bufs := make([][]byte, accessClients)
	for k := range clients {
		clients[k] = getClient()
		bufs[k] = make([]byte, 0, 512)
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	return runLoad(ctx, name, accessClients, o.warmup, o.duration, meter, func(ctx context.Context, k, _ int) error {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		b, err := getOnce(octx, clients[k], u, auth, bufs[k])
		bufs[k] = b
		return err
	})
}

// startBareHTTPS serves body (Content-Type as the pvecfs API) to every
// request on 127.0.0.1, with the API's TLS and server setup: a self-signed
// ECDSA P-256 certificate (pki.SelfSigned), TLS >= 1.2 with ALPN http/1.1
// only, api.Serve. Close the listener to stop it.
func startBareHTTPS(ctx context.Context, body []byte) (net.Listener, error) {
	certPEM, keyPEM, err := pki.SelfSigned("bench", []string{"127.0.0.1"})
	if err != nil {
		return nil, fmt.Errorf("bare HTTPS: %w", err)
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("bare HTTPS: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bare HTTPS: %w", err)
	}
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { _ = api.Serve(ctx, tln, h, log) }()
	return tln, nil
}

// render returns the body of the "## Access API" section.
func (ar *accessResult) render() string {
	info, o := ar.info, ar.info.Opts
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("Measured %s with `%s`", info.Date.UTC().Format("2006-01-02 15:04 MST"), info.Command)
	if info.Commit != "" {
		w(" at commit `%s`", info.Commit)
	}
	w(".\nMachine: %s", info.Machine)
	if info.LoadStart != "" {
		w("; load average %s at the start of this part, %s at its end (the machine is shared)", info.LoadStart, info.LoadEnd)
	}
	w(".\n\n")
	w("Three `pvecfs serve` processes on 127.0.0.1 formed with `pvecm create`/`pvecm add` (the cluster of the \"Cluster\" section when it runs in the same invocation). ")
	w("Set-up: users bench0@pve … bench63@pve and %s with the token %s!%s (privilege separation on), created through root@pam; ", getUser, getUser, getTokenID)
	w("since a token is never `self` for its user (Proxmox's `userid-param self` compares the token id), the user and the token get PVEUserAdmin on `/access/groups`, ")
	w("so (2) passes the permission check through `userid-group [User.Modify]` (token ∩ owner). ")
	w("(1) %d keep-alive HTTPS clients, client *k* on node `pve(k mod 3 + 1)`, logged in as root@pam (ticket cookie + `CSRFPreventionToken`), ", accessClients)
	w("each creating new tokens for its own user in a closed loop: `POST /api2/json/access/users/bench<k>@pve/token/r<round>-<i>` "+
		"(every answer checked for `full-tokenid` and a `value`); compared with bare hashicorp/raft `Apply` (no-op FSM, %d-byte entries) at %d clients, taken from %s. ", o.payload, accessClients, orDash(ar.raftSrc))
	w("(2) %d keep-alive HTTPS clients (HTTP/1.1, one connection each) sending `GET /api2/json/access/users/%s/token` with `Authorization: PVEAPIToken=%s!%s=<secret>` to node %s", accessClients, getUser, getUser, getTokenID, orDash(ar.getNode))
	if ar.getRole != "" {
		w(" (a %s)", ar.getRole)
	}
	if ar.getBody > 0 {
		w(", against a bare Go `net/http` server in the benchmark process answering the same %d bytes (pvecfs's answer, fetched once) with the same TLS and server setup ", ar.getBody)
	} else {
		w(", against a bare Go `net/http` server in the benchmark process answering pvecfs's answer, fetched once, with the same TLS and server setup ")
	}
	w("(self-signed ECDSA P-256 certificate from `pki.SelfSigned`, TLS ≥ 1.2, ALPN `http/1.1` only, `api.Serve`); the same client code drives both. ")
	w("Each row counts the operations completed in a %s window after %s of warm-up; every row was measured %d time%s (rounds interleaved: (1) and the raft row, then (2) and the bare row); ", o.duration, o.warmup, o.rounds, plural(o.rounds))
	w("the table shows the round with the median throughput (its count, p50 and p99, nearest rank) and the range over all rounds.\n\n")

	if ar.setupErr != nil {
		w("**Failed before measuring:** `%s`\n\n", firstLine(ar.setupErr))
	}
	w("| Workload | Clients | Ops | Ops/s | range | p50 | p99 | Errors | CPU used (cores) |\n")
	w("|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	rows := []struct {
		name   string
		rounds []loadResult
		err    error
		cpu    func(loadResult) string
	}{
		{"(1) token creation, POST …/token/{id}, 3 nodes", ar.create, ar.createErr, func(r loadResult) string {
			return fmt.Sprintf("nodes %.2f + clients %.2f", r.CPUNodes, r.CPUSelf)
		}},
		{"bare raft Apply, no-op FSM", ar.raft, ar.raftErr, func(r loadResult) string {
			return fmt.Sprintf("%.2f (nodes and clients, one process)", r.CPUSelf)
		}},
		{"(2) token-auth GET …/token, node " + orDash(ar.getNode), ar.get, ar.getErr, func(r loadResult) string {
			return fmt.Sprintf("nodes %.2f + clients %.2f", r.CPUNodes, r.CPUSelf)
		}},
		{"bare HTTPS handler, same TLS", ar.bare, ar.bareErr, func(r loadResult) string {
			return fmt.Sprintf("%.2f (server and clients, one process)", r.CPUSelf)
		}},
	}
	for _, row := range rows {
		r, lo, hi, ok := median(row.rounds)
		switch {
		case ok:
			errs := 0
			for _, x := range row.rounds {
				errs += x.Errors
			}
			cpu := "—"
			if r.CPUOK {
				cpu = row.cpu(r)
			}
			w("| %s | %d | %s | **%s** | %s–%s | %s | %s | %d | %s |\n", row.name, r.Clients, fmtInt(r.Ops), fmtInt(int(r.Rate()+0.5)),
				fmtInt(int(lo+0.5)), fmtInt(int(hi+0.5)), fmtDur(r.P(0.50)), fmtDur(r.P(0.99)), errs, cpu)
		case row.err != nil:
			w("| %s | %d | failed: `%s` | | | | | | |\n", row.name, accessClients, firstLine(row.err))
		default:
			w("| %s | %d | not measured | | | | | | |\n", row.name, accessClients)
		}
	}
	w("\n")
	ratio := func(what string, num, den []loadResult, target float64) {
		a, _, _, okA := median(num)
		d, _, _, okD := median(den)
		if !okA || !okD || d.Rate() <= 0 {
			w("- %s: not available (a row failed or was not measured).\n", what)
			return
		}
		x := a.Rate() / d.Rate()
		met := "met"
		if x < target {
			met = "not met"
		}
		w("- %s: **%.0f %%** (target ≥ %.0f %%, not asserted: %s).\n", what, 100*x, 100*target, met)
	}
	ratio("Token creations/s ÷ bare raft applies/s at 64 clients", ar.create, ar.raft, 0.80)
	ratio("Token-authenticated GET req/s ÷ bare HTTPS req/s", ar.get, ar.bare, 0.50)
	if r, _, _, ok := median(ar.rest); ok && r.Rate() > 0 {
		if a, _, _, okA := median(ar.raft); okA && a.Rate() > 0 {
			w("- For reference, part (b) of this run (1 KiB raw file `PUT /api2/json/pvecfs/files`, 64 clients, same cluster): %s writes/s, %.0f %% of the same bare raft row.\n",
				fmtInt(int(r.Rate()+0.5)), 100*r.Rate()/a.Rate())
		}
	}
	w("\n")
	for _, e := range []struct {
		name string
		err  error
	}{{"(1)", ar.createErr}, {"bare raft", ar.raftErr}, {"(2)", ar.getErr}, {"bare HTTPS", ar.bareErr}} {
		if e.err != nil {
			w("**%s failed:** `%s`\n\n", e.name, firstLine(e.err))
		}
	}
	for _, rs := range [][]loadResult{ar.create, ar.raft, ar.get, ar.bare} {
		for i, r := range rs {
			if r.Errors > 0 && r.FirstErr != nil {
				w("%s, round %d: %d errors, the first: `%s`\n\n", r.Name, i+1, r.Errors, firstLine(r.FirstErr))
			}
		}
	}
	if len(ar.create) > 1 {
		var rs []string
		for i, r := range ar.create {
			rs = append(rs, fmt.Sprintf("%s/s (user.cfg then holds %s tokens)", fmtInt(int(r.Rate()+0.5)), fmtInt(int(ar.tokens[i]))))
		}
		w("(1) by round, in order: %s.\n\n", strings.Join(rs, ", "))
	}
	if n := min(len(ar.get), len(ar.bare)); n > 1 {
		var rs []string
		for i := 0; i < n; i++ {
			if ar.bare[i].Rate() > 0 {
				rs = append(rs, fmt.Sprintf("%.0f %%", 100*ar.get[i].Rate()/ar.bare[i].Rate()))
			}
		}
		w("(2) ÷ bare by round (each pair measured back to back): %s.\n\n", strings.Join(rs, ", "))
	}
	if len(ar.verified) > 0 {
		w("Checked after measuring: %s.\n\n", strings.Join(ar.verified, "; "))
	}
	w("Caveats: the load generator shares the machine's cores with the nodes; in (2) the bare server and its clients share this process, ")
	w("while the pvecfs node is a separate process (the other two nodes idle); the bare raft row has no TLS, no HTTP and no access-control work, ")
	w("and its entries are %d bytes while a token creation's log entry differs; user.cfg grows by the tokens of each round ", o.payload)
	w("(see the rates by round); runs vary (±20 %% is usual on shared machines). This part took %s of wall time, cluster formation included when it started its own.\n", ar.elapsed.Round(time.Second))
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// replaceNamedSection replaces the section with the given heading (from the
// heading to the next level 1 or 2 heading outside a code fence, or the end)
// with heading + body, or appends it.
func replaceNamedSection(doc, heading, body string) string {
	section := heading + "\n\n" + strings.TrimRight(body, "\n") + "\n"
	if strings.TrimSpace(doc) == "" {
		return "# Benchmarks\n\n" + section
	}
	lines := strings.SplitAfter(doc, "\n")
	start, end := -1, len(lines)
	fence := false
	for i, l := range lines {
		t := strings.TrimRight(l, " \t\r\n")
		if strings.HasPrefix(strings.TrimSpace(t), "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		if start < 0 {
			if t == heading {
				start = i
			}
			continue
		}
		if strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "## ") || t == "#" || t == "##" {
			end = i
			break
		}
	}
	if start < 0 {
		return strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	after := strings.Join(lines[end:], "")
	if after != "" {
		section += "\n"
	}
	return strings.Join(lines[:start], "") + section + after
}

func writeNamedSection(path, heading, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	doc := replaceNamedSection(string(old), heading, body)
	tmp := path + ".access.tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
