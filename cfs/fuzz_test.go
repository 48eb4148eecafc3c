package cfs

import (
	"bytes"
	"testing"
)

// FuzzApply feeds arbitrary log entries to a tree: it must never panic, a
// failed entry must change nothing, and two trees fed the same entries stay
// identical.
func FuzzApply(f *testing.F) {
	for _, seed := range randomLog(7, 30) {
		f.Add(seed)
	}
	f.Add([]byte(`{"v":1,"op":"batch","body":[{"op":"write","body":{"path":"a","data":"eA=="}},{"op":"batch","body":[]}]}`))
	f.Add([]byte(`{"v":1,"op":"rename","body":{"from":"","to":"x"}}`))
	f.Add([]byte(`{"v":1,"op":"write","fence":{"lock":"l0","token":1},"body":{"path":"a","data":""}}`))
	f.Fuzz(func(t *testing.T, entry []byte) {
		a, b := NewTree(upperRegistry(), nil), NewTree(upperRegistry(), nil)
		for i, e := range randomLog(3, 20) {
			a.Apply(uint64(i+1), int64(i), e)
			b.Apply(uint64(i+1), int64(i), e)
		}
		before := a.Checksum()
		res := a.Apply(100, 1000, entry)
		b.Apply(100, 1000, entry)
		if res.Err != nil && a.Checksum() != before {
			t.Fatalf("failed entry changed the tree: %v", res.Err)
		}
		if a.Checksum() != b.Checksum() {
			t.Fatal("same entry, different trees")
		}
		// the snapshot of whatever state we reached restores to the same tree
		var buf bytes.Buffer
		if _, err := a.Snapshot().WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		c := NewTree(upperRegistry(), nil)
		if err := c.Restore(&buf); err != nil {
			t.Fatalf("restore of own snapshot: %v", err)
		}
		if c.Checksum() != a.Checksum() {
			t.Fatal("snapshot round trip changed the tree")
		}
	})
}

// FuzzRestore feeds arbitrary snapshot streams: never panic; a refused
// stream leaves the tree as it was.
func FuzzRestore(f *testing.F) {
	src := NewTree(upperRegistry(), nil)
	for i, e := range randomLog(5, 40) {
		src.Apply(uint64(i+1), int64(i), e)
	}
	var buf bytes.Buffer
	_, _ = src.Snapshot().WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"pvecfs-tree-v1","entries":2}` + "\n" + `{"path":"a","type":2}` + "\n" + `{"path":"a/b","type":1,"data":"eA=="}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := NewTree(upperRegistry(), nil)
		tr.Apply(1, 1, randomLog(9, 1)[0])
		before := tr.Checksum()
		if err := tr.Restore(bytes.NewReader(data)); err != nil && tr.Checksum() != before {
			t.Fatal("refused restore changed the tree")
		}
	})
}
