package perm

import "math/bits"

// maxPrivs is the number of distinct privilege names an Engine can index.
// Proxmox defines 47; the parser refuses every other name.
const maxPrivs = 128

// privSet is a set of privilege indices (see Engine.privNames).
type privSet [maxPrivs / 64]uint64

func (p *privSet) add(i int)     { p[i>>6] |= 1 << (uint(i) & 63) }
func (p privSet) has(i int) bool { return p[i>>6]&(1<<(uint(i)&63)) != 0 }
func (p privSet) or(q privSet) privSet {
	for i := range p {
		p[i] |= q[i]
	}
	return p
}
func (p privSet) and(q privSet) privSet {
	for i := range p {
		p[i] &= q[i]
	}
	return p
}
func (p privSet) empty() bool {
	for _, w := range p {
		if w != 0 {
			return false
		}
	}
	return true
}

// each calls fn for every index in p, in increasing order.
func (p privSet) each(fn func(i int)) {
	for w, word := range p {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			fn(w*64 + b)
			word &^= 1 << uint(b)
		}
	}
}

// grant is the compiled result of a permission computation: which privileges
// are set, and which of those carry the propagate flag.
type grant struct {
	set  privSet
	prop privSet
}
