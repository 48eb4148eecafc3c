package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pvecfs/pvecfs/pki"
)

// Join makes this standalone node a member of the cluster hostname belongs
// to: log in there as root@pam (certificate pinned to fingerprint), get
// recorded in corosync.conf and receive a cluster certificate, restart Raft
// empty with that certificate, and become a voter. The tree is replaced by
// the cluster's. Joining again with the same name and address changes
// nothing.
func (o clusterOps) Join(ctx context.Context, hostname, fingerprint, password string, force bool) error {
	d := o.d
	select {
	case d.joinLock <- struct{}{}:
		defer func() { <-d.joinLock }()
	default:
		return errors.New("another join is in progress")
	}
	fp, err := pki.NormalizeFingerprint(fingerprint)
	if err != nil {
		return err
	}
	target := hostname
	if _, _, err := net.SplitHostPort(target); err != nil {
		target = net.JoinHostPort(target, "8006")
	}
	if c := d.conf(); c != nil {
		self, ok := c.Member(d.cfg.Node)
		if ok && self.RaftAddr == d.cfg.RaftAdvertise {
			for _, m := range c.Nodes {
				if m.APIAddr == target || hostOf(m.APIAddr) == hostname {
					d.log.Info("join: already a member of this cluster, nothing to do", "cluster", c.Name)
					return nil
				}
			}
		}
		return fmt.Errorf("this host is already part of cluster '%s'\nCheck if node may join a cluster failed!\n", c.Name)
	}
	if extra := d.nonDefaultConfig(); len(extra) > 0 {
		return fmt.Errorf("this node holds configuration beyond the defaults, refusing to join (a joining node's tree is replaced):\n* %s\n", strings.Join(extra, "\n* "))
	}
	if servers, err := d.node.Servers(); err == nil && len(servers) > 1 {
		return errors.New("this node is already part of a Raft cluster")
	}
	rc := &remote{base: "https://" + target + "/api2/json", client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: pki.PinnedClientTLS(fp)}}}
	if err := rc.login(ctx, "root@pam", password); err != nil {
		return err
	}
	keyPEM, pubPEM, err := pki.NewKey()
	if err != nil {
		return err
	}
	form := url.Values{"raft_addr": {d.cfg.RaftAdvertise}, "api_addr": {d.apiAdvertise()}, "pubkey": {string(pubPEM)},
		"fingerprint": {d.apiFP}, "apiversion": {"1"}}
	if force {
		form.Set("force", "1")
	}
	var resp struct {
		CA       string `json:"ca"`
		Cert     string `json:"cert"`
		RaftAddr string `json:"raft_addr"`
		Leader   string `json:"leader_raft_addr"`
	}
	if err := rc.do(ctx, "POST", "/cluster/config/nodes/"+url.PathEscape(d.cfg.Node), form, &resp); err != nil {
		return fmt.Errorf("An error occurred on the cluster node: %w\nCluster join aborted!\n", err)
	}
	// from here on this node belongs to the cluster: persist before switching
	if err := pki.WriteFileAtomic(d.path(caCertFile), []byte(resp.CA), 0o644); err != nil {
		return err
	}
	if err := pki.SaveKeyPair(d.path(nodeCertFile), d.path(nodeKeyFile), []byte(resp.Cert), keyPEM); err != nil {
		return err
	}
	d.id.Joined = true
	if err := writeIdentity(d.cfg.DataDir, d.id); err != nil {
		return err
	}
	if err := d.loadNodeTLS(); err != nil {
		return err
	}
	if err := d.node.Rejoin(d.tlsNode); err != nil {
		return fmt.Errorf("restart cluster service: %w", err)
	}
	// become a voter, through the node we joined (it forwards to the leader)
	deadline := time.Now().Add(60 * time.Second)
	for {
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err = d.node.AddVoterVia(actx, resp.RaftAddr, d.cfg.Node, d.cfg.RaftAdvertise)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("join: could not become a cluster member: %w", err)
		}
		d.log.Warn("join: add voter failed, retrying", "err", err)
		time.Sleep(500 * time.Millisecond)
	}
	for {
		if c := d.conf(); c != nil {
			if _, ok := c.Member(d.cfg.Node); ok {
				break
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("join: waiting for the cluster state: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("join: timed out waiting for the cluster state")
		}
	}
	d.log.Info("joined cluster", "via", target)
	return nil
}

// nonDefaultConfig lists what this node holds beyond a fresh node's
// defaults (a joining node's tree is replaced, so it must hold nothing).
func (d *Daemon) nonDefaultConfig() []string {
	var extra []string
	allowed := map[string]bool{"user.cfg": true, "domains.cfg": true, "priv/shadow.cfg": true, PamShadowPath: true,
		"priv/token.cfg": true, "pve-root-ca.pem": true, "priv/pve-root-ca.key": true, "priv": true, "priv/lock": true, "nodes": true}
	for _, f := range d.extraAllowed() {
		allowed[f] = true
	}
	for _, p := range d.tree.Paths() {
		if allowed[p] || p == "nodes/"+d.cfg.Node || strings.HasPrefix(p, "nodes/"+d.cfg.Node+"/") {
			e, _ := d.tree.Get(p)
			if strings.HasPrefix(p, "nodes/"+d.cfg.Node+"/") && !e.IsDir() && p != "nodes/"+d.cfg.Node+"/pve-ssl.pem" {
				extra = append(extra, p)
			}
			continue
		}
		extra = append(extra, p)
	}
	for _, p := range []string{"user.cfg", "domains.cfg", "priv/shadow.cfg", "priv/token.cfg"} {
		e, ok := d.tree.Get(p)
		if !ok {
			continue
		}
		switch p {
		case "user.cfg":
			for _, line := range strings.Split(string(e.Bytes()), "\n") {
				line = strings.TrimSpace(line)
				if line != "" && !strings.HasPrefix(line, "user:root@pam:") {
					extra = append(extra, "user.cfg: "+line)
				}
			}
		case "domains.cfg":
			for _, line := range strings.Split(string(e.Bytes()), "\n") {
				if strings.Contains(line, ":") && !strings.HasPrefix(line, "pam:") && !strings.HasPrefix(line, "pve:") {
					extra = append(extra, "domains.cfg: realm "+strings.TrimSpace(line))
				}
			}
		default:
			if strings.TrimSpace(string(e.Bytes())) != "" {
				extra = append(extra, p+" is not empty")
			}
		}
	}
	return extra
}

// extraAllowed lists further default files other packages create at init.
func (d *Daemon) extraAllowed() []string {
	return []string{"authkey.pub", "authkey.pub.old", "priv/authkey.key", "pve-www.key", "priv/tfa.cfg"}
}

// remote is a minimal Proxmox API client used by join.
type remote struct {
	base   string
	client *http.Client
	ticket string
	csrf   string
}

func (rc *remote) login(ctx context.Context, user, password string) error {
	var out struct {
		Ticket string `json:"ticket"`
		CSRF   string `json:"CSRFPreventionToken"`
	}
	if err := rc.do(ctx, "POST", "/access/ticket", url.Values{"username": {user}, "password": {password}}, &out); err != nil {
		return fmt.Errorf("login to cluster node failed: %w", err)
	}
	rc.ticket, rc.csrf = out.Ticket, out.CSRF
	return nil
}

func (rc *remote) do(ctx context.Context, method, path string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, rc.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rc.ticket != "" {
		req.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: rc.ticket})
		req.Header.Set("CSRFPreventionToken", rc.csrf)
	}
	resp, err := rc.client.Do(req)
	if err != nil {
		var fe *pki.FingerprintError
		if errors.As(err, &fe) {
			return fe
		}
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	var env struct {
		Data    json.RawMessage   `json:"data"`
		Message string            `json:"message"`
		Errors  map[string]string `json:"errors"`
	}
	_ = json.Unmarshal(body, &env)
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(env.Message)
		if msg == "" {
			msg = resp.Status
		}
		for k, v := range env.Errors {
			msg += fmt.Sprintf("\n%s: %s", k, v)
		}
		return errors.New(msg)
	}
	if out != nil {
		return json.Unmarshal(env.Data, out)
	}
	return nil
}
