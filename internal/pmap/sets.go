package pmap

import "iter"

// Sets maps keys to ordered sets of strings: an index from one object to
// many (a package to its assignments, a user to its groups). It is
// persistent like Map, with the same rules; its zero value is empty and
// ready to use.
type Sets struct {
	m Map[Map[struct{}]]
}

// Add adds member to the set of k.
func (s *Sets) Add(k, member string) {
	s.m.claim()
	set, _ := s.m.Get(k)
	if set.Has(member) {
		return
	}
	// The inner map writes as the outer one: the nodes it shares with a
	// snapshot of the outer map belong to an owner nobody holds any more.
	set.own = s.m.own
	set.Set(member, struct{}{})
	s.m.Set(k, set)
}

// Remove removes member from the set of k, and k with its last member.
func (s *Sets) Remove(k, member string) {
	set, ok := s.m.Get(k)
	if !ok || !set.Has(member) {
		return
	}
	if set.Len() == 1 {
		s.m.Delete(k)
		return
	}
	s.m.claim()
	set.own = s.m.own
	set.Delete(member)
	s.m.Set(k, set)
}

// Has reports whether member is in the set of k.
func (s *Sets) Has(k, member string) bool {
	set, _ := s.m.Get(k)
	return set.Has(member)
}

// Len returns the size of the set of k.
func (s *Sets) Len(k string) int {
	set, _ := s.m.Get(k)
	return set.Len()
}

// Members yields the set of k in order.
func (s *Sets) Members(k string) iter.Seq[string] {
	set, _ := s.m.Get(k)
	return set.Keys()
}

// Keys yields the keys that have a non-empty set, in order.
func (s *Sets) Keys() iter.Seq[string] {
	return s.m.Keys()
}

// Snapshot returns a frozen version, as Map.Snapshot does.
func (s *Sets) Snapshot() Sets {
	return Sets{m: s.m.Snapshot()}
}
