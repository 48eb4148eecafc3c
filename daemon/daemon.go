// Package daemon assembles a pvecfs node: data dir, certificates, the Raft
// node over the cfs tree, the REST API on HTTPS and the local root socket.
package daemon

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/ticket"
	"github.com/pvecfs/pvecfs/api"
	"github.com/pvecfs/pvecfs/cfs"
	"github.com/pvecfs/pvecfs/cluster"
	"github.com/pvecfs/pvecfs/pki"
)

// Config is what `pvecfs serve` is given.
type Config struct {
	Node          string
	DataDir       string
	APIAddr       string
	RaftAddr      string
	RaftAdvertise string
	MetricsAddr   string
	Timing        cluster.Timing
	AuthFailDelay time.Duration
	Logger        *slog.Logger
	LogJSON       bool
}

// Daemon is a running node.
type Daemon struct {
	cfg      Config
	log      *slog.Logger
	id       *identity
	tree     *cfs.Tree
	node     *cluster.Node
	api      *api.Server
	apiCert  []byte
	apiFP    string
	lock     *os.File
	started  time.Time
	cancel   context.CancelFunc
	done     chan struct{}
	apiLn    net.Listener
	sockLn   net.Listener
	metrics  *metrics
	tlsNode  cluster.TLSMaterial
	caPEM    []byte
	joinLock chan struct{}
}

// Run starts the node and blocks until ctx ends, then shuts down cleanly.
func Run(ctx context.Context, cfg Config) error {
	d, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return d.Close()
}

// Start brings a node up and returns once it serves its API.
func Start(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Node == "" {
		h, _ := os.Hostname()
		cfg.Node, _, _ = strings.Cut(h, ".")
	}
	if !cluster.ValidNodeName(cfg.Node) {
		return nil, fmt.Errorf("invalid node name '%s' (letters, digits and inner hyphens, up to 63)", cfg.Node)
	}
	adv, err := advertiseAddr(cfg.RaftAddr, cfg.RaftAdvertise)
	if err != nil {
		return nil, err
	}
	cfg.RaftAdvertise = adv
	d := &Daemon{cfg: cfg, log: cfg.Logger, started: time.Now(), done: make(chan struct{}), joinLock: make(chan struct{}, 1)}
	fresh, err := prepareDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if d.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			d.lock.Close()
		}
	}()
	if fresh {
		d.id = &identity{Name: cfg.Node}
		if err := writeIdentity(cfg.DataDir, d.id); err != nil {
			return nil, fmt.Errorf("write identity: %w", err)
		}
	} else {
		if d.id, err = readIdentity(cfg.DataDir); err != nil {
			return nil, err
		}
		if d.id.Name != cfg.Node {
			return nil, fmt.Errorf("data dir %s belongs to node '%s', not '%s'", cfg.DataDir, d.id.Name, cfg.Node)
		}
	}
	if err := d.loadCerts(); err != nil {
		return nil, err
	}
	if d.tree, err = NewTree(); err != nil {
		return nil, err
	}
	d.node, err = cluster.New(cluster.Config{
		Name: cfg.Node, DataDir: cfg.DataDir, Bind: cfg.RaftAddr, Advertise: cfg.RaftAdvertise, APIAddr: cfg.APIAddr,
		TLS: d.tlsNode, Tree: d.tree, Bootstrap: !d.id.Joined, Timing: cfg.Timing, Logger: cfg.Logger, LogJSON: cfg.LogJSON,
	})
	if err != nil {
		return nil, err
	}
	if err := d.node.Start(ctx); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	if !d.id.Initialized && !d.id.Joined {
		if err := d.initialize(ctx); err != nil {
			cancel()
			d.node.Shutdown()
			return nil, err
		}
	}
	d.catchUp(ctx)
	d.metrics = newMetrics(d)
	if err := d.serve(runCtx); err != nil {
		cancel()
		d.node.Shutdown()
		return nil, err
	}
	ok = true
	d.log.Info("node ready", "node", cfg.Node, "api", "https://"+cfg.APIAddr, "raft", cfg.RaftAdvertise, "fingerprint", d.apiFP)
	return d, nil
}

// catchUp waits (bounded) until the local tree has applied what the
// cluster has committed, so a restarted node serves its full state. Without
// a quorum it gives up and serves the local copy, as pmxcfs does.
func (d *Daemon) catchUp(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		err := d.node.LinearizableRead(cctx)
		if err == nil {
			return
		}
		select {
		case <-cctx.Done():
			d.log.Warn("serving without catching up with the cluster", "err", err)
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// advertiseAddr picks the address other nodes dial for the cluster port.
func advertiseAddr(bind, adv string) (string, error) {
	if adv != "" {
		return adv, nil
	}
	host, port, err := net.SplitHostPort(bind)
	if err != nil {
		return "", fmt.Errorf("invalid --raft-addr '%s': %w", bind, err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return bind, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return net.JoinHostPort(ipn.IP.String(), port), nil
			}
		}
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

func (d *Daemon) path(name string) string { return filepath.Join(d.cfg.DataDir, name) }

func hostsOf(addrs ...string) []string {
	hosts := []string{"localhost", "127.0.0.1"}
	for _, a := range addrs {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// loadCerts loads (or on first start creates) the API certificate and the
// cluster TLS material: a fresh node is its own one-voter cluster with its
// own CA; joining replaces node cert and CA with the cluster's.
func (d *Daemon) loadCerts() error {
	cert, _, created, err := pki.EnsureSelfSigned(d.path(apiCertFile), d.path(apiKeyFile), d.cfg.Node, hostsOf(d.cfg.APIAddr))
	if err != nil {
		return fmt.Errorf("api certificate: %w", err)
	}
	if created {
		d.log.Info("generated API certificate", "path", d.path(apiCertFile))
	}
	d.apiCert = cert
	if d.apiFP, err = pki.Fingerprint(cert); err != nil {
		return err
	}
	if _, err := os.Stat(d.path(nodeCertFile)); errors.Is(err, os.ErrNotExist) {
		if cluster.HasState(d.cfg.DataDir) {
			return fmt.Errorf("data dir %s holds Raft state but no %s: refusing to start", d.cfg.DataDir, nodeCertFile)
		}
		caPEM, caKey, err := pki.NewCA("pvecfs-" + d.cfg.Node)
		if err != nil {
			return err
		}
		if err := pki.WriteFileAtomic(d.path(caKeyFile), caKey, 0o600); err != nil {
			return err
		}
		if err := d.issueOwnCert(caPEM, caKey); err != nil {
			return err
		}
	}
	return d.loadNodeTLS()
}

// issueOwnCert makes a node key and a certificate from the CA and stores
// them with the CA certificate.
func (d *Daemon) issueOwnCert(caPEM, caKey []byte) error {
	keyPEM, pubPEM, err := pki.NewKey()
	if err != nil {
		return err
	}
	certPEM, err := pki.IssueNodeCert(caPEM, caKey, d.cfg.Node, pubPEM, hostsOf(d.cfg.RaftAdvertise, d.cfg.RaftAddr))
	if err != nil {
		return err
	}
	if err := pki.WriteFileAtomic(d.path(caCertFile), caPEM, 0o644); err != nil {
		return err
	}
	return pki.SaveKeyPair(d.path(nodeCertFile), d.path(nodeKeyFile), certPEM, keyPEM)
}

func (d *Daemon) loadNodeTLS() error {
	certPEM, keyPEM, err := pki.LoadKeyPair(d.path(nodeCertFile), d.path(nodeKeyFile))
	if err != nil {
		return fmt.Errorf("node certificate: %w", err)
	}
	caPEM, err := os.ReadFile(d.path(caCertFile))
	if err != nil {
		return fmt.Errorf("cluster CA: %w", err)
	}
	srv, err := pki.ServerTLS(certPEM, keyPEM, caPEM)
	if err != nil {
		return fmt.Errorf("cluster TLS: %w", err)
	}
	cli, err := pki.ClientTLS(certPEM, keyPEM, caPEM)
	if err != nil {
		return fmt.Errorf("cluster TLS: %w", err)
	}
	d.tlsNode = cluster.TLSMaterial{Server: srv, Client: cli}
	d.caPEM = caPEM
	return nil
}

// initialize applies the defaults of a fresh standalone node through the log.
func (d *Daemon) initialize(ctx context.Context) error {
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for !d.node.IsLeader() {
		select {
		case <-ictx.Done():
			return fmt.Errorf("initialize: node did not become leader of its standalone cluster: %w", ictx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := d.node.LinearizableRead(ictx); err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if _, ok := d.tree.Get("user.cfg"); !ok {
		pw, generated, err := rootPassword()
		if err != nil {
			return err
		}
		if generated {
			if err := pki.WriteFileAtomic(d.path(RootPasswordFile), []byte(pw+"\n"), 0o600); err != nil {
				return fmt.Errorf("write root password: %w", err)
			}
			d.log.Info("generated root@pam password", "path", d.path(RootPasswordFile))
		}
		salt, err := shadow.NewSalt()
		if err != nil {
			return err
		}
		caKey, err := os.ReadFile(d.path(caKeyFile))
		if err != nil {
			return fmt.Errorf("initialize: read CA key: %w", err)
		}
		ops, err := defaultTree(d.cfg.Node, shadow.Hash(pw, salt), d.caPEM, caKey, d.apiCert)
		if err != nil {
			return err
		}
		cmd, err := cfs.NewCommand(cfs.OpBatch, ops)
		if err != nil {
			return err
		}
		res, err := d.node.Apply(ictx, cmd)
		if err != nil {
			return fmt.Errorf("initialize: %w", err)
		}
		if err := res.Error(); err != nil {
			return fmt.Errorf("initialize: %w", err)
		}
	}
	d.id.Initialized = true
	return writeIdentity(d.cfg.DataDir, d.id)
}

func rootPassword() (string, bool, error) {
	if pw := os.Getenv("PVECFS_ROOT_PASSWORD"); pw != "" {
		return pw, false, nil
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	return base64.RawURLEncoding.EncodeToString(b), true, nil
}

// DefaultDomains is the domains.cfg of a fresh node.
const DefaultDomains = "pam: pam\n\tcomment Linux PAM standard authentication\n\npve: pve\n\tcomment Proxmox VE authentication server\n\n"

// defaultTree lists the files and directories of a fresh node.
func defaultTree(node, rootHash string, caPEM, caKey, apiCert []byte) ([]cfs.BatchOp, error) {
	var ops []cfs.BatchOp
	add := func(op string, body any) error {
		b, err := cfsMarshal(body)
		if err != nil {
			return err
		}
		ops = append(ops, cfs.BatchOp{Op: op, Body: b})
		return nil
	}
	for _, dir := range []string{"priv", "priv/lock", "nodes", "nodes/" + node, "nodes/" + node + "/lxc",
		"nodes/" + node + "/qemu-server", "nodes/" + node + "/openvz", "nodes/" + node + "/priv"} {
		if err := add(cfs.OpMkdir, cfs.PathRequest{Path: dir, Parents: true}); err != nil {
			return nil, err
		}
	}
	authPriv, authPub, err := ticket.GenerateKeyPair()
	if err != nil {
		return nil, err
	}
	wwwKey, err := ticket.GenerateWWWKey()
	if err != nil {
		return nil, err
	}
	files := []struct {
		path string
		data []byte
	}{
		{"user.cfg", []byte("user:root@pam:1:0::::::\n")},
		{"domains.cfg", []byte(DefaultDomains)},
		{"priv/shadow.cfg", nil},
		{PamShadowPath, []byte("root:" + rootHash + ":\n")},
		{"priv/token.cfg", nil},
		{"pve-root-ca.pem", caPEM},
		{"priv/pve-root-ca.key", caKey},
		{"nodes/" + node + "/pve-ssl.pem", apiCert},
		{ticket.PubKeyPath, authPub},
		{ticket.PrivKeyPath, authPriv},
		{ticket.WWWKeyPath, wwwKey},
	}
	for _, f := range files {
		if err := add(cfs.OpWrite, cfs.WriteRequest{Path: f.path, Data: f.data}); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// serve starts the HTTPS API, the root socket and the metrics endpoint.
func (d *Daemon) serve(ctx context.Context) error {
	d.api = api.New(nil, d.log)
	if d.cfg.AuthFailDelay >= 0 {
		d.api.FailDelay = d.cfg.AuthFailDelay
	}
	d.registerEndpoints()
	certPEM, keyPEM, err := pki.LoadKeyPair(d.path(apiCertFile), d.path(apiKeyFile))
	if err != nil {
		return err
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("api certificate: %w", err)
	}
	ln, err := net.Listen("tcp", d.cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", d.cfg.APIAddr, err)
	}
	d.apiLn = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	sock := d.path(SocketName)
	_ = os.Remove(sock)
	sln, err := net.Listen("unix", sock)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		sln.Close()
		return fmt.Errorf("chmod %s: %w", sock, err)
	}
	d.sockLn = sln
	go func() {
		if err := api.Serve(ctx, d.apiLn, d.metrics.wrap(d.api.Handler()), d.log); err != nil {
			d.log.Error("api server stopped", "err", err)
		}
	}()
	go func() {
		if err := api.Serve(ctx, d.sockLn, d.api.SocketHandler(), d.log); err != nil {
			d.log.Error("socket server stopped", "err", err)
		}
	}()
	if d.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", d.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", d.cfg.MetricsAddr, err)
		}
		go func() {
			mux := http.NewServeMux()
			mux.Handle("/metrics", d.metrics.handler())
			// profiling for operators, on the same private listener
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
			if err := api.Serve(ctx, mln, mux, d.log); err != nil {
				d.log.Error("metrics server stopped", "err", err)
			}
		}()
	}
	return nil
}

// Close shuts the node down: API first, then Raft.
func (d *Daemon) Close() error {
	d.cancel()
	if d.apiLn != nil {
		d.apiLn.Close()
	}
	if d.sockLn != nil {
		d.sockLn.Close()
	}
	err := d.node.Shutdown()
	_ = os.Remove(d.path(SocketName))
	d.lock.Close()
	d.log.Info("node stopped", "node", d.cfg.Node)
	return err
}

// Node returns the cluster node.
func (d *Daemon) Node() *cluster.Node { return d.node }

// Fingerprint returns the API certificate fingerprint.
func (d *Daemon) Fingerprint() string { return d.apiFP }
