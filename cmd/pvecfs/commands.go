package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/pvecfs/pvecfs/cfs"
	"github.com/pvecfs/pvecfs/cli"
	"github.com/pvecfs/pvecfs/pki"
)

func opt(name string, t cli.OptType, help string) cli.Opt {
	return cli.Opt{Name: name, Type: t, Help: help}
}

var (
	linearizable = opt("linearizable", cli.Bool, "read only after catching up with the leader")
	digestOpt    = opt("digest", cli.String, "SHA-1 the file must have (refuse if changed)")
	lockOpt      = opt("lock", cli.String, "cluster lock held for this write (with --fence)")
	fenceOpt     = opt("fence", cli.Int, "fencing token of the held lock")
	ownerOpt     = opt("owner", cli.String, "lock owner")
	leaseOpt     = opt("lease", cli.Int, "lease in seconds")
)

var (
	fileColumns = []cli.Column{{Name: "name"}, {Name: "type"}, {Name: "size", Type: cli.TInteger}, {Name: "version", Type: cli.TInteger},
		{Name: "mtime", Type: cli.TInteger}, {Name: "writer"}}
	fileKeys = []cli.Column{{Name: "path"}, {Name: "type"}, {Name: "size"}, {Name: "version"}, {Name: "mtime"}, {Name: "writer"},
		{Name: "digest"}}
	lockColumns = []cli.Column{{Name: "id"}, {Name: "owner"}, {Name: "node"}, {Name: "fence", Type: cli.TInteger},
		{Name: "granted", Type: cli.TInteger}, {Name: "expires", Type: cli.TInteger}}
	grantKeys    = []cli.Column{{Name: "id"}, {Name: "owner"}, {Name: "fence"}, {Name: "expires"}}
	checksumKeys = []cli.Column{{Name: "checksum"}, {Name: "version"}, {Name: "applied"}}
)

func commands() []*cli.Command {
	return []*cli.Command{
		{Name: "serve", Help: "Run the node.", NoConn: true, Opts: serveOpts, Run: serve},
		{Name: "fingerprint", Help: "Print the SHA-256 fingerprint of the node's API certificate.", NoConn: true,
			Opts: []cli.Opt{opt("data-dir", cli.String, "data dir of the node (env PVECFS_DATA_DIR)")}, Run: fingerprint},
		{Name: "ls", Help: "List a directory of the replicated tree (or describe a file).", OptArgs: []string{"dir"},
			Opts: []cli.Opt{linearizable}, Output: true, Run: ls},
		{Name: "cat", Help: "Print a file of the replicated tree.", Args: []string{"path"}, Opts: []cli.Opt{linearizable}, Run: cat},
		{Name: "put", Help: "Replace (or create) a file with standard input; warnings go to stderr.", Args: []string{"path"},
			Opts:   []cli.Opt{digestOpt, opt("strict", cli.Bool, "refuse the write on any parser warning"), lockOpt, fenceOpt},
			Output: true, Run: put},
		{Name: "rm", Help: "Remove a file or an empty directory.", Args: []string{"path"}, Opts: []cli.Opt{digestOpt, lockOpt, fenceOpt}, Run: rm},
		{Name: "lock", Sub: []*cli.Command{
			{Name: "acquire", Help: "Acquire a cluster lock; prints owner and fencing token.", Args: []string{"id"},
				Opts: []cli.Opt{leaseOpt, opt("timeout", cli.Int, "seconds to wait for the lock (default 10)"), ownerOpt}, Output: true,
				Run: func(c *cli.Ctx) error {
					return call(c, http.MethodPost, "/pvecfs/locks/"+cli.PathEscape(c.Arg(0)), c.Opts.Form("lease", "timeout", "owner"),
						cli.Schema{Kind: cli.KindObject, Columns: grantKeys})
				}},
			{Name: "renew", Help: "Renew a held cluster lock.", Args: []string{"id"}, Opts: []cli.Opt{ownerOpt, fenceOpt, leaseOpt}, Output: true,
				Run: func(c *cli.Ctx) error {
					if err := need(c, "owner", "fence"); err != nil {
						return err
					}
					return call(c, http.MethodPut, "/pvecfs/locks/"+cli.PathEscape(c.Arg(0)), c.Opts.Form("owner", "fence", "lease"),
						cli.Schema{Kind: cli.KindObject, Columns: grantKeys})
				}},
			{Name: "release", Help: "Release a held cluster lock.", Args: []string{"id"}, Opts: []cli.Opt{ownerOpt, fenceOpt},
				Run: func(c *cli.Ctx) error {
					if err := need(c, "owner", "fence"); err != nil {
						return err
					}
					return call(c, http.MethodDelete, "/pvecfs/locks/"+cli.PathEscape(c.Arg(0)), c.Opts.Form("owner", "fence"),
						cli.Schema{Kind: cli.KindNull})
				}},
			{Name: "list", Help: "List live cluster locks.", Output: true, Run: func(c *cli.Ctx) error {
				return call(c, http.MethodGet, "/pvecfs/locks", nil, cli.Schema{Kind: cli.KindList, Columns: lockColumns})
			}},
		}},
		{Name: "checksum", Help: "Print the whole-tree checksum, version and applied log index.", Opts: []cli.Opt{linearizable}, Output: true,
			Run: func(c *cli.Ctx) error {
				if err := consistency(c); err != nil {
					return err
				}
				return call(c, http.MethodGet, "/pvecfs/checksum", nil, cli.Schema{Kind: cli.KindObject, Columns: checksumKeys})
			}},
	}
}

// need checks that required options were given.
func need(c *cli.Ctx, names ...string) error {
	for _, n := range names {
		if !c.Opts.Has(n) {
			return fmt.Errorf("option --%s is required", n)
		}
	}
	return nil
}

func call(c *cli.Ctx, method, path string, p url.Values, s cli.Schema) error {
	data, err := c.Call(method, path, p)
	if err != nil {
		return err
	}
	return c.Print(data, s)
}

// consistency asks for a linearizable read when --linearizable is set.
func consistency(c *cli.Ctx) error {
	if !c.Opts.Bool("linearizable", false) {
		return nil
	}
	cl, err := c.Client()
	if err != nil {
		return err
	}
	cl.SetHeader("X-Pvecfs-Consistency", "linearizable")
	return nil
}

// treePath turns a user's path into a tree path: "/etc/pve/user.cfg" and
// "user.cfg" both name user.cfg.
func treePath(p string) string {
	if p == "/etc/pve" {
		return ""
	}
	return strings.TrimPrefix(p, "/etc/pve/")
}

func fingerprint(c *cli.Ctx) error {
	path := filepath.Join(c.DataDir(), "api.crt")
	pem, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no API certificate at %s (the node creates it on its first start)", path)
	}
	if err != nil {
		return fmt.Errorf("read API certificate: %w", err)
	}
	fp, err := pki.Fingerprint(pem)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, err = fmt.Fprintln(c.Stdout, fp)
	return err
}

func ls(c *cli.Ctx) error {
	if err := consistency(c); err != nil {
		return err
	}
	p := url.Values{"content": {"0"}}
	if dir := treePath(c.Arg(0)); dir != "" {
		p.Set("path", dir)
	}
	data, err := c.Call(http.MethodGet, "/pvecfs/files", p)
	if err != nil {
		return err
	}
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "{") {
		return c.Print(data, cli.Schema{Kind: cli.KindObject, Columns: fileKeys})
	}
	return c.Print(data, cli.Schema{Kind: cli.KindList, Columns: fileColumns})
}

func cat(c *cli.Ctx) error {
	if err := consistency(c); err != nil {
		return err
	}
	path := treePath(c.Arg(0))
	data, err := c.Call(http.MethodGet, "/pvecfs/files", url.Values{"path": {path}})
	if err != nil {
		return err
	}
	var f struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		if strings.HasPrefix(strings.TrimSpace(string(data)), "[") {
			return fmt.Errorf("'%s' is a directory", c.Arg(0))
		}
		return fmt.Errorf("invalid answer: %w", err)
	}
	if f.Type == "dir" {
		return fmt.Errorf("'%s' is a directory", c.Arg(0))
	}
	_, err = io.WriteString(c.Stdout, f.Content)
	return err
}

// checkContent refuses what the contract says is always refused.
func checkContent(path string, data []byte) error {
	if len(data) > cfs.MaxFileSize {
		return fmt.Errorf("refusing to write '%s': content is over the 1 MiB file limit (%d bytes, limit %d)", path, len(data), cfs.MaxFileSize)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("refusing to write '%s': content is not valid UTF-8 text", path)
	}
	return nil
}

func put(c *cli.Ctx) error {
	path := treePath(c.Arg(0))
	if c.Stdin == nil {
		return errors.New("no standard input to read the file from")
	}
	data, err := io.ReadAll(io.LimitReader(c.Stdin, cfs.MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	if len(data) > cfs.MaxFileSize {
		return fmt.Errorf("refusing to write '%s': content is over the 1 MiB file limit (limit %d bytes)", c.Arg(0), cfs.MaxFileSize)
	}
	if err := checkContent(c.Arg(0), data); err != nil {
		return err
	}
	p := c.Opts.Form("digest", "strict", "lock", "fence")
	p.Set("path", path)
	p.Set("content", string(data))
	res, err := c.Call(http.MethodPut, "/pvecfs/files", p)
	if err != nil {
		return err
	}
	var wr struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(res, &wr); err == nil {
		for _, w := range wr.Warnings {
			fmt.Fprintln(c.Stderr, strings.TrimRight(w, "\n"))
		}
	}
	if c.Format.Output == cli.FormatText {
		return nil
	}
	return c.Print(res, cli.Schema{Kind: cli.KindObject})
}

func rm(c *cli.Ctx) error {
	p := c.Opts.Form("digest", "lock", "fence")
	p.Set("path", treePath(c.Arg(0)))
	_, err := c.Call(http.MethodDelete, "/pvecfs/files", p)
	return err
}
