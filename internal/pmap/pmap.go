// Package pmap provides persistent ordered maps keyed by strings: B-trees
// whose nodes are shared between versions and copied only when a version
// that does not own them writes (copy on write), so that taking a snapshot
// costs O(1) and a write after it costs O(log n).
//
// The domain state of accessledger is built of these maps: the Manager
// decides a command on a snapshot of its state, publishes an immutable
// snapshot per applied batch for readers, and never copies the tenant.
//
// A Map is a small value (two pointers). Its zero value is an empty map
// ready to use. The rules that keep versions apart:
//
//   - Snapshot returns a frozen version and makes the map itself give up
//     ownership of every node, so that its next write copies what it
//     changes. A frozen version may be read by any number of goroutines at
//     once, and copied (assigned) freely; a write to a copy of it copies
//     what it changes and never touches the frozen nodes.
//   - A Map that has been written to owns the nodes it wrote. Copying such
//     a Map by assignment and writing to both copies corrupts both: take a
//     Snapshot instead.
package pmap

import (
	"iter"
	"slices"
	"strings"
)

// degree is the B-tree's minimum degree: a node other than the root holds
// between degree-1 and 2*degree-1 keys.
const (
	degree  = 16
	maxKeys = 2*degree - 1
	minKeys = degree - 1
)

// owner marks the nodes a map may change in place. It has a size so that
// every new(owner) is a distinct pointer.
type owner struct{ _ byte }

// key is a map key with its first eight bytes inline, so that searching
// a node compares integers in one array and reads the strings themselves,
// elsewhere on the heap, only between keys that share those bytes.
type key struct {
	p uint64 // the first eight bytes, big-endian, zero-padded
	s string
}

func mkKey(s string) key {
	var p uint64
	for i := range min(8, len(s)) {
		p |= uint64(s[i]) << (56 - 8*i)
	}
	return key{p, s}
}

// less orders keys as their strings: the zero-padded prefixes compare as
// the strings' first eight bytes do, and ties compare the strings.
func (a key) less(b key) bool { return a.p < b.p || a.p == b.p && a.s < b.s }

type node[V any] struct {
	keys []key
	vals []V
	kids []*node[V] // nil for a leaf
	size int        // keys in the subtree
	own  *owner
}

// Map is a persistent ordered map from strings to values of type V.
type Map[V any] struct {
	root *node[V]
	own  *owner
}

// Len returns the number of keys.
func (m *Map[V]) Len() int {
	if m.root == nil {
		return 0
	}
	return m.root.size
}

// Get returns the value of k.
func (m *Map[V]) Get(k string) (V, bool) {
	kk := mkKey(k)
	for n := m.root; n != nil; {
		i, found := search(n.keys, kk)
		if found {
			return n.vals[i], true
		}
		if n.kids == nil {
			break
		}
		n = n.kids[i]
	}
	var zero V
	return zero, false
}

// Has reports whether k is in the map.
func (m *Map[V]) Has(k string) bool {
	_, ok := m.Get(k)
	return ok
}

// Snapshot returns a frozen version of the map, safe for concurrent reads,
// and makes m's next writes copy the nodes they change.
func (m *Map[V]) Snapshot() Map[V] {
	m.own = nil
	return Map[V]{root: m.root}
}

// search returns the index of k in keys, or where it would be inserted.
func search(keys []key, k key) (int, bool) {
	lo, hi := 0, len(keys)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if keys[h].less(k) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo, lo < len(keys) && keys[lo] == k
}

// owned returns n if m may change it in place, or a copy that m owns.
func (m *Map[V]) owned(n *node[V]) *node[V] {
	if n.own == m.own {
		return n
	}
	// Room for one more: a copy is made to be written, often by an insert.
	c := &node[V]{keys: grown(n.keys), vals: grown(n.vals), size: n.size, own: m.own}
	if n.kids != nil {
		c.kids = grown(n.kids)
	}
	return c
}

// grown returns a copy of s with room for one more element.
func grown[T any](s []T) []T {
	return append(make([]T, 0, len(s)+1), s...)
}

func (m *Map[V]) claim() {
	if m.own == nil {
		m.own = new(owner)
	}
}

// Set sets the value of k.
func (m *Map[V]) Set(k string, v V) {
	m.claim()
	if m.root == nil {
		m.root = &node[V]{keys: []key{mkKey(k)}, vals: []V{v}, size: 1, own: m.own}
		return
	}
	m.root = m.owned(m.root)
	if len(m.root.keys) == maxKeys {
		old := m.root
		m.root = &node[V]{kids: []*node[V]{old}, size: old.size, own: m.own}
		m.split(m.root, 0)
	}
	m.insert(m.root, mkKey(k), v)
}

// insert sets k in the subtree of n, which m owns and which is not full.
// It reports whether k is new.
func (m *Map[V]) insert(n *node[V], k key, v V) bool {
	i, found := search(n.keys, k)
	if found {
		n.vals[i] = v
		return false
	}
	if n.kids == nil {
		n.keys = slices.Insert(n.keys, i, k)
		n.vals = slices.Insert(n.vals, i, v)
		n.size++
		return true
	}
	c := m.owned(n.kids[i])
	n.kids[i] = c
	if len(c.keys) == maxKeys {
		m.split(n, i)
		switch {
		case k == n.keys[i]:
			n.vals[i] = v
			return false
		case n.keys[i].less(k):
			i++
		}
		c = n.kids[i]
	}
	if m.insert(c, k, v) {
		n.size++
		return true
	}
	return false
}

// split splits the full child i of n (both owned by m) around its middle
// key, which moves up into n.
func (m *Map[V]) split(n *node[V], i int) {
	c := n.kids[i]
	mid := degree - 1
	r := &node[V]{
		keys: slices.Clone(c.keys[mid+1:]),
		vals: slices.Clone(c.vals[mid+1:]),
		own:  m.own,
	}
	if c.kids != nil {
		r.kids = slices.Clone(c.kids[mid+1:])
	}
	r.size = subtreeSize(r)
	mk, mv := c.keys[mid], c.vals[mid]
	c.keys = truncate(c.keys, mid)
	c.vals = truncate(c.vals, mid)
	if c.kids != nil {
		c.kids = truncate(c.kids, mid+1)
	}
	c.size -= r.size + 1
	n.keys = slices.Insert(n.keys, i, mk)
	n.vals = slices.Insert(n.vals, i, mv)
	n.kids = slices.Insert(n.kids, i+1, r)
}

// truncate shortens s to n elements, zeroing the rest so that the garbage
// collector can free what they pointed to.
func truncate[T any](s []T, n int) []T {
	clear(s[n:])
	return s[:n]
}

func subtreeSize[V any](n *node[V]) int {
	size := len(n.keys)
	for _, c := range n.kids {
		size += c.size
	}
	return size
}

// Delete removes k and returns its value, if it was there.
func (m *Map[V]) Delete(k string) (V, bool) {
	v, ok := m.Get(k)
	if !ok {
		return v, false
	}
	m.claim()
	m.root = m.owned(m.root)
	m.remove(m.root, mkKey(k))
	if len(m.root.keys) == 0 {
		if m.root.kids == nil {
			m.root = nil
		} else {
			m.root = m.root.kids[0]
		}
	}
	return v, true
}

// remove deletes k, which is in the subtree, from n, which m owns and which
// holds more than minKeys keys unless it is the root.
func (m *Map[V]) remove(n *node[V], k key) {
	n.size--
	i, found := search(n.keys, k)
	if n.kids == nil {
		n.keys = slices.Delete(n.keys, i, i+1)
		n.vals = slices.Delete(n.vals, i, i+1)
		return
	}
	if !found {
		m.remove(m.fill(n, i), k)
		return
	}
	left := m.owned(n.kids[i])
	n.kids[i] = left
	if len(left.keys) > minKeys {
		pk := maxKey(left)
		pv, _ := getIn(left, pk)
		m.remove(left, pk)
		n.keys[i], n.vals[i] = pk, pv
		return
	}
	right := m.owned(n.kids[i+1])
	n.kids[i+1] = right
	if len(right.keys) > minKeys {
		sk := minKey(right)
		sv, _ := getIn(right, sk)
		m.remove(right, sk)
		n.keys[i], n.vals[i] = sk, sv
		return
	}
	m.merge(n, i)
	m.remove(left, k)
}

// fill makes child i of n hold more than minKeys keys, by taking one from
// a sibling or merging with one, and returns the child that now covers the
// keys child i covered, owned by m.
func (m *Map[V]) fill(n *node[V], i int) *node[V] {
	c := m.owned(n.kids[i])
	n.kids[i] = c
	if len(c.keys) > minKeys {
		return c
	}
	if i > 0 && len(n.kids[i-1].keys) > minKeys {
		l := m.owned(n.kids[i-1])
		n.kids[i-1] = l
		last := len(l.keys) - 1
		c.keys = slices.Insert(c.keys, 0, n.keys[i-1])
		c.vals = slices.Insert(c.vals, 0, n.vals[i-1])
		n.keys[i-1], n.vals[i-1] = l.keys[last], l.vals[last]
		l.keys, l.vals = truncate(l.keys, last), truncate(l.vals, last)
		moved := 1
		if l.kids != nil {
			k := l.kids[len(l.kids)-1]
			l.kids = truncate(l.kids, len(l.kids)-1)
			c.kids = slices.Insert(c.kids, 0, k)
			moved += k.size
		}
		l.size -= moved
		c.size += moved
		return c
	}
	if i < len(n.kids)-1 && len(n.kids[i+1].keys) > minKeys {
		r := m.owned(n.kids[i+1])
		n.kids[i+1] = r
		c.keys = append(c.keys, n.keys[i])
		c.vals = append(c.vals, n.vals[i])
		n.keys[i], n.vals[i] = r.keys[0], r.vals[0]
		r.keys, r.vals = slices.Delete(r.keys, 0, 1), slices.Delete(r.vals, 0, 1)
		moved := 1
		if r.kids != nil {
			k := r.kids[0]
			r.kids = slices.Delete(r.kids, 0, 1)
			c.kids = append(c.kids, k)
			moved += k.size
		}
		r.size -= moved
		c.size += moved
		return c
	}
	if i == len(n.kids)-1 {
		i--
		n.kids[i] = m.owned(n.kids[i])
	}
	m.merge(n, i)
	return n.kids[i]
}

// merge moves key i of n and all of child i+1 into child i, which m owns.
func (m *Map[V]) merge(n *node[V], i int) {
	l, r := n.kids[i], n.kids[i+1]
	l.keys = append(append(l.keys, n.keys[i]), r.keys...)
	l.vals = append(append(l.vals, n.vals[i]), r.vals...)
	if l.kids != nil {
		l.kids = append(l.kids, r.kids...)
	}
	l.size += 1 + r.size
	n.keys = slices.Delete(n.keys, i, i+1)
	n.vals = slices.Delete(n.vals, i, i+1)
	n.kids = slices.Delete(n.kids, i+1, i+2)
}

func maxKey[V any](n *node[V]) key {
	for n.kids != nil {
		n = n.kids[len(n.kids)-1]
	}
	return n.keys[len(n.keys)-1]
}

func minKey[V any](n *node[V]) key {
	for n.kids != nil {
		n = n.kids[0]
	}
	return n.keys[0]
}

func getIn[V any](n *node[V], k key) (V, bool) {
	m := Map[V]{root: n}
	return m.Get(k.s)
}

// All yields every key and value in key order.
func (m *Map[V]) All() iter.Seq2[string, V] {
	return m.From("")
}

// Keys yields every key in order.
func (m *Map[V]) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range m.All() {
			if !yield(k) {
				return
			}
		}
	}
}

// From yields the keys at or after from, in order, with their values.
func (m *Map[V]) From(from string) iter.Seq2[string, V] {
	root := m.root
	return func(yield func(string, V) bool) {
		if root != nil {
			ascend(root, mkKey(from), yield)
		}
	}
}

// Prefix yields the keys that start with prefix, in order, with their values.
func (m *Map[V]) Prefix(prefix string) iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for k, v := range m.From(prefix) {
			if !strings.HasPrefix(k, prefix) || !yield(k, v) {
				return
			}
		}
	}
}

func ascend[V any](n *node[V], from key, yield func(string, V) bool) bool {
	i, _ := search(n.keys, from)
	for ; i <= len(n.keys); i++ {
		if n.kids != nil && !ascend(n.kids[i], from, yield) {
			return false
		}
		if i < len(n.keys) && !yield(n.keys[i].s, n.vals[i]) {
			return false
		}
		from = key{} // past the first key at or after from, everything follows it
	}
	return true
}

// Min returns the smallest key and its value.
func (m *Map[V]) Min() (string, V, bool) {
	for k, v := range m.All() {
		return k, v, true
	}
	var zero V
	return "", zero, false
}

// Rank returns how many keys are smaller than k.
func (m *Map[V]) Rank(k string) int {
	rank := 0
	kk := mkKey(k)
	for n := m.root; n != nil; {
		i, found := search(n.keys, kk)
		rank += i
		for _, c := range n.kids[:min(i, len(n.kids))] {
			rank += c.size
		}
		if n.kids == nil {
			break
		}
		if found {
			rank += n.kids[i].size
			break
		}
		n = n.kids[i]
	}
	return rank
}
