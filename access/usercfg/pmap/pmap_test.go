package pmap

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// check verifies the AVL and search-tree invariants, the stored heights and
// the entry count, and that m holds exactly want.
func check(t *testing.T, m Map[int], want map[string]int) {
	t.Helper()
	var verify func(n *node[int], lo, hi *string) (int32, int)
	verify = func(n *node[int], lo, hi *string) (int32, int) {
		if n == nil {
			return 0, 0
		}
		if lo != nil && n.key <= *lo || hi != nil && n.key >= *hi {
			t.Fatalf("key %q out of order", n.key)
		}
		hl, cl := verify(n.left, lo, &n.key)
		hr, cr := verify(n.right, &n.key, hi)
		if hl-hr > 1 || hr-hl > 1 {
			t.Fatalf("node %q unbalanced: %d vs %d", n.key, hl, hr)
		}
		if h := max(hl, hr) + 1; n.height != h {
			t.Fatalf("node %q height %d, want %d", n.key, n.height, h)
		}
		return n.height, cl + cr + 1
	}
	if _, c := verify(m.root, nil, nil); c != m.Len() {
		t.Fatalf("Len %d, tree holds %d", m.Len(), c)
	}
	if m.Len() != len(want) {
		t.Fatalf("Len %d, want %d", m.Len(), len(want))
	}
	for k, v := range want {
		if got, ok := m.Get(k); !ok || got != v {
			t.Fatalf("Get(%q) = %d, %v; want %d", k, got, ok, v)
		}
	}
	keys := slices.Sorted(maps.Keys(want))
	if got := m.SortedKeys(); !slices.Equal(got, keys) {
		t.Fatalf("keys %q, want %q", got, keys)
	}
	i := 0
	for k, v := range m.All() {
		if k != keys[i] || v != want[k] {
			t.Fatalf("All()[%d] = %q:%d, want %q:%d", i, k, v, keys[i], want[keys[i]])
		}
		i++
	}
}

func TestZero(t *testing.T) {
	var m Map[int]
	if m.Len() != 0 || m.Has("a") || m.Value("a") != 0 {
		t.Fatal("zero map not empty")
	}
	if d := m.Delete("a"); d.root != nil || d.Len() != 0 {
		t.Fatal("delete from empty")
	}
	for range m.All() {
		t.Fatal("zero map iterates")
	}
	check(t, From[int](nil), map[string]int{})
	check(t, FromSorted[int](nil, nil), map[string]int{})
}

// TestRandom applies random sets and deletes and checks every version,
// including older ones, which must never change.
func TestRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type version struct {
		m    Map[int]
		want map[string]int
	}
	var versions []version
	m, want := Map[int]{}, map[string]int{}
	for i := 0; i < 4000; i++ {
		k := fmt.Sprintf("k%03d", r.IntN(300))
		if r.IntN(3) == 0 {
			m = m.Delete(k)
			delete(want, k)
		} else {
			m = m.Set(k, i)
			want[k] = i
		}
		if i%97 == 0 {
			check(t, m, want)
			versions = append(versions, version{m, maps.Clone(want)})
		}
	}
	for _, v := range versions {
		check(t, v.m, v.want)
	}
	// Delete everything, in random order.
	keys := slices.Collect(maps.Keys(want))
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys {
		m = m.Delete(k)
		delete(want, k)
		check(t, m, want)
	}
}

func TestSequential(t *testing.T) {
	for _, desc := range []bool{false, true} {
		m, want := Map[int]{}, map[string]int{}
		for i := 0; i < 1000; i++ {
			j := i
			if desc {
				j = 999 - i
			}
			k := fmt.Sprintf("%04d", j)
			m = m.Set(k, j)
			want[k] = j
		}
		check(t, m, want)
		if h := m.root.height; h > 14 {
			t.Errorf("height %d for 1000 sequential keys", h)
		}
	}
}

func TestBuilderAndFrom(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 8, 100, 1023, 1024} {
		var b Builder[int]
		want := map[string]int{}
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("x%d", i*7919%1000)
			b.Set(k, i)
			want[k] = i
		}
		if b.Len() != len(want) {
			t.Fatalf("builder Len %d", b.Len())
		}
		m := b.Map()
		check(t, m, want)
		b.Set("late", 1)
		if m.Has("late") {
			t.Fatal("builder change reached the map")
		}
		// The built map takes changes like any other.
		m2 := m.Set("zzz", 5).Delete("x0")
		want2 := maps.Clone(want)
		want2["zzz"] = 5
		delete(want2, "x0")
		check(t, m2, want2)
		check(t, m, want)

		keys := slices.Sorted(maps.Keys(want))
		vals := make([]int, len(keys))
		for i, k := range keys {
			vals[i] = want[k]
		}
		check(t, FromSorted(keys, vals), want)
	}
}

func TestFromSortedPanics(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		vals []int
	}{
		{[]string{"b", "a"}, []int{1, 2}},
		{[]string{"a", "a"}, []int{1, 2}},
		{[]string{"a"}, nil},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("FromSorted(%q) did not panic", tc.keys)
				}
			}()
			FromSorted(tc.keys, tc.vals)
		}()
	}
}

func TestIterationStops(t *testing.T) {
	m := From(map[string]int{"a": 1, "b": 2, "c": 3, "d": 4})
	var got []string
	for k := range m.Keys() {
		got = append(got, k)
		if k == "b" {
			break
		}
	}
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("got %q", got)
	}
	got = nil
	m.Range(func(k string, _ int) bool {
		got = append(got, k)
		return k != "c"
	})
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("got %q", got)
	}
}

func TestDeleteAbsentShares(t *testing.T) {
	m := From(map[string]int{"a": 1, "c": 3})
	if d := m.Delete("b"); d.root != m.root {
		t.Fatal("deleting an absent key copied the tree")
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Delete("b") }); allocs != 0 {
		t.Fatalf("deleting an absent key allocates %v", allocs)
	}
}

// TestSetCostIsLogarithmic checks that an update copies only a path: the
// allocations of one Set do not grow with the map.
func TestSetCostIsLogarithmic(t *testing.T) {
	for _, n := range []int{100, 100000} {
		b := NewBuilder[int](n)
		for i := 0; i < n; i++ {
			b.Set(fmt.Sprintf("user%06d@pve", i), i)
		}
		m := b.Map()
		allocs := testing.AllocsPerRun(100, func() { m.Set("user000042@pve", 1) })
		if limit := 1.5*float64(m.root.height) + 1; allocs > limit {
			t.Errorf("n=%d: Set allocates %v (height %d)", n, allocs, m.root.height)
		}
	}
}

func benchMap(n int) (Map[*int], map[string]*int) {
	b := NewBuilder[*int](n)
	plain := make(map[string]*int, n)
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("user%05d@pve", i)
		b.Set(k, &i)
		plain[k] = &i
	}
	return b.Map(), plain
}

func BenchmarkSet(b *testing.B) {
	for _, n := range []int{100, 10000} {
		m, plain := benchMap(n)
		v := new(int)
		b.Run(fmt.Sprintf("pmap/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Set("user00042@pve", v)
			}
		})
		b.Run(fmt.Sprintf("cloned-map/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := maps.Clone(plain)
				c["user00042@pve"] = v
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	m, plain := benchMap(10000)
	b.Run("pmap", func(b *testing.B) {
		for b.Loop() {
			if _, ok := m.Get("user04242@pve"); !ok {
				b.Fatal("missing")
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			if _, ok := plain["user04242@pve"]; !ok {
				b.Fatal("missing")
			}
		}
	})
}

func BenchmarkBuild(b *testing.B) {
	_, plain := benchMap(10000)
	b.ReportAllocs()
	for b.Loop() {
		From(plain)
	}
}

func BenchmarkAll(b *testing.B) {
	m, _ := benchMap(10000)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for range m.All() {
			n++
		}
	}
}
