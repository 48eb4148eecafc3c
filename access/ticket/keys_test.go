package ticket

import (
	"bytes"
	"testing"

	"github.com/pvecfs/pvecfs/access/shadow"
	"github.com/pvecfs/pvecfs/access/usercfg"
	"github.com/pvecfs/pvecfs/cfs"
)

const pamShadow = "priv/pam-shadow.cfg"

// testTree is a tree with the access formats.
type testTree struct {
	t     *testing.T
	tree  *cfs.Tree
	index uint64
}

func newTestTree(t *testing.T) *testTree {
	t.Helper()
	reg := cfs.NewRegistry()
	sh := shadow.Format()
	for _, f := range []cfs.Format{usercfg.Format(), sh, {Path: pamShadow, Parse: sh.Parse}} {
		if err := reg.Register(f); err != nil {
			t.Fatal(err)
		}
	}
	return &testTree{t: t, tree: cfs.NewTree(reg, nil)}
}

// apply runs one command stamped with time now.
func (tt *testTree) apply(op string, body any, now int64) *cfs.Result {
	tt.t.Helper()
	cmd, err := cfs.NewCommand(op, body)
	if err != nil {
		tt.t.Fatal(err)
	}
	cmd.Time, cmd.Node = now, "n1"
	data, err := cmd.Encode()
	if err != nil {
		tt.t.Fatal(err)
	}
	tt.index++
	return tt.tree.Apply(tt.index, now*1000, data)
}

func (tt *testTree) batch(ops []cfs.BatchOp, now int64) error {
	return tt.apply(cfs.OpBatch, ops, now).Error()
}

func (tt *testTree) get(p string) *cfs.Entry {
	e, ok := tt.tree.Get(p)
	if !ok {
		return nil
	}
	return e
}

func TestRotationOps(t *testing.T) {
	tt := newTestTree(t)
	priv1, pub1, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	priv2, pub2, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	priv3, pub3, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}

	// First key: exclusive create (no authkey.pub yet); priv dir made.
	ops, err := RotationOps(nil, priv1, pub1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(ops, 1000); err != nil {
		t.Fatalf("first key: %v", err)
	}
	if e := tt.get(PubKeyPath); e == nil || !bytes.Equal(e.Bytes(), pub1) || e.Mtime != 1000 || e.IsDir() {
		t.Fatalf("authkey.pub after create: %+v", e)
	}
	if e := tt.get(PrivKeyPath); e == nil || !bytes.Equal(e.Bytes(), priv1) {
		t.Fatal("authkey.key not written")
	}
	if tt.get(OldPubKeyPath) != nil {
		t.Fatal("authkey.pub.old written without a previous key")
	}
	// A second node that also saw no key loses cleanly.
	if err := tt.batch(ops, 1001); !LostRace(err) {
		t.Fatalf("second create: %v, want a lost race", err)
	}

	// Two nodes rotate from the same current key: one wins, one loses, and
	// nothing of the loser is written.
	cur := tt.get(PubKeyPath)
	opsA, err := RotationOps(cur, priv2, pub2)
	if err != nil {
		t.Fatal(err)
	}
	opsB, err := RotationOps(cur, priv3, pub3)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(opsA, 90000); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if err := tt.batch(opsB, 90001); !LostRace(err) {
		t.Fatalf("racing rotation: %v, want a lost race", err)
	}
	if e := tt.get(PubKeyPath); !bytes.Equal(e.Bytes(), pub2) || e.Mtime != 90000 {
		t.Fatal("authkey.pub is not the winner's")
	}
	if e := tt.get(OldPubKeyPath); e == nil || !bytes.Equal(e.Bytes(), pub1) || e.Mtime != 90000 {
		t.Fatal("authkey.pub.old is not the previous key")
	}
	if e := tt.get(PrivKeyPath); !bytes.Equal(e.Bytes(), priv2) {
		t.Fatal("authkey.key is not the winner's")
	}

	// Exclusive create of the www key.
	www := []byte("www key\n")
	cops, err := CreateOps(WWWKeyPath, www)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(cops, 100); err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(cops, 101); !LostRace(err) {
		t.Fatalf("second www create: %v", err)
	}
	if e := tt.get(WWWKeyPath); e == nil || e.IsDir() || !bytes.Equal(e.Bytes(), www) {
		t.Fatal("www key not a file with the content")
	}
	// Exclusive create below a missing directory.
	cops, err = CreateOps("a/b/c.key", www)
	if err != nil {
		t.Fatal(err)
	}
	if err := tt.batch(cops, 102); err != nil {
		t.Fatal(err)
	}
	if e := tt.get("a/b/c.key"); e == nil || e.IsDir() {
		t.Fatal("nested create")
	}
	if _, err := RotationOps(tt.get("a"), priv1, pub1); err == nil {
		t.Fatal("rotation from a directory accepted")
	}
}
