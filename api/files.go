package api

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/pvecfs/pvecfs/cfs"
)

// Raw file and lock endpoints (pvecfs extensions under /pvecfs, root only;
// the CLI's ls/cat/put/rm and lock commands use them).

// FileInfo describes one tree entry.
type FileInfo struct {
	Path    string `json:"path"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Size    int    `json:"size"`
	Version uint64 `json:"version"`
	Mtime   int64  `json:"mtime"`
	Writer  string `json:"writer"`
	Digest  string `json:"digest,omitempty"`
	Content string `json:"content,omitempty"`
}

func fileInfo(e *cfs.Entry, content bool) FileInfo {
	fi := FileInfo{Path: e.Path, Name: path.Base(e.Path), Type: "file", Version: e.Version, Mtime: e.Mtime, Writer: e.Writer}
	if e.IsDir() {
		fi.Type = "dir"
		return fi
	}
	fi.Size = e.Size()
	fi.Digest = e.Digest()
	if content {
		fi.Content = string(e.Bytes())
	}
	return fi
}

// VirtualFile renders a generated read-only file (.members, .version, ...).
type VirtualFile func(ctx context.Context) ([]byte, error)

var lockIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

func rootOnly(r *Request) error {
	if !r.Auth.Root() {
		return Forbidden("root@pam only")
	}
	return nil
}

// wantLinearizable reports whether the client asked for a linearizable read.
func wantLinearizable(r *Request) bool {
	return r.HTTP.Header.Get("X-Pvecfs-Consistency") == "linearizable"
}

// ReadBarrier makes a read linearizable when the client asks for it.
func ReadBarrier(r *Request, b Backend) error {
	if wantLinearizable(r) {
		if err := b.LinearizableRead(r.Ctx); err != nil {
			return Errorf(http.StatusInternalServerError, "%v", err)
		}
	}
	return nil
}

// LockWaits and LockTimeouts count writes that had to wait for a cluster
// lock held by an outside holder, and those that gave up (metrics).
var LockWaits, LockTimeouts atomic.Uint64

// ApplyWaiting applies a command; while a lock it awaits is held by an
// outside holder it retries (Proxmox's cfs_lock: up to timeout, then
// "cfs-lock '<id>' error: got lock request timeout"). onWait, if set, is
// called once when the command first has to wait.
func ApplyWaiting(ctx context.Context, b Backend, cmd *cfs.Command, timeout time.Duration, onWait func()) (*cfs.Result, error) {
	deadline := time.Now().Add(timeout)
	waited := false
	for {
		res, err := b.Apply(ctx, cmd)
		if err != nil {
			return nil, err
		}
		if res.Err == nil || res.Err.Code != cfs.CodeLockBusy {
			return res, nil
		}
		if time.Now().After(deadline) {
			LockTimeouts.Add(1)
			return res, nil
		}
		if !waited {
			LockWaits.Add(1)
			if onWait != nil {
				onWait()
			}
		}
		waited = true
		// Proxmox retries at most every 100 ms near the end, every second before
		sleep := time.Until(deadline) / 10
		if sleep > time.Second {
			sleep = time.Second
		}
		if sleep < 20*time.Millisecond {
			sleep = 20 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(sleep):
		}
	}
}

// FileEndpoints returns the raw-file and lock endpoints. virtual maps
// generated file names (".members", ".version", ".vmlist") to renderers.
func FileEndpoints(b Backend, virtual map[string]VirtualFile) []Endpoint {
	pathParam := Param{Name: "path", MaxLength: 4096}
	optPath := pathParam
	optPath.Optional = true
	digest := Param{Name: "digest", Optional: true, MaxLength: 64, Pattern: regexp.MustCompile(`^[0-9a-fA-F]{40}$`)}
	fence := Param{Name: "fence", Type: TInteger, Optional: true, Min: Int64(1)}
	lockP := Param{Name: "lock", Optional: true, Pattern: lockIDRE}
	return []Endpoint{
		{Method: "GET", Path: "/pvecfs/files", Params: []Param{optPath, {Name: "content", Type: TBoolean, Optional: true}},
			Check: rootOnly, Description: "List a directory or read a file of the tree (root only).",
			Handler: func(r *Request) (any, error) {
				if err := ReadBarrier(r, b); err != nil {
					return nil, err
				}
				p := cfs.CleanPath(r.Params.Get("path"))
				if vf, ok := virtual[p]; ok {
					data, err := vf(r.Ctx)
					if err != nil {
						return nil, err
					}
					return FileInfo{Path: p, Name: p, Type: "file", Size: len(data), Content: string(data)}, nil
				}
				e, ok := b.Tree().Get(p)
				if !ok {
					return nil, Errorf(404, "'%s' does not exist", p)
				}
				if !e.IsDir() {
					return fileInfo(e, r.Params.Bool("content", true)), nil
				}
				list, err := b.Tree().List(p)
				if err != nil {
					return nil, err
				}
				out := make([]FileInfo, 0, len(list)+len(virtual))
				for _, c := range list {
					out = append(out, fileInfo(c, false))
				}
				if p == "" {
					for name := range virtual {
						out = append(out, FileInfo{Path: name, Name: name, Type: "file"})
					}
				}
				return out, nil
			}},
		{Method: "PUT", Path: "/pvecfs/files", Check: rootOnly,
			Params:      []Param{pathParam, {Name: "content", MaxLength: cfs.MaxFileSize * 2}, digest, {Name: "strict", Type: TBoolean, Optional: true}, lockP, fence},
			Description: "Replace (or create) a file; registered formats are parsed first (root only).",
			Handler: func(r *Request) (any, error) {
				p := cfs.CleanPath(r.Params.Get("path"))
				if err := cfs.ValidatePath(p); err != nil {
					return nil, ParamErr("path", err.Error())
				}
				if _, ok := virtual[p]; ok {
					return nil, Errorf(403, "unable to write '%s' - Permission denied", p)
				}
				data := []byte(r.Params.Get("content"))
				if len(data) > cfs.MaxFileSize {
					return nil, ParamErr("content", fmt.Sprintf("file too large (%d bytes, limit %d)", len(data), cfs.MaxFileSize))
				}
				cmd, err := cfs.NewCommand(cfs.OpWrite, cfs.WriteRequest{Path: p, Data: data, Digest: r.Params.Get("digest"), Strict: r.Params.Bool("strict", false), Parents: true})
				if err != nil {
					return nil, err
				}
				if err := setFence(r, cmd); err != nil {
					return nil, err
				}
				return applyResult(r.Ctx, b, cmd, func(res *cfs.Result) (any, error) {
					var wr cfs.WriteResult
					err := res.Decode(&wr)
					return wr, err
				})
			}},
		{Method: "DELETE", Path: "/pvecfs/files", Check: rootOnly, Params: []Param{pathParam, digest, lockP, fence},
			Description: "Remove a file or an empty directory (root only).",
			Handler: func(r *Request) (any, error) {
				p := cfs.CleanPath(r.Params.Get("path"))
				cmd, err := cfs.NewCommand(cfs.OpDelete, cfs.PathRequest{Path: p, Digest: r.Params.Get("digest")})
				if err != nil {
					return nil, err
				}
				if err := setFence(r, cmd); err != nil {
					return nil, err
				}
				return applyResult(r.Ctx, b, cmd, nil)
			}},
		{Method: "GET", Path: "/pvecfs/locks", Check: rootOnly, Description: "List live cluster locks (root only).",
			Handler: func(r *Request) (any, error) {
				now := b.Tree().Clock()
				out := []cfs.Lock{}
				for _, l := range b.Tree().Locks() {
					if l.Expires > now {
						out = append(out, l)
					}
				}
				return out, nil
			}},
		{Method: "POST", Path: "/pvecfs/locks/{id}", Check: rootOnly,
			Params: []Param{{Name: "id", Pattern: lockIDRE}, {Name: "owner", Optional: true, MaxLength: 128},
				{Name: "lease", Type: TInteger, Optional: true, Min: Int64(1), Max: Int64(3600)},
				{Name: "timeout", Type: TInteger, Optional: true, Min: Int64(0), Max: Int64(3600)}},
			Description: "Acquire a cluster lock, waiting up to timeout seconds (default 10); returns the fencing token (root only).",
			Handler: func(r *Request) (any, error) {
				owner := r.Params.Get("owner")
				if owner == "" {
					owner = b.Name() + ":" + uuid.NewString()
				}
				cmd, err := cfs.NewCommand(cfs.OpLockAcquire, cfs.LockRequest{ID: r.Params.Get("id"), Owner: owner, LeaseMs: r.Params.Int("lease", 0) * 1000})
				if err != nil {
					return nil, err
				}
				timeout := time.Duration(r.Params.Int("timeout", 10)) * time.Second
				res, err := ApplyWaiting(r.Ctx, b, cmd, timeout, nil)
				if err != nil {
					return nil, Errorf(500, "%v", err)
				}
				if res.Err != nil {
					return nil, res.Err
				}
				var g cfs.LockGrant
				err = res.Decode(&g)
				return g, err
			}},
		{Method: "PUT", Path: "/pvecfs/locks/{id}", Check: rootOnly,
			Params: []Param{{Name: "id", Pattern: lockIDRE}, {Name: "owner", MaxLength: 128}, {Name: "fence", Type: TInteger, Min: Int64(1)},
				{Name: "lease", Type: TInteger, Optional: true, Min: Int64(1), Max: Int64(3600)}},
			Description: "Renew a held lock (root only).",
			Handler: func(r *Request) (any, error) {
				cmd, err := cfs.NewCommand(cfs.OpLockRenew, cfs.LockRequest{ID: r.Params.Get("id"), Owner: r.Params.Get("owner"),
					Fence: uint64(r.Params.Int("fence", 0)), LeaseMs: r.Params.Int("lease", 0) * 1000})
				if err != nil {
					return nil, err
				}
				return applyResult(r.Ctx, b, cmd, func(res *cfs.Result) (any, error) {
					var g cfs.LockGrant
					err := res.Decode(&g)
					return g, err
				})
			}},
		{Method: "DELETE", Path: "/pvecfs/locks/{id}", Check: rootOnly,
			Params:      []Param{{Name: "id", Pattern: lockIDRE}, {Name: "owner", MaxLength: 128}, {Name: "fence", Type: TInteger, Min: Int64(1)}},
			Description: "Release a held lock (root only).",
			Handler: func(r *Request) (any, error) {
				cmd, err := cfs.NewCommand(cfs.OpLockRelease, cfs.LockRequest{ID: r.Params.Get("id"), Owner: r.Params.Get("owner"), Fence: uint64(r.Params.Int("fence", 0))})
				if err != nil {
					return nil, err
				}
				return applyResult(r.Ctx, b, cmd, nil)
			}},
		{Method: "GET", Path: "/pvecfs/checksum", Check: rootOnly, Description: "Whole-tree checksum, version and applied index (root only).",
			Handler: func(r *Request) (any, error) {
				if err := ReadBarrier(r, b); err != nil {
					return nil, err
				}
				t := b.Tree()
				return map[string]any{"checksum": t.Checksum(), "version": t.Version(), "applied": t.AppliedIndex()}, nil
			}},
	}
}

func setFence(r *Request, cmd *cfs.Command) error {
	l, f := r.Params.Get("lock"), r.Params.Int("fence", 0)
	if (l == "") != (f == 0) {
		return ParamError(map[string]string{"lock": "lock and fence must be given together", "fence": "lock and fence must be given together"})
	}
	if l != "" {
		cmd.Fence = &cfs.Fence{Lock: l, Token: uint64(f)}
	}
	return nil
}

// applyResult applies cmd and turns its result into a handler answer.
func applyResult(ctx context.Context, b Backend, cmd *cfs.Command, decode func(*cfs.Result) (any, error)) (any, error) {
	res, err := b.Apply(ctx, cmd)
	if err != nil {
		return nil, Errorf(500, "%v", err)
	}
	if res.Err != nil {
		return nil, res.Err
	}
	if decode == nil {
		return nil, nil
	}
	return decode(res)
}
