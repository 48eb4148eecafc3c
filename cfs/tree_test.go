package cfs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// log is a test helper that applies commands with increasing index.
type testLog struct {
	t     *testing.T
	tree  *Tree
	index uint64
	clock int64
}

func newTestLog(t *testing.T, reg *Registry) *testLog {
	return &testLog{t: t, tree: NewTree(reg, nil), clock: 1_000_000}
}

func (l *testLog) apply(op string, body any, mod ...func(*Command)) *Result {
	l.t.Helper()
	c, err := NewCommand(op, body)
	if err != nil {
		l.t.Fatal(err)
	}
	c.Time, c.Node = 1700000000+int64(l.index), "n1"
	for _, m := range mod {
		m(c)
	}
	b, _ := c.Encode()
	l.index++
	l.clock += 10
	return l.tree.Apply(l.index, l.clock, b)
}

func mustOK(t *testing.T, r *Result) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("unexpected error: %v", r.Err)
	}
}

func TestTreeFileSemantics(t *testing.T) {
	tests := []struct {
		name     string
		steps    func(l *testLog) *Result
		wantCode string
		wantMsg  string
	}{
		{"write needs parent", func(l *testLog) *Result {
			return l.apply(OpWrite, WriteRequest{Path: "a/b", Data: []byte("x")})
		}, CodeNotFound, "'a' does not exist"},
		{"write with parents", func(l *testLog) *Result {
			return l.apply(OpWrite, WriteRequest{Path: "a/b", Data: []byte("x"), Parents: true})
		}, "", ""},
		{"mkdir twice", func(l *testLog) *Result {
			l.apply(OpMkdir, PathRequest{Path: "d"})
			return l.apply(OpMkdir, PathRequest{Path: "d"})
		}, CodeExists, "'d' already exists"},
		{"delete missing", func(l *testLog) *Result {
			return l.apply(OpDelete, PathRequest{Path: "nope"})
		}, CodeNotFound, ""},
		{"delete non-empty dir", func(l *testLog) *Result {
			l.apply(OpWrite, WriteRequest{Path: "d/f", Data: []byte("x"), Parents: true})
			return l.apply(OpDelete, PathRequest{Path: "d"})
		}, CodeInvalid, "Directory not empty"},
		{"file too large", func(l *testLog) *Result {
			return l.apply(OpWrite, WriteRequest{Path: "big", Data: bytes.Repeat([]byte("a"), MaxFileSize+1)})
		}, CodeInvalid, "File too large"},
		{"exactly the limit", func(l *testLog) *Result {
			return l.apply(OpWrite, WriteRequest{Path: "big", Data: bytes.Repeat([]byte("a"), MaxFileSize)})
		}, "", ""},
		{"not utf8", func(l *testLog) *Result {
			return l.apply(OpWrite, WriteRequest{Path: "bin", Data: []byte{0xff, 0xfe}})
		}, CodeInvalid, "not valid UTF-8"},
		{"dot name", func(l *testLog) *Result {
			return l.apply(OpWrite, WriteRequest{Path: "a/../b", Data: []byte("x"), Parents: true})
		}, CodeInvalid, "bad component"},
		{"digest mismatch", func(l *testLog) *Result {
			l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("one")})
			return l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("two"), Digest: strings.Repeat("0", 40)})
		}, CodeDigest, "detected modified configuration - file changed by other user? Try again.\n"},
		{"digest match", func(l *testLog) *Result {
			l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("one")})
			return l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("two"), Digest: sha1hex([]byte("one"))})
		}, "", ""},
		{"rename non-empty dir", func(l *testLog) *Result {
			l.apply(OpWrite, WriteRequest{Path: "d/f", Data: []byte("x"), Parents: true})
			return l.apply(OpRename, RenameRequest{From: "d", To: "e"})
		}, CodeInvalid, "Directory not empty"},
		{"rename lock dir", func(l *testLog) *Result {
			l.apply(OpMkdir, PathRequest{Path: "priv/lock/x", Parents: true})
			return l.apply(OpRename, RenameRequest{From: "priv/lock/x", To: "priv/y"})
		}, CodeInvalid, "Permission denied"},
		{"unknown op", func(l *testLog) *Result { return l.apply("frobnicate", nil) }, CodeInvalid, "unknown command"},
		{"batch is atomic", func(l *testLog) *Result {
			w, _ := json.Marshal(WriteRequest{Path: "ok", Data: []byte("x")})
			bad, _ := json.Marshal(PathRequest{Path: "missing"})
			return l.apply(OpBatch, []BatchOp{{Op: OpWrite, Body: w}, {Op: OpDelete, Body: bad}})
		}, CodeNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLog(t, nil)
			r := tc.steps(l)
			if tc.wantCode == "" {
				mustOK(t, r)
				return
			}
			if r.Err == nil || r.Err.Code != tc.wantCode || !strings.Contains(r.Err.Message, tc.wantMsg) {
				t.Fatalf("got %+v, want code %s containing %q", r.Err, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

func TestFailedCommandChangesNothing(t *testing.T) {
	l := newTestLog(t, nil)
	mustOK(t, l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("keep")}))
	before := l.tree.Checksum()
	v := l.tree.Version()
	w, _ := json.Marshal(WriteRequest{Path: "f", Data: []byte("lost")})
	bad, _ := json.Marshal(PathRequest{Path: "missing"})
	if r := l.apply(OpBatch, []BatchOp{{Op: OpWrite, Body: w}, {Op: OpDelete, Body: bad}}); r.Err == nil {
		t.Fatal("batch should fail")
	}
	if l.tree.Version() != v {
		t.Fatalf("version moved %d -> %d", v, l.tree.Version())
	}
	e, _ := l.tree.Get("f")
	if string(e.Bytes()) != "keep" {
		t.Fatalf("content changed to %q", e.Bytes())
	}
	// the clock and applied index move, the content checksum must not
	if l.tree.Checksum() != before {
		t.Fatal("checksum changed after a failed command")
	}
}

func TestVersionsAndInodes(t *testing.T) {
	l := newTestLog(t, nil)
	mustOK(t, l.apply(OpMkdir, PathRequest{Path: "d"}))                                // v1
	mustOK(t, l.apply(OpWrite, WriteRequest{Path: "d/f", Data: []byte("1")}))          // v2
	mustOK(t, l.apply(OpWrite, WriteRequest{Path: "d/f", Data: []byte("2")}))          // v3
	mustOK(t, l.apply(OpRename, RenameRequest{From: "d/f", To: "d/g"}))                // v4
	mustOK(t, l.apply(OpWrite, WriteRequest{Path: "x/y/z", Data: nil, Parents: true})) // v5,v6,v7
	if got := l.tree.Version(); got != 7 {
		t.Fatalf("version %d, want 7", got)
	}
	g, ok := l.tree.Get("d/g")
	if !ok || g.Inode != 2 || g.Version != 4 || string(g.Bytes()) != "2" {
		t.Fatalf("renamed entry %+v", g)
	}
	if _, ok := l.tree.Get("d/f"); ok {
		t.Fatal("old name still present")
	}
	root, _ := l.tree.Get("")
	if root.Version != 7 || root.Writer != "n1" {
		t.Fatalf("root %+v", root)
	}
	list, err := l.tree.List("d")
	if err != nil || len(list) != 1 || list[0].Path != "d/g" {
		t.Fatalf("list %v %v", list, err)
	}
}

func TestLocks(t *testing.T) {
	l := newTestLog(t, nil)
	acq := func(owner string, lease int64) *Result {
		return l.apply(OpLockAcquire, LockRequest{ID: "file-user_cfg", Owner: owner, LeaseMs: lease})
	}
	r := acq("a", 2000)
	mustOK(t, r)
	var g LockGrant
	_ = r.Decode(&g)
	if g.Fence != r.Index {
		t.Fatalf("fence %d, want grant index %d", g.Fence, r.Index)
	}
	if r := acq("b", 2000); r.Err == nil || r.Err.Code != CodeLockBusy ||
		r.Err.Message != "cfs-lock 'file-user_cfg' error: got lock request timeout" {
		t.Fatalf("second owner: %+v", r.Err)
	}
	// a write fenced by the grant passes; an awaiting write of another owner waits
	fenced := func(tok uint64) func(*Command) {
		return func(c *Command) { c.Fence = &Fence{Lock: "file-user_cfg", Token: tok} }
	}
	mustOK(t, l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("x")}, fenced(g.Fence)))
	awaiting := func(c *Command) { c.Await = []string{"file-user_cfg"} }
	if r := l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("y")}, awaiting); r.Err == nil || r.Err.Code != CodeLockBusy {
		t.Fatalf("await: %+v", r.Err)
	}
	// let the lease run out (the test log advances leader time by 10 ms per entry)
	l.clock += 2000
	r2 := acq("b", 2000)
	mustOK(t, r2)
	var g2 LockGrant
	_ = r2.Decode(&g2)
	if g2.Fence <= g.Fence {
		t.Fatalf("fence did not increase: %d then %d", g.Fence, g2.Fence)
	}
	if r := l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("stale")}, fenced(g.Fence)); r.Err == nil || r.Err.Code != CodeFence {
		t.Fatalf("stale fence accepted: %+v", r.Err)
	}
	if r := l.apply(OpLockRelease, LockRequest{ID: "file-user_cfg", Owner: "a", Fence: g.Fence}); r.Err == nil {
		t.Fatal("old holder released the new grant")
	}
	mustOK(t, l.apply(OpLockRenew, LockRequest{ID: "file-user_cfg", Owner: "b", Fence: g2.Fence, LeaseMs: 5000}))
	mustOK(t, l.apply(OpLockRelease, LockRequest{ID: "file-user_cfg", Owner: "b", Fence: g2.Fence}))
	mustOK(t, l.apply(OpWrite, WriteRequest{Path: "f", Data: []byte("z")}, awaiting))
	if r := l.apply(OpLockAcquire, LockRequest{ID: "bad id!", Owner: "a"}); r.Err == nil {
		t.Fatal("bad lock id accepted")
	}
	if r := l.apply(OpLockAcquire, LockRequest{ID: "x", Owner: "a", LeaseMs: 10}); r.Err == nil {
		t.Fatal("too short lease accepted")
	}
}

// upperModel is a registered test format: it stores text upper-cased and
// warns about lines starting with '#'.
type upperModel struct{ text string }

func (m upperModel) Render() []byte { return []byte(m.text) }

func upperRegistry() *Registry {
	reg := NewRegistry()
	_ = reg.Register(Format{Path: "up.cfg", Parse: func(b []byte) (Model, []string, error) {
		var warns []string
		var keep []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "#") {
				warns = append(warns, "ignore config line: "+line)
				continue
			}
			keep = append(keep, strings.ToUpper(line))
		}
		return upperModel{strings.Join(keep, "\n")}, warns, nil
	}})
	return reg
}

func TestRegisteredFiles(t *testing.T) {
	l := newTestLog(t, upperRegistry())
	r := l.apply(OpWrite, WriteRequest{Path: "up.cfg", Data: []byte("a\n#c\nb")})
	mustOK(t, r)
	var wr WriteResult
	_ = r.Decode(&wr)
	if len(wr.Warnings) != 1 {
		t.Fatalf("warnings %v", wr.Warnings)
	}
	e, _ := l.tree.Get("up.cfg")
	if string(e.Bytes()) != "A\nB" || e.Digest() != sha1hex([]byte("A\nB")) {
		t.Fatalf("stored %q", e.Bytes())
	}
	if r := l.apply(OpWrite, WriteRequest{Path: "up.cfg", Data: []byte("#x"), Strict: true}); r.Err == nil {
		t.Fatal("strict write with warnings accepted")
	}
	e2, _ := l.tree.Get("up.cfg")
	if e2 != e {
		t.Fatal("refused strict write changed the file")
	}
}

// randomLog builds a pseudo-random command log over a small path space.
func randomLog(seed int64, n int) [][]byte {
	rng := rand.New(rand.NewSource(seed))
	var out [][]byte
	paths := []string{"a", "a/b", "a/c", "d", "up.cfg", "priv/x"}
	for i := 0; i < n; i++ {
		p := paths[rng.Intn(len(paths))]
		var c *Command
		switch rng.Intn(6) {
		case 0:
			c, _ = NewCommand(OpMkdir, PathRequest{Path: p, Parents: true})
		case 1:
			c, _ = NewCommand(OpDelete, PathRequest{Path: p})
		case 2:
			c, _ = NewCommand(OpRename, RenameRequest{From: p, To: paths[rng.Intn(len(paths))]})
		case 3:
			c, _ = NewCommand(OpLockAcquire, LockRequest{ID: "l" + fmt.Sprint(rng.Intn(2)), Owner: fmt.Sprint(rng.Intn(3)), LeaseMs: 1000})
		default:
			c, _ = NewCommand(OpWrite, WriteRequest{Path: p, Data: []byte(fmt.Sprintf("v%d\n#w", i)), Parents: true})
		}
		c.Time, c.Node = int64(1700000000+i), fmt.Sprint("n", rng.Intn(3))
		b, _ := c.Encode()
		out = append(out, b)
	}
	return out
}

func snapshotBytes(t *testing.T, tr *Tree) []byte {
	var buf bytes.Buffer
	if _, err := tr.Snapshot().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDeterminismAndSnapshotRoundTrip(t *testing.T) {
	for seed := int64(1); seed <= 5; seed++ {
		logEntries := randomLog(seed, 400)
		a, b := NewTree(upperRegistry(), nil), NewTree(upperRegistry(), nil)
		for i, e := range logEntries {
			ra := a.Apply(uint64(i+1), int64(i*300), e)
			rb := b.Apply(uint64(i+1), int64(i*300), e)
			ja, _ := json.Marshal(ra)
			jb, _ := json.Marshal(rb)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("seed %d entry %d: results differ %s vs %s", seed, i, ja, jb)
			}
		}
		sa, sb := snapshotBytes(t, a), snapshotBytes(t, b)
		if !bytes.Equal(sa, sb) {
			t.Fatalf("seed %d: snapshots differ", seed)
		}
		c := NewTree(upperRegistry(), nil)
		if err := c.Restore(bytes.NewReader(sa)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(snapshotBytes(t, c), sa) || c.Checksum() != a.Checksum() {
			t.Fatalf("seed %d: restore does not round-trip", seed)
		}
		// the restored tree goes on exactly like the original
		more := randomLog(seed+100, 50)
		for i, e := range more {
			a.Apply(uint64(1000+i), int64(200000+i), e)
			c.Apply(uint64(1000+i), int64(200000+i), e)
		}
		if a.Checksum() != c.Checksum() {
			t.Fatalf("seed %d: restored tree diverged", seed)
		}
	}
}

func TestRestoreRejectsGarbage(t *testing.T) {
	tr := NewTree(nil, nil)
	l := &testLog{t: t, tree: tr}
	mustOK(t, l.apply(OpWrite, WriteRequest{Path: "keep", Data: []byte("x")}))
	sum := tr.Checksum()
	for _, in := range []string{"", "{}", `{"format":"pvecfs-tree-v1","entries":1}` + "\n" + `{"path":"a/b","type":1}`, "not json"} {
		if err := tr.Restore(strings.NewReader(in)); err == nil {
			t.Fatalf("restore of %q succeeded", in)
		}
	}
	if tr.Checksum() != sum {
		t.Fatal("failed restore changed the tree")
	}
}

func TestPathHelpers(t *testing.T) {
	cases := map[string]string{"/etc/pve/user.cfg": "user.cfg", "a//b/": "a/b", "/": "", "priv/token.cfg": "priv/token.cfg"}
	for in, want := range cases {
		if got := CleanPath(in); got != want {
			t.Errorf("CleanPath(%q)=%q want %q", in, got, want)
		}
	}
	for p, want := range map[string]bool{"priv": true, "priv/a": true, "nodes/n1/priv/x": true, "nodes/n1/x": false, "private": false} {
		if IsPrivate(p) != want {
			t.Errorf("IsPrivate(%q) != %v", p, want)
		}
	}
	if ValidatePath(strings.Repeat("a", 256)) == nil || ValidatePath("a\x01") == nil || ValidatePath("a/b") != nil {
		t.Error("ValidatePath")
	}
}
