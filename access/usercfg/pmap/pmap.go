// Package pmap is an immutable (persistent) sorted map with string keys.
//
// A Map is a value: Set and Delete return a new Map and leave the receiver
// unchanged, copying only the O(log n) nodes on the path to the changed key
// and sharing everything else with the old map. Lookups are O(log n);
// iteration visits keys in byte order (sort.Strings order). A Map is safe
// for concurrent use by any number of readers. The zero Map is empty and
// ready to use.
//
// The tree is an AVL tree: every node's subtrees differ in height by at
// most one, so a map of n entries is at most about 1.44*log2(n) deep.
//
// A Builder collects entries for a new map (a parser's use) and builds a
// perfectly balanced tree in one pass.
package pmap

import (
	"iter"
	"slices"
)

// Map is an immutable sorted map from string keys to values of type V.
type Map[V any] struct {
	root *node[V]
	n    int
}

type node[V any] struct {
	key         string
	val         V
	left, right *node[V]
	height      int32
}

func height[V any](n *node[V]) int32 {
	if n == nil {
		return 0
	}
	return n.height
}

// Len returns the number of entries.
func (m Map[V]) Len() int { return m.n }

// Get returns the value of key k and whether it is present.
func (m Map[V]) Get(k string) (V, bool) {
	for n := m.root; n != nil; {
		switch {
		case k < n.key:
			n = n.left
		case k > n.key:
			n = n.right
		default:
			return n.val, true
		}
	}
	var zero V
	return zero, false
}

// Value returns the value of key k, or V's zero value if k is absent.
func (m Map[V]) Value(k string) V {
	v, _ := m.Get(k)
	return v
}

// Has reports whether key k is present.
func (m Map[V]) Has(k string) bool {
	_, ok := m.Get(k)
	return ok
}

// Set returns a map with key k set to v; m is not changed.
func (m Map[V]) Set(k string, v V) Map[V] {
	root, added := insert(m.root, k, v)
	n := m.n
	if added {
		n++
	}
	return Map[V]{root: root, n: n}
}

// Delete returns a map without key k; m is not changed. If k is absent the
// result is m itself (nothing is copied).
func (m Map[V]) Delete(k string) Map[V] {
	root, removed := remove(m.root, k)
	if !removed {
		return m
	}
	return Map[V]{root: root, n: m.n - 1}
}

// All iterates over the entries in ascending key order.
func (m Map[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) { walk(m.root, yield) }
}

// Keys iterates over the keys in ascending order.
func (m Map[V]) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		walk(m.root, func(k string, _ V) bool { return yield(k) })
	}
}

// Range calls fn for every entry in ascending key order until fn returns
// false.
func (m Map[V]) Range(fn func(k string, v V) bool) { walk(m.root, fn) }

// SortedKeys returns the keys in ascending order.
func (m Map[V]) SortedKeys() []string {
	out := make([]string, 0, m.n)
	walk(m.root, func(k string, _ V) bool {
		out = append(out, k)
		return true
	})
	return out
}

// walk visits n's subtree in order; it reports false when fn stopped it.
func walk[V any](n *node[V], fn func(string, V) bool) bool {
	for n != nil {
		if !walk(n.left, fn) || !fn(n.key, n.val) {
			return false
		}
		n = n.right
	}
	return true
}

// mk returns a new node over l and r, which must be balanced relative to
// each other.
func mk[V any](k string, v V, l, r *node[V]) *node[V] {
	return &node[V]{key: k, val: v, left: l, right: r, height: max(height(l), height(r)) + 1}
}

// balance returns a new node for k, v over l and r whose heights differ by
// at most two, rotating once or twice to restore the AVL invariant.
func balance[V any](k string, v V, l, r *node[V]) *node[V] {
	hl, hr := height(l), height(r)
	switch {
	case hl > hr+1:
		if height(l.left) >= height(l.right) {
			return mk(l.key, l.val, l.left, mk(k, v, l.right, r))
		}
		lr := l.right
		return mk(lr.key, lr.val, mk(l.key, l.val, l.left, lr.left), mk(k, v, lr.right, r))
	case hr > hl+1:
		if height(r.right) >= height(r.left) {
			return mk(r.key, r.val, mk(k, v, l, r.left), r.right)
		}
		rl := r.left
		return mk(rl.key, rl.val, mk(k, v, l, rl.left), mk(r.key, r.val, rl.right, r.right))
	}
	return mk(k, v, l, r)
}

func insert[V any](n *node[V], k string, v V) (*node[V], bool) {
	if n == nil {
		return &node[V]{key: k, val: v, height: 1}, true
	}
	switch {
	case k < n.key:
		l, added := insert(n.left, k, v)
		return balance(n.key, n.val, l, n.right), added
	case k > n.key:
		r, added := insert(n.right, k, v)
		return balance(n.key, n.val, n.left, r), added
	}
	c := *n
	c.val = v
	return &c, false
}

func remove[V any](n *node[V], k string) (*node[V], bool) {
	if n == nil {
		return nil, false
	}
	switch {
	case k < n.key:
		l, removed := remove(n.left, k)
		if !removed {
			return n, false
		}
		return balance(n.key, n.val, l, n.right), true
	case k > n.key:
		r, removed := remove(n.right, k)
		if !removed {
			return n, false
		}
		return balance(n.key, n.val, n.left, r), true
	}
	switch {
	case n.left == nil:
		return n.right, true
	case n.right == nil:
		return n.left, true
	}
	r, minKey, minVal := removeMin(n.right)
	return balance(minKey, minVal, n.left, r), true
}

// removeMin returns n's subtree without its smallest entry, and that entry.
func removeMin[V any](n *node[V]) (*node[V], string, V) {
	if n.left == nil {
		return n.right, n.key, n.val
	}
	l, k, v := removeMin(n.left)
	return balance(n.key, n.val, l, n.right), k, v
}

// Builder collects entries for a new Map. Its zero value is empty and ready
// to use. A Builder is not safe for concurrent use.
type Builder[V any] struct {
	m map[string]V
}

// NewBuilder returns a builder with room for about size entries.
func NewBuilder[V any](size int) *Builder[V] {
	return &Builder[V]{m: make(map[string]V, size)}
}

// Set sets key k to v.
func (b *Builder[V]) Set(k string, v V) {
	if b.m == nil {
		b.m = map[string]V{}
	}
	b.m[k] = v
}

// Get returns the value of key k and whether it is present.
func (b *Builder[V]) Get(k string) (V, bool) {
	v, ok := b.m[k]
	return v, ok
}

// Value returns the value of key k, or V's zero value if k is absent.
func (b *Builder[V]) Value(k string) V { return b.m[k] }

// Has reports whether key k is present.
func (b *Builder[V]) Has(k string) bool {
	_, ok := b.m[k]
	return ok
}

// Delete removes key k.
func (b *Builder[V]) Delete(k string) { delete(b.m, k) }

// Len returns the number of entries.
func (b *Builder[V]) Len() int { return len(b.m) }

// All iterates over the entries in no particular order.
func (b *Builder[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for k, v := range b.m {
			if !yield(k, v) {
				return
			}
		}
	}
}

// Map returns the entries as a Map. The builder stays usable; later changes
// to it do not affect the returned Map.
func (b *Builder[V]) Map() Map[V] { return From(b.m) }

// From returns a Map with the entries of m (m is not retained).
func From[V any](m map[string]V) Map[V] {
	if len(m) == 0 {
		return Map[V]{}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	nodes := make([]node[V], len(keys))
	for i, k := range keys {
		nodes[i].key = k
		nodes[i].val = m[k]
	}
	return Map[V]{root: build(nodes), n: len(nodes)}
}

// FromSorted returns a Map of keys[i] to vals[i]. The keys must be strictly
// ascending and len(vals) == len(keys); it panics otherwise.
func FromSorted[V any](keys []string, vals []V) Map[V] {
	if len(keys) != len(vals) {
		panic("pmap: FromSorted: keys and values differ in length")
	}
	nodes := make([]node[V], len(keys))
	for i, k := range keys {
		if i > 0 && keys[i-1] >= k {
			panic("pmap: FromSorted: keys not strictly ascending")
		}
		nodes[i].key = k
		nodes[i].val = vals[i]
	}
	return Map[V]{root: build(nodes), n: len(nodes)}
}

// build links sorted nodes into a balanced tree and returns its root.
func build[V any](nodes []node[V]) *node[V] {
	if len(nodes) == 0 {
		return nil
	}
	mid := len(nodes) / 2
	n := &nodes[mid]
	n.left = build(nodes[:mid])
	n.right = build(nodes[mid+1:])
	n.height = max(height(n.left), height(n.right)) + 1
	return n
}
