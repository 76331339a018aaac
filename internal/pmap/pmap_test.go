package pmap

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// check verifies the B-tree's shape: keys in order, node sizes within
// bounds, leaves at one depth, subtree sizes right.
func check[V any](t require.TestingT, m *Map[V]) {
	if m.root == nil {
		return
	}
	depth := -1
	var walk func(n *node[V], lo, hi string, d int, root bool) int
	walk = func(n *node[V], lo, hi string, d int, root bool) int {
		require.Equal(t, len(n.keys), len(n.vals))
		require.LessOrEqual(t, len(n.keys), maxKeys)
		if !root {
			require.GreaterOrEqual(t, len(n.keys), minKeys)
		}
		for i, k := range n.keys {
			require.Equal(t, mkKey(k.s), k, "the inline prefix is the key's")
			if i > 0 {
				require.Less(t, n.keys[i-1].s, k.s)
				require.True(t, n.keys[i-1].less(k))
			}
			require.True(t, lo == "" || k.s > lo, "key %q not above %q", k.s, lo)
			require.True(t, hi == "" || k.s < hi, "key %q not below %q", k.s, hi)
		}
		size := len(n.keys)
		if n.kids == nil {
			if depth < 0 {
				depth = d
			}
			require.Equal(t, depth, d, "leaves at different depths")
		} else {
			require.Equal(t, len(n.keys)+1, len(n.kids))
			for i, c := range n.kids {
				l, h := lo, hi
				if i > 0 {
					l = n.keys[i-1].s
				}
				if i < len(n.keys) {
					h = n.keys[i].s
				}
				size += walk(c, l, h, d+1, false)
			}
		}
		require.Equal(t, size, n.size, "subtree size")
		return size
	}
	walk(m.root, "", "", 0, true)
}

func contents[V any](m *Map[V]) map[string]V {
	out := map[string]V{}
	for k, v := range m.All() {
		out[k] = v
	}
	return out
}

func TestMapAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var m Map[int]
		model := map[string]int{}
		type snap struct {
			m     Map[int]
			model map[string]int
		}
		var snaps []snap
		// A small key space makes deletes and replacements frequent; a
		// long one makes the tree deep.
		// Keys of one to twelve bytes, so that prefixes tie and keys end
		// inside and beyond the inline eight bytes.
		key := rapid.Custom(func(t *rapid.T) string {
			n := rapid.IntRange(0, rapid.SampledFrom([]int{40, 3000}).Draw(t, "space")).Draw(t, "n")
			return fmt.Sprintf("%0*d", rapid.IntRange(1, 12).Draw(t, "width"), n)
		})
		t.Repeat(map[string]func(*rapid.T){
			"set": func(t *rapid.T) {
				for range rapid.IntRange(1, 200).Draw(t, "count") {
					k, v := key.Draw(t, "k"), rapid.Int().Draw(t, "v")
					m.Set(k, v)
					model[k] = v
				}
			},
			"delete": func(t *rapid.T) {
				for range rapid.IntRange(1, 200).Draw(t, "count") {
					k := key.Draw(t, "k")
					v, ok := m.Delete(k)
					w, had := model[k]
					require.Equal(t, had, ok)
					require.Equal(t, w, v)
					delete(model, k)
				}
			},
			"snapshot": func(t *rapid.T) {
				snaps = append(snaps, snap{m.Snapshot(), maps.Clone(model)})
			},
			"write to a snapshot's copy": func(t *rapid.T) {
				if len(snaps) == 0 {
					t.Skip()
				}
				s := rapid.SampledFrom(snaps).Draw(t, "snapshot")
				c := s.m
				c.Set(key.Draw(t, "k"), 1)
				c.Delete(key.Draw(t, "k"))
			},
			"": func(t *rapid.T) {
				check(t, &m)
				require.Equal(t, len(model), m.Len())
				require.Equal(t, model, contents(&m))
				keys := slices.Sorted(maps.Keys(model))
				require.Equal(t, nilIfEmpty(keys), nilIfEmpty(slices.Collect(m.Keys())))
				probe := key.Draw(t, "probe")
				require.Equal(t, sort.SearchStrings(keys, probe), m.Rank(probe))
				from := slices.Collect(func(yield func(string) bool) {
					for k := range m.From(probe) {
						if !yield(k) {
							return
						}
					}
				})
				require.Equal(t, nilIfEmpty(keys[sort.SearchStrings(keys, probe):]), nilIfEmpty(from))
				for _, s := range snaps {
					check(t, &s.m)
					require.Equal(t, s.model, contents(&s.m), "a snapshot changed")
				}
			},
		})
	})
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return []string{}
	}
	return s
}

func TestPrefixAndMin(t *testing.T) {
	var m Map[int]
	for i, k := range []string{"b/2", "a/1", "b/1", "c/1", "b/3"} {
		m.Set(k, i)
	}
	require.Equal(t, []string{"b/1", "b/2", "b/3"}, slices.Collect(func(yield func(string) bool) {
		for k := range m.Prefix("b/") {
			if !yield(k) {
				return
			}
		}
	}))
	k, v, ok := m.Min()
	require.True(t, ok)
	require.Equal(t, "a/1", k)
	require.Equal(t, 1, v)
	var empty Map[int]
	_, _, ok = empty.Min()
	require.False(t, ok)
	require.Equal(t, 0, empty.Rank("x"))
}

func TestSets(t *testing.T) {
	var s Sets
	s.Add("g1", "u2")
	s.Add("g1", "u1")
	s.Add("g2", "u1")
	snap := s.Snapshot()
	s.Add("g1", "u3")
	s.Remove("g2", "u1")
	s.Remove("g1", "u2")
	require.Equal(t, []string{"u1", "u3"}, slices.Collect(s.Members("g1")))
	require.Equal(t, []string{"g1"}, slices.Collect(s.Keys()))
	require.False(t, s.Has("g2", "u1"))
	require.Equal(t, 0, s.Len("g2"))
	// The snapshot kept what it saw, inner sets included.
	require.Equal(t, []string{"u1", "u2"}, slices.Collect(snap.Members("g1")))
	require.True(t, snap.Has("g2", "u1"))
	require.Equal(t, 2, snap.Len("g1"))
}

func TestSetsSnapshotsOfInnerSets(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s Sets
		model := map[string]map[string]bool{}
		type snap struct {
			s     Sets
			model map[string][]string
		}
		var snaps []snap
		freeze := func() map[string][]string {
			out := map[string][]string{}
			for k, set := range model {
				out[k] = slices.Sorted(maps.Keys(set))
			}
			return out
		}
		for range rapid.IntRange(1, 300).Draw(t, "steps") {
			k := fmt.Sprintf("k%d", rapid.IntRange(0, 3).Draw(t, "k"))
			mem := fmt.Sprintf("m%03d", rapid.IntRange(0, 80).Draw(t, "member"))
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0, 1:
				s.Add(k, mem)
				if model[k] == nil {
					model[k] = map[string]bool{}
				}
				model[k][mem] = true
			case 2:
				s.Remove(k, mem)
				delete(model[k], mem)
				if len(model[k]) == 0 {
					delete(model, k)
				}
			case 3:
				snaps = append(snaps, snap{s.Snapshot(), freeze()})
			}
		}
		got := func(s *Sets) map[string][]string {
			out := map[string][]string{}
			for k := range s.Keys() {
				out[k] = slices.Collect(s.Members(k))
			}
			return out
		}
		require.Equal(t, freeze(), got(&s))
		for _, sn := range snaps {
			require.Equal(t, sn.model, got(&sn.s))
		}
	})
}

func BenchmarkGet(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var m Map[int]
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i*2654435761%(1<<32), i)
				m.Set(keys[i], i)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, ok := m.Get(keys[i%n]); !ok {
					b.Fatal("missing")
				}
			}
		})
	}
}

func BenchmarkSetAfterSnapshot(b *testing.B) {
	var m Map[int]
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i*2654435761%(1<<32), i)
		m.Set(keys[i], i)
	}
	b.ResetTimer()
	for i := range b.N {
		m.Snapshot()
		m.Set(keys[i%len(keys)], i)
	}
}
