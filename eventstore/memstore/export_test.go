package memstore

import (
	"fmt"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/eventstore/storetest"
)

// Tamper is the storetest Harness's Tamper for memstore: it edits the
// stored events in place, as an attacker with access to the process's
// memory could, and recomputes no hash.
func Tamper(t *testing.T, s eventstore.Store) storetest.Tamperer {
	t.Helper()
	ms, ok := s.(*Store)
	if !ok {
		t.Fatalf("memstore.Tamper: %T is not a *memstore.Store", s)
	}
	return tamperer{ms}
}

type tamperer struct{ s *Store }

// at returns the index of the event stored at pos. The caller holds s.mu.
func (tp tamperer) at(pos eventstore.Position) (int, error) {
	for i, e := range tp.s.events {
		if e.Position == pos {
			return i, nil
		}
	}
	return 0, fmt.Errorf("memstore: no event at position %d", pos)
}

func (tp tamperer) SetPayload(pos eventstore.Position, payload []byte) error {
	tp.s.mu.Lock()
	defer tp.s.mu.Unlock()
	i, err := tp.at(pos)
	if err != nil {
		return err
	}
	tp.s.events[i].Payload = append([]byte(nil), payload...)
	return nil
}

func (tp tamperer) SetActorID(pos eventstore.Position, actorID string) error {
	tp.s.mu.Lock()
	defer tp.s.mu.Unlock()
	i, err := tp.at(pos)
	if err != nil {
		return err
	}
	tp.s.events[i].Metadata.ActorID = actorID
	return nil
}

// Delete removes the event; those after it keep their positions, so the
// log has a hole, as a DELETE of one row would leave.
func (tp tamperer) Delete(pos eventstore.Position) error {
	tp.s.mu.Lock()
	defer tp.s.mu.Unlock()
	i, err := tp.at(pos)
	if err != nil {
		return err
	}
	tp.s.events = append(tp.s.events[:i], tp.s.events[i+1:]...)
	tp.s.reindex()
	return nil
}

// Swap exchanges two events, each taking the other's position, as an
// UPDATE of two rows' positions would.
func (tp tamperer) Swap(a, b eventstore.Position) error {
	tp.s.mu.Lock()
	defer tp.s.mu.Unlock()
	i, err := tp.at(a)
	if err != nil {
		return err
	}
	j, err := tp.at(b)
	if err != nil {
		return err
	}
	ev := tp.s.events
	ev[i], ev[j] = ev[j], ev[i]
	ev[i].Position, ev[j].Position = ev[j].Position, ev[i].Position
	tp.s.reindex()
	return nil
}

// reindex rebuilds the stream and command indexes from s.events after a
// tamperer moved events. The caller holds s.mu.
func (s *Store) reindex() {
	s.streams = make(map[eventstore.StreamID][]int)
	s.commands = make(map[string][2]int)
	for i, e := range s.events {
		s.streams[e.Stream] = append(s.streams[e.Stream], i)
		r, ok := s.commands[e.Metadata.CommandID]
		if !ok {
			r[0] = i
		}
		r[1] = i + 1
		s.commands[e.Metadata.CommandID] = r
	}
}
