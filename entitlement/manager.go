package entitlement

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/google/uuid"
)

// Store is what the Manager needs of an event log; eventstore.Store
// satisfies it.
type Store interface {
	Append(ctx context.Context, cond eventstore.Condition, events ...eventstore.NewEvent) (eventstore.AppendResult, error)
	ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error]
	Head(ctx context.Context) (eventstore.Head, error)
}

// Clock tells the domain time.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configures a Manager. The zero value is ready to use.
type Options struct {
	// Clock stamps decisions and events; defaults to the system clock.
	Clock Clock
	// IDs hands out object ids; defaults to random UUIDs.
	IDs IDSource
	// Logger receives a debug line per executed command; defaults to
	// discarding.
	Logger *slog.Logger
	// NewCommandID makes the command id of an Execute without
	// WithCommandID; defaults to random UUIDs. It is called under the
	// manager's lock, like IDs and Clock.
	NewCommandID func() string
	// Upcasters turn old payloads into the current schema while replaying.
	Upcasters *eventstore.Upcasters
	// MaxRetries bounds how often Execute decides again after a concurrent
	// append (an eventstore.ErrConflict); defaults to 8.
	MaxRetries int
	// Deliverer grants and revokes resource roles; defaults to
	// RecordOnlyDeliverer, which only records.
	Deliverer Deliverer
}

// bootstrapCommandID is the command id of the append that brings the
// built-in General catalog into a log. Being fixed, it is written once per
// log however many managers start on it.
const bootstrapCommandID = "accessledger/bootstrap/general-catalog"

// Manager executes commands against an event log and keeps the State that
// is the fold of that log. It is safe for concurrent use; it starts no
// goroutines.
type Manager struct {
	store Store
	opts  Options

	mu            sync.Mutex
	lastCommandID string
	state         *State
	head          eventstore.Position
	commands      map[string][2]eventstore.Position // command id -> first and last position
}

// NewManager replays the log of store into a fresh State and returns a
// Manager over it.
//
// The built-in General catalog (catalogType serviceDefault) is an ordinary
// event in the log: if the replayed log does not hold it, NewManager appends
// its accessPackageCatalogCreated under a fixed command id, stamped by the
// clock and attributed to the system. The log stays the whole truth
// (replays and projections see General like any catalog) and the fixed
// command id makes the bootstrap idempotent across restarts and racing
// managers.
func NewManager(ctx context.Context, store Store, opts Options) (*Manager, error) {
	if store == nil {
		return nil, errors.New("entitlement: NewManager: nil store")
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.IDs == nil {
		opts.IDs = RandomIDs()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NewCommandID == nil {
		opts.NewCommandID = uuid.NewString
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 8
	}
	if opts.Deliverer == nil {
		opts.Deliverer = RecordOnlyDeliverer{}
	}
	m := &Manager{store: store, opts: opts, state: NewState(), commands: map[string][2]eventstore.Position{}}
	if err := m.catchUp(ctx); err != nil {
		return nil, err
	}
	if !m.state.catalogs.Has(GeneralCatalogID) {
		if err := m.bootstrap(ctx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Manager) bootstrap(ctx context.Context) error {
	md := eventstore.Metadata{ActorID: SystemActor().ID, ActorKind: string(ActorSystem), CommandID: bootstrapCommandID}
	now := m.opts.Clock.Now().UTC()
	ne, err := generalCatalogCreated(now).encode(now, md)
	if err != nil {
		return err
	}
	if _, err := m.store.Append(ctx, eventstore.AnyCondition, ne); err != nil {
		return fmt.Errorf("entitlement: bootstrap the General catalog: %w", err)
	}
	return m.catchUp(ctx)
}

// catchUp applies every event after the manager's head. The caller holds
// m.mu or owns m exclusively.
func (m *Manager) catchUp(ctx context.Context) error {
	for e, err := range m.opts.Upcasters.Events(m.store.ReadAll(ctx, m.head)) {
		if err != nil {
			return fmt.Errorf("entitlement: read the log after position %d: %w", m.head, err)
		}
		de, err := DecodeEvent(e)
		if err != nil {
			return err
		}
		if err := m.state.Apply(de); err != nil {
			return fmt.Errorf("entitlement: replay position %d: %w", e.Position, err)
		}
		m.head = e.Position
		if id := e.Metadata.CommandID; id != "" {
			r, ok := m.commands[id]
			if !ok {
				r[0] = e.Position
			}
			r[1] = e.Position
			m.commands[id] = r
		}
	}
	return nil
}

// previous returns the events an earlier execution of the command id
// appended, if there was one.
func (m *Manager) previous(ctx context.Context, commandID string) ([]eventstore.Event, bool, error) {
	r, ok := m.commands[commandID]
	if !ok {
		return nil, false, nil
	}
	var out []eventstore.Event
	for e, err := range m.store.ReadAll(ctx, r[0]-1) {
		if err != nil {
			return nil, true, fmt.Errorf("entitlement: read the log after position %d: %w", r[0]-1, err)
		}
		if e.Position > r[1] {
			break
		}
		if e.Metadata.CommandID == commandID {
			out = append(out, e)
		}
	}
	return out, true, nil
}

// ExecOption adjusts one Execute.
type ExecOption func(*execOptions)

type execOptions struct {
	commandID, correlationID, causationID string
}

// WithCommandID sets the command id. Executing again with the same id
// appends nothing and returns the events of the first execution, so callers
// can retry safely.
func WithCommandID(id string) ExecOption { return func(o *execOptions) { o.commandID = id } }

// WithCorrelationID sets the correlation id recorded in the events' metadata.
func WithCorrelationID(id string) ExecOption { return func(o *execOptions) { o.correlationID = id } }

// WithCausationID sets the causation id recorded in the events' metadata.
func WithCausationID(id string) ExecOption { return func(o *execOptions) { o.causationID = id } }

// Result is what an executed command appended.
type Result struct {
	// Events are the appended events as stored.
	Events []eventstore.Event
	// ID is the id of the main object the command created or changed, if
	// any: the new catalog, package, policy …, the resource request, the
	// role scope; for a Duplicate, that of the first execution.
	ID string
	// Duplicate reports that the command id had been executed before and
	// nothing was appended; Events are those of the first execution.
	Duplicate bool
	// Delivery are the events of the RecordDelivery commands the Manager
	// executed after the command, recording what its Deliverer did.
	Delivery []eventstore.Event
}

// Execute authorizes and decides cmd for actor against the current state,
// appends the resulting events and applies them. A refused command appends
// nothing and returns an *Error matching one of the package's sentinel
// errors. Execute first catches up with what other writers appended; if
// one appends between deciding and appending, it catches up and decides
// again, a bounded number of times.
func (m *Manager) Execute(ctx context.Context, actor Actor, cmd Command, opts ...ExecOption) (Result, error) {
	var xo execOptions
	for _, o := range opts {
		o(&xo)
	}
	if cmd == nil {
		return Result{}, invalid("Execute", "", "no command")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	res, err := m.execute(ctx, actor, cmd, time.Time{}, xo)
	if err != nil {
		return res, err
	}
	res.Delivery, err = m.deliverPending(ctx, m.lastCommandID)
	return res, err
}

// execute decides cmd and appends its events. A zero at decides at the
// clock's time. The caller holds m.mu.
func (m *Manager) execute(ctx context.Context, actor Actor, cmd Command, at time.Time, xo execOptions) (Result, error) {
	if xo.commandID == "" {
		xo.commandID = m.opts.NewCommandID()
	}
	m.lastCommandID = xo.commandID
	// Decide against the log as it is now, not as this manager last saw it:
	// another writer may have appended, and a refusal decided on a stale
	// state would be wrong.
	if err := m.catchUp(ctx); err != nil {
		return Result{}, err
	}

	md := eventstore.Metadata{
		ActorID: actor.ID, ActorKind: string(actor.Kind), OnBehalfOf: actor.OnBehalfOf,
		CorrelationID: xo.correlationID, CausationID: xo.causationID, CommandID: xo.commandID,
	}
	for attempt := 0; ; attempt++ {
		if prev, ok, err := m.previous(ctx, xo.commandID); ok {
			r := Result{Events: prev, Duplicate: true}
			if err == nil && len(prev) > 0 {
				if de, derr := DecodeEvent(prev[0]); derr == nil {
					r.ID = primaryID(de)
				}
			}
			return r, err
		}
		now := at
		if now.IsZero() {
			now = m.opts.Clock.Now()
		}
		now = now.UTC()
		d, err := decide(m.state, actor, now, m.opts.IDs, cmd)
		if err != nil {
			m.opts.Logger.DebugContext(ctx, "command refused", "command", cmd.commandName(), "actor", actor.ID, "error", err)
			return Result{}, err
		}
		if len(d.events) == 0 {
			return Result{ID: d.id}, nil
		}
		nes := make([]eventstore.NewEvent, len(d.events))
		for i, e := range d.events {
			if nes[i], err = e.encode(now, md); err != nil {
				return Result{}, err
			}
		}
		res, err := m.store.Append(ctx, eventstore.AtHead(m.head), nes...)
		if errors.Is(err, eventstore.ErrConflict) && attempt < m.opts.MaxRetries {
			if err := m.catchUp(ctx); err != nil {
				return Result{}, err
			}
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("entitlement: %s: append: %w", cmd.commandName(), err)
		}
		if err := m.catchUp(ctx); err != nil {
			return Result{}, err
		}
		id := d.id
		if res.Duplicate && len(res.Events) > 0 {
			id = ""
			if de, err := DecodeEvent(res.Events[0]); err == nil {
				id = primaryID(de)
			}
		}
		m.opts.Logger.DebugContext(ctx, "command executed", "command", cmd.commandName(), "actor", actor.ID,
			"events", len(res.Events), "duplicate", res.Duplicate)
		return Result{Events: res.Events, ID: id, Duplicate: res.Duplicate}, nil
	}
}

// Read calls f with the current state while holding the manager's lock, so
// f sees a consistent state. f must not keep the *State.
func (m *Manager) Read(f func(s *State)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m.state)
}

// State returns the current state as a read-only snapshot, in O(1): it
// shares everything with the Manager's state and never changes, so any
// number of goroutines may read it while commands go on. Its reads take
// an Actor and authorize like commands. Clone it to apply events of your
// own.
func (m *Manager) State() *State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.snapshot()
}

// Head returns the position of the last event the manager has applied.
func (m *Manager) Head() eventstore.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head
}

// CatchUp applies events other writers appended to the log since the last
// call.
func (m *Manager) CatchUp(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.catchUp(ctx)
}
