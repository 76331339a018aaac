package entitlement

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Command is an administrative or directory command: a plain struct named
// after the Graph operation it stands for. Only this package defines
// commands.
type Command interface {
	commandName() string
	// decide authorizes the command for a and decides it against s.
	// Commands that create no objects ignore ids.
	decide(s *State, a Actor, now time.Time, ids IDSource) (decision, error)
}

// CommandName returns the name of cmd's type, as used in errors and logs.
func CommandName(cmd Command) string { return cmd.commandName() }

// IDSource hands out the ids of new objects.
type IDSource interface {
	NewID() uuid.UUID
}

// IDFunc adapts a function to an IDSource.
type IDFunc func() uuid.UUID

// NewID calls f.
func (f IDFunc) NewID() uuid.UUID { return f() }

// RandomIDs returns an IDSource of random (version 4) UUIDs.
func RandomIDs() IDSource { return IDFunc(uuid.New) }

// SeededIDs returns a deterministic IDSource of version 4 UUIDs drawn from
// a seeded generator, for tests and examples. It is not safe for concurrent
// use on its own; the Manager serialises its calls.
func SeededIDs(seed uint64) IDSource {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return IDFunc(func() uuid.UUID {
		var u uuid.UUID
		binary.BigEndian.PutUint64(u[:8], r.Uint64())
		binary.BigEndian.PutUint64(u[8:], r.Uint64())
		u[6] = (u[6] & 0x0f) | 0x40
		u[8] = (u[8] & 0x3f) | 0x80
		return u
	})
}

// decision is what deciding a command produced: its events and the id of
// the main object it created, if any.
type decision struct {
	events []Event
	id     string
	// state, if set, is the state the command was decided on with the
	// events applied (a plan's clone), so that they need not be applied
	// again.
	state *State
}

func one(id string, e Event) (decision, error) { return decision{events: []Event{e}, id: id}, nil }

// Decide decides cmd against the state s for actor a at time now, taking
// new ids from ids. It is pure: it reads s, changes nothing and does no I/O.
// It returns the events that record the command's effect, or an *Error that
// matches one of ErrForbidden, ErrNotFound, ErrInvalid, ErrConflict or
// ErrLimit, in which case nothing must be appended.
//
// The work that fell due by now and is not recorded in s is decided first,
// as AdvanceTime would decide it, and its events (the system's, see
// Event.BySystem) come before the command's: a command is decided as if
// ProcessDue had run on time. A refused command appends none of them.
func Decide(s *State, a Actor, now time.Time, ids IDSource, cmd Command) ([]Event, error) {
	d, err := decide(s, a, now, ids, cmd)
	return d.events, err
}

func decide(s *State, a Actor, now time.Time, ids IDSource, cmd Command) (decision, error) {
	if s == nil {
		s = NewState()
	}
	if cmd == nil {
		return decision{}, invalid("Decide", "", "no command")
	}
	now = now.UTC()
	var due decision
	if recordsDueFirst(cmd) {
		if _, ok := s.nextDue(now); ok {
			var err error
			if due, err = (AdvanceTime{}).decide(s, SystemActor(), now, ids); err != nil {
				return decision{}, err
			}
			s = due.state
		}
	}
	a = s.asGuest(a)
	if why := actorBarred(s, a); why != "" {
		return decision{}, fail(cmd.commandName(), ErrForbidden, subject("user", a.ID), "%s%s", why, deletionDue(s, a.ID, now))
	}
	d, err := cmd.decide(s, a, now, ids)
	if err != nil || len(due.events) == 0 {
		return d, err
	}
	events := make([]Event, 0, len(due.events)+len(d.events))
	for _, e := range due.events {
		e.BySystem = true
		events = append(events, e)
	}
	// d.state, if set, is the state after both; if not, the caller
	// applies every event to the state it gave.
	d.events = append(events, d.events...)
	return d, nil
}

// recordsDueFirst reports whether cmd is decided after the work that fell
// due: every command but the system's processing of due work itself and
// its recording of deliveries, which finish work already decided.
func recordsDueFirst(cmd Command) bool {
	switch cmd.(type) {
	case AdvanceTime, RecordDelivery:
		return false
	}
	return true
}

// newID returns a new object id that no object in s has yet. A
// misconfigured source (two managers sharing a seed, say) repeats ids;
// those are skipped, and after many repeats a random id is used instead.
func (s *State) newID(ids IDSource) string {
	if ids != nil {
		for range 100 {
			if id := ids.NewID().String(); !s.idInUse(id) {
				return id
			}
		}
	}
	for {
		if id := uuid.NewString(); !s.idInUse(id) {
			return id
		}
	}
}

// forbidden returns the ErrForbidden error of op on subject.
func forbidden(op, subject string) error {
	return fail(op, ErrForbidden, subject, "the actor lacks the rights for this operation")
}

// notFound returns the ErrNotFound error of op for a missing object, or
// its ErrInvalid error when the subject names no id at all.
func notFound(op, subject string) error {
	if kind, ok := strings.CutSuffix(subject, "/"); ok {
		// No id at all: the request is incomplete (Graph's 400), not
		// about an object that is missing.
		return invalid(op, kind+"Id", "is required")
	}
	return fail(op, ErrNotFound, subject, "does not exist")
}

// checkDisplayName validates a required display name: present, and text
// a display name may hold (see checkText).
func checkDisplayName(op, field, name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid(op, field, "is required")
	}
	return checkString(op, field, name)
}

// checkID validates an object id: a GUID.
func checkID(op, field, id string) error {
	if id == "" {
		return invalid(op, field, "is required")
	}
	if _, err := uuid.Parse(id); err != nil {
		return invalid(op, field, "%q is not a GUID", id)
	}
	return nil
}

func subject(kind, id string) string { return fmt.Sprintf("%s/%s", kind, id) }

func itoa(i int) string { return strconv.Itoa(i) }

// deletionDue adds to the refusal of a guest the lifecycle blocked, whose
// deletion fell due but is not recorded yet, what comes next.
func deletionDue(s *State, userID string, now time.Time) string {
	u, ok := s.users.Get(userID)
	if !ok || !u.lifecycleBlocked() || u.Lifecycle.DeletionDateTime == nil || u.Lifecycle.DeletionDateTime.After(now) {
		return ""
	}
	return fmt.Sprintf(", and their deletion fell due at %s: once ProcessDue has recorded it, they may ask again as a person not in the directory",
		u.Lifecycle.DeletionDateTime.Format(time.RFC3339))
}

// actorBarred says why a user the directory knows may not act at all: it
// was deleted or is blocked from signing in. Users the directory does not
// know are taken at the embedding program's word.
func actorBarred(s *State, a Actor) string {
	if a.Kind != ActorUser {
		return ""
	}
	u, ok := s.users.Get(a.ID)
	switch {
	case !ok:
		return ""
	case u.DeletedDateTime != nil:
		return "the user was deleted"
	case !u.AccountEnabled:
		return "the user is blocked from signing in"
	}
	return ""
}
