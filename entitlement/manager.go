package entitlement

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/google/uuid"
	"github.com/oklog/ulid/v2"
)

// Store is what the Manager needs of an event log; eventstore.Store
// satisfies it. A store that also implements eventstore.Enqueuer (both
// backends of this module do) lets concurrent commands share commits.
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
	// EventIDs hands out the ids of the events the Manager appends;
	// defaults to ulid.Make. The Manager names its events itself so that
	// each append can state the event it was decided after.
	EventIDs func() ulid.ULID
	// Logger receives a debug line per executed command and a warning
	// when a snapshot file is ignored; defaults to discarding.
	Logger *slog.Logger
	// NewCommandID makes the command id of an Execute without
	// WithCommandID; defaults to random UUIDs. It is called under the
	// manager's lock, like IDs, EventIDs and Clock.
	NewCommandID func() string
	// Upcasters turn old payloads into the current schema wherever the
	// Manager reads stored events: replaying, and answering a repeated
	// command with the events it wrote.
	Upcasters *eventstore.Upcasters
	// MaxRetries bounds how often Execute decides again after its append
	// was refused because the log moved (another writer appended, or a
	// command it was decided after failed); zero or negative: 8.
	MaxRetries int
	// Deliverer grants and revokes resource roles; defaults to
	// RecordOnlyDeliverer, which only records.
	Deliverer Deliverer
	// SnapshotPath is the snapshot file NewManager starts from and
	// WriteSnapshot writes (see WriteSnapshot). Empty means beside the
	// log, for a store that keeps it in a file (sqlitestore: the log's
	// path with ".snapshot" added); for other stores, no snapshots.
	SnapshotPath string
	// NoSnapshot makes NewManager replay the whole log even when a
	// snapshot file is there.
	NoSnapshot bool
	// SnapshotKey, if not empty, seals the snapshots WriteSnapshot writes with
	// HMAC-SHA256 under it, and NewManager and CheckSnapshot use only a
	// snapshot sealed under it (others are ignored, as a damaged one is):
	// whoever may write the snapshot file but does not hold the key cannot
	// make one the Manager decides on. Keep it as secret as a signing key.
	SnapshotKey []byte
}

// bootstrapCommandID is the command id of the append that brings the
// built-in General catalog into a log. Being fixed, it is written once per
// log however many managers start on it.
const bootstrapCommandID = "accessledger/bootstrap/general-catalog"

// Manager executes commands against an event log and keeps the State that
// is the fold of that log. It is safe for concurrent use.
//
// Concurrent commands share commits. A command is decided under the
// manager's lock on the state that includes the commands still being
// written (the speculative state), queued to the store's group commit
// with a condition naming the last event it was decided after, and waited
// for outside the lock; the next command is decided meanwhile. A command
// returns once its events are durable. If an append fails, every command
// decided after it fails its condition too and is decided again, and the
// State readers see (State, Read) only ever holds events that are in the
// log: it moves on when an append is known to be written.
//
// Delivery (the Deliverer) runs with no lock held. The Manager starts no
// goroutine that outlives a call (NewManager decodes a snapshot file on
// several, and waits for them).
type Manager struct {
	store Store
	queue eventstore.Enqueuer // store, if it queues appends
	opts  Options

	mu        sync.Mutex
	committed *State // the fold of the log up to head; read-only
	head      eventstore.Position
	headID    ulid.ULID
	headHash  eventstore.Hash // the hash of the event at head, which a catch-up's first event must follow
	spec      *State          // committed with the events of inflight applied
	specHead  eventstore.Position
	specID    ulid.ULID
	inflight  []*batch
	// commands maps the hash of every command id in the log to the
	// positions its events took, for answering a repeated command.
	commands map[uint64][2]eventstore.Position
	// stale says that a catch-up failed: the next command catches up first.
	stale bool

	published atomic.Pointer[State]

	// deliveries serialise the deliveries to each subject; see deliver.
	deliveries [deliveryStripes]sync.Mutex

	started StartInfo
}

// StartInfo says how NewManager got to its state.
type StartInfo struct {
	// Snapshot is the snapshot it started from; its Path is empty if it
	// replayed the whole log.
	Snapshot SnapshotInfo
	// Replayed is how many events it applied from the log.
	Replayed int
	// SnapshotIgnored is why a snapshot file at the snapshot path was not
	// used (it could not be read, or it is not of this log: errors.Is
	// ErrSnapshotMismatch), nil if there was none or it was used. The
	// Manager then replayed the whole log.
	SnapshotIgnored error
}

// Started says how the manager got to its state when it started.
func (m *Manager) Started() StartInfo { return m.started }

// batch is one command's append, queued and not yet settled.
type batch struct {
	cmdID   string
	digest  string // commandDigest of the command
	name    string // the command's name, for errors and logs
	id      string // Result.ID of the decision
	decided []Event
	n       int
	first   eventstore.Position // where its first event is to go
	lastID  ulid.ULID
	state   *State // the speculative state with this batch applied; read-only
	ticket  eventstore.Ticket

	// Set under the manager's lock.
	waited  bool // res and err hold the store's answer
	unknown bool // the caller stopped waiting: wait for the answer again
	doomed  bool // decided after a batch that failed: it fails too
	res     eventstore.AppendResult
	err     error
	settled chan struct{} // closed once the outcome below is set
	out     Result
	outErr  error
	again   bool // decide the command again
}

// NewManager replays the log of store into a fresh State and returns a
// Manager over it. If a snapshot file matching the log is there (see
// Options.SnapshotPath and WriteSnapshot), it starts from the snapshot and
// replays only the events after it.
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
	if opts.EventIDs == nil {
		opts.EventIDs = ulid.Make
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
	m := &Manager{store: store, opts: opts}
	m.queue, _ = store.(eventstore.Enqueuer)
	m.startEmpty()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started.Snapshot, m.started.SnapshotIgnored = m.loadSnapshot(ctx)
	from := m.head
	if err := m.catchUp(ctx); err != nil {
		if m.started.Snapshot.Path == "" || !errors.Is(err, errNotApplied) {
			return nil, err // a read or the chain failed: no snapshot would help
		}
		// The log does not apply on the snapshot's state: the snapshot is
		// not what it claims to be. The log alone is the truth.
		m.opts.Logger.WarnContext(ctx, "snapshot ignored; replaying the whole log", "path", m.started.Snapshot.Path, "error", err)
		m.started.SnapshotIgnored = fmt.Errorf("entitlement: snapshot %s ignored: %w: the events after it do not apply to it: %w",
			m.started.Snapshot.Path, ErrSnapshotMismatch, err)
		m.started.Snapshot = SnapshotInfo{}
		m.startEmpty()
		from = 0
		if err := m.catchUp(ctx); err != nil {
			return nil, err
		}
	}
	m.started.Replayed = int(m.head - from)
	if !m.committed.catalogs.Has(GeneralCatalogID) {
		if err := m.bootstrap(ctx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// startEmpty sets m to the state of an empty log, before anything is
// read: the start of a replay.
func (m *Manager) startEmpty() {
	m.commands = map[uint64][2]eventstore.Position{}
	m.committed = NewState().snapshot()
	m.head, m.headID, m.headHash, m.stale = 0, ulid.ULID{}, eventstore.Hash{}, false
	m.spec = m.committed.Clone()
	m.specHead, m.specID = 0, ulid.ULID{}
	m.published.Store(m.committed)
}

func (m *Manager) bootstrap(ctx context.Context) error {
	md := eventstore.Metadata{ActorID: SystemActor().ID, ActorKind: string(ActorSystem), CommandID: bootstrapCommandID}
	now := m.opts.Clock.Now().UTC()
	ne, err := generalCatalogCreated(now).encode(now, md)
	if err != nil {
		return err
	}
	ne.ID = m.opts.EventIDs() // like every event the Manager appends, so that a seeded log is the same on every run
	if _, err := m.store.Append(ctx, eventstore.AnyCondition, ne); err != nil {
		return fmt.Errorf("entitlement: bootstrap the General catalog: %w", err)
	}
	return m.catchUp(ctx)
}

// errNotApplied matches a catch-up's error for an event that does not
// apply to the state: after a snapshot, one that is not what it claims.
var errNotApplied = errors.New("the event does not apply to the state")

// catchUp applies the events after the committed head to the committed
// state and starts the speculative state afresh from it. The caller holds
// m.mu and has no batch in flight (or only doomed ones).
func (m *Manager) catchUp(ctx context.Context) error {
	var next *State
	// A catch-up that fails (or panics: an upcaster's bug) publishes
	// nothing: the head goes back to the committed state's, and the next
	// catch-up reads from there again.
	head, headID, headHash, done := m.head, m.headID, m.headHash, false
	defer func() {
		if !done {
			m.stale = true
			m.head, m.headID, m.headHash = head, headID, headHash
		}
	}()
	for e, err := range m.decodedLog(ctx, eventstore.Head{Position: m.head, Hash: m.headHash}) {
		if err != nil {
			return err
		}
		if next == nil {
			next = m.committed.Clone()
		}
		if err := next.Apply(e.Event); err != nil {
			return fmt.Errorf("entitlement: replay position %d: %w: %w", e.position, errNotApplied, err)
		}
		m.head, m.headID, m.headHash = e.position, e.id, e.hash
		m.remember(e.commandID, e.position)
	}
	done = true
	m.stale = false
	if next != nil {
		m.committed = next.snapshot()
		m.published.Store(m.committed)
	}
	m.spec = m.committed.Clone()
	m.specHead, m.specID = m.head, m.headID
	return nil
}

// remember records that command id wrote the event at p.
func (m *Manager) remember(commandID string, p eventstore.Position) {
	if commandID == "" {
		return
	}
	k := stableHash(commandID)
	r, ok := m.commands[k]
	if !ok {
		r[0] = p
	}
	r[1] = p
	m.commands[k] = r
}

// stableHash hashes s with FNV-1a: the same in every process, so that a
// snapshot can keep the keys of Manager.commands. Two command ids with one
// hash are told apart by reading the log (see previous).
func stableHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// previous returns the events an earlier execution of the command id
// appended, if the log holds one. The caller holds m.mu.
func (m *Manager) previous(ctx context.Context, commandID string) ([]eventstore.Event, bool, error) {
	r, ok := m.commands[stableHash(commandID)]
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
	// Another command id with the same hash: not a repeat.
	return out, len(out) > 0, nil
}

// ExecOption adjusts one Execute.
type ExecOption func(*execOptions)

type execOptions struct {
	commandID, correlationID, causationID string
}

// The instants the log can hold: it keeps times as Unix nanoseconds.
var (
	minInstant = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxInstant = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// commandDigest is what the log records of a command beside its id, so
// that the id's reuse for another command is refused rather than answered
// with the first command's result: the command's name, the decision time
// the caller set (ProcessDue's until), its fields as JSON and the actor,
// hashed (SHA-256, the first 16 bytes in hex). The command's instants
// (its time.Time values) are hashed in UTC and the actor's roles and
// permissions as sets, so that a retry whose times are in another zone, or
// whose actor lists its roles in another order or twice, is the same
// command; text that looks like an instant is hashed as it is.
func commandDigest(cmd Command, a Actor, at time.Time) string {
	h := sha256.New()
	h.Write([]byte(cmd.commandName() + "\n"))
	if !at.IsZero() {
		h.Write(at.UTC().AppendFormat(nil, time.RFC3339Nano+"\n"))
	}
	a.DirectoryRoles = asSet(a.DirectoryRoles)
	a.AppPermissions = asSet(a.AppPermissions)
	for _, v := range []any{cmd, a} {
		if rv := reflect.ValueOf(v); hasZonedTime(rv) {
			v = inUTC(rv).Interface()
		}
		b, err := json.Marshal(v)
		if err != nil { // a command is plain data: it always encodes
			return legacyDigest(cmd, a)
		}
		h.Write(append(b, '\n'))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// asSet returns s sorted and without duplicates, nil if empty; s itself
// if it already is.
func asSet[T cmp.Ordered](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return slices.Compact(slices.Sorted(slices.Values(s)))
		}
	}
	return s
}

// hasZonedTime reports whether v holds a time.Time not in UTC.
func hasZonedTime(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time).Location() != time.UTC
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && hasZonedTime(v.Field(i)) {
				return true
			}
		}
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasZonedTime(v.Elem())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if hasZonedTime(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasZonedTime(it.Value()) {
				return true
			}
		}
	}
	return false
}

// inUTC returns a copy of v whose every (exported) time.Time is in UTC;
// v itself is not changed.
func inUTC(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			return reflect.ValueOf(v.Interface().(time.Time).UTC())
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				c.Field(i).Set(inUTC(v.Field(i)))
			}
		}
		return c
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(inUTC(v.Elem()))
		return c
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(inUTC(v.Elem()))
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(inUTC(v.Index(i)))
		}
		return c
	case reflect.Array:
		c := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			c.Index(i).Set(inUTC(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			c.SetMapIndex(it.Key(), inUTC(it.Value()))
		}
		return c
	}
	return v
}

// legacyDigest is the digest logs written before 30 Nov 2026 recorded
// (times in their zones, roles in their order, no decision time): a retry
// of a command they hold matches it too.
func legacyDigest(cmd Command, a Actor) string {
	h := sha256.New()
	h.Write([]byte(cmd.commandName() + "\n"))
	json.NewEncoder(h).Encode(cmd)
	json.NewEncoder(h).Encode(a)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// reused is the error of a command id already used for another command.
func reused(op, commandID string, at eventstore.Position) error {
	where := "by a command being written"
	if at > 0 {
		where = fmt.Sprintf("at position %d", at)
	}
	return fail(op, ErrConflict, "command/"+commandID, "the command id was used %s for another command; give each command an id of its own and reuse it only to retry that command", where)
}

// checkEnvelope checks what an execution puts in its events' metadata,
// before anything is decided: the log hashes these strings and refuses
// invalid UTF-8, and holds instants only between 1678 and 2262.
func checkEnvelope(op string, a Actor, xo execOptions, now time.Time) error {
	for _, f := range []struct{ field, value string }{
		{"actor.id", a.ID}, {"actor.onBehalfOf", a.OnBehalfOf}, {"actor.tenantId", a.TenantID}, {"commandId", xo.commandID},
		{"correlationId", xo.correlationID}, {"causationId", xo.causationID},
	} {
		if !utf8.ValidString(f.value) {
			return invalid(op, f.field, "is not valid UTF-8")
		}
	}
	if now.Before(minInstant) || now.After(maxInstant) {
		return invalid(op, "", "the clock reads %s, outside the years 1678 to 2262 that the log can hold", now.Format(time.RFC3339))
	}
	return nil
}

// WithCommandID sets the command id (an empty id is the same as none: the
// Manager makes one up). Executing again with the same id appends nothing
// and returns the events of the first execution, so callers can retry
// safely: after an error, and in particular after an
// *OutcomeUnknownError, repeat the command with the id it carries. The id
// names one command: executing a different command, or the same one by
// another actor, with an id already used is refused with ErrConflict,
// appending nothing; so is ProcessDue with another until. The same
// command is the same values: instants in another zone, and the actor's
// roles in another order, are the same.
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
	// CommandID is the command id the events were appended under (the one
	// given with WithCommandID, or the one the Manager made).
	CommandID string
	// Duplicate reports that the command id had been executed before and
	// nothing was appended; Events are those of the first execution.
	Duplicate bool
	// Delivery are the events of the RecordDelivery commands the Manager
	// executed after the command, recording what its Deliverer did: a role
	// it refused is an EventResourceAssignmentFailed among them, with the
	// error's text as its reason.
	Delivery []eventstore.Event
	// DeliveryError, if set, says why the delivery that followed the
	// command did not finish (the context ended while the Deliverer ran,
	// or recording its outcomes failed). The command itself is in the log;
	// DeliverPending delivers what is left (ProcessDue does not: call both
	// on the program's ticker, and DeliverPending once at start-up).
	DeliveryError error
}

// LastPosition returns the log position of the last event the command and
// its delivery appended (or, for a Duplicate, of the first execution's
// events), and 0 for a command that appended nothing. A read model that
// catches up to it shows the command: projection.Projector.CatchUpTo.
func (r Result) LastPosition() eventstore.Position {
	var last eventstore.Position
	for _, e := range r.Events {
		last = max(last, e.Position)
	}
	for _, e := range r.Delivery {
		last = max(last, e.Position)
	}
	return last
}

// OutcomeUnknownError reports a command whose events went to the log but
// may or may not be in it: the caller's context ended while they were
// being written, or the store's commit failed in a way that may have
// reached the disk and the log, read again, does not show them.
// Executing the command again with WithCommandID(CommandID) is safe: if
// they were written, it appends nothing and returns them as a Duplicate.
// errors.Is matches it with eventstore.ErrOutcomeUnknown, and with the
// context's error when that was the cause.
type OutcomeUnknownError struct {
	Op        string // the command
	CommandID string
	Err       error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("%s: command %s: %v; repeat it with the same command id to learn the outcome", e.Op, e.CommandID, e.Err)
}

// Unwrap returns the store's error.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Execute authorizes and decides cmd for actor, appends the resulting
// events and applies them, then delivers what they started or ended (see
// Deliverer). A refused command appends nothing and returns an *Error
// matching one of the package's sentinel errors; a refusal is confirmed on
// the log as it is (Execute catches up with other writers first).
//
// Execute reports success whenever the events were written, even if ctx
// ended meanwhile. If ctx ends while they are being written it returns an
// *OutcomeUnknownError at once; a ctx that ends before the append was
// taken to be written makes Execute return ctx.Err() with nothing written.
// If the store's commit fails in a way that may have reached the disk,
// Execute reads the log again: success if it shows the events, an
// *OutcomeUnknownError if not.
func (m *Manager) Execute(ctx context.Context, actor Actor, cmd Command, opts ...ExecOption) (Result, error) {
	var xo execOptions
	for _, o := range opts {
		o(&xo)
	}
	if cmd == nil {
		return Result{}, invalid("Execute", "", "no command")
	}
	res, decided, err := m.run(ctx, actor, cmd, time.Time{}, xo)
	if err != nil {
		return res, err
	}
	res.Delivery, res.DeliveryError = m.deliverAfter(ctx, res, decided)
	return res, nil
}

// run executes cmd (at the clock's time, or at if not zero) up to the
// point where its events are durable, deciding again when its append is
// refused because the log moved. It returns the domain events it decided,
// or nil for a duplicate.
func (m *Manager) run(ctx context.Context, actor Actor, cmd Command, at time.Time, xo execOptions) (Result, []Event, error) {
	m.mu.Lock()
	if xo.commandID == "" {
		xo.commandID = m.opts.NewCommandID()
	}
	m.mu.Unlock()
	confirmed := false
	for attempt := 0; ; {
		if err := ctx.Err(); err != nil {
			return Result{}, nil, err
		}
		m.mu.Lock()
		b, wait, res, err := m.decideAndQueue(ctx, actor, cmd, at, xo)
		if err != nil && !confirmed && isRefusal(err) {
			// A refusal must hold on the log as it is, not only as this
			// manager last saw it: let the commands in flight settle, and
			// if another writer appended meanwhile, decide again.
			confirmed = true
			moved, merr := m.logMoved(ctx)
			m.mu.Unlock()
			if merr != nil {
				return Result{}, nil, merr
			}
			if moved {
				continue
			}
			m.opts.Logger.DebugContext(ctx, "command refused", "command", cmd.commandName(), "actor", actor.ID, "error", err)
			return Result{}, nil, err
		}
		m.mu.Unlock()
		switch {
		case err != nil || (b == nil && wait == nil):
			return res, nil, err
		case wait != nil:
			// The same command id is in flight: its outcome is ours. (It
			// may be the append of an earlier Execute of this command
			// whose caller stopped waiting: settle resolves it.)
			m.mu.Lock()
			m.settle(true)
			m.mu.Unlock()
			<-wait.settled
			if wait.outErr == nil && !wait.again {
				r := wait.out
				r.Duplicate = true
				return r, nil, nil
			}
			continue
		}
		res, err, again := m.await(ctx, b)
		if again && b.doomed {
			// A command decided before this one failed: that is progress,
			// not contention, and does not count as an attempt.
			continue
		}
		if again && attempt < m.opts.MaxRetries {
			attempt++
			continue
		}
		if again {
			err = &Error{Op: b.name, Kind: ErrConflict, Reason: fmt.Sprintf("other writers kept appending to the log; gave up after %d attempts", attempt+1), Err: b.err}
		}
		if err == nil {
			m.opts.Logger.DebugContext(ctx, "command executed", "command", b.name, "actor", actor.ID,
				"events", len(res.Events), "duplicate", res.Duplicate)
		}
		decided := b.decided
		if res.Duplicate {
			// Another execution's events: deliver what they did, not
			// what this one decided.
			decided = nil
		}
		return res, decided, err
	}
}

func isRefusal(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// logMoved waits for the batches in flight to settle and reports whether
// the log holds events this manager has not applied, catching up if so.
// The caller holds m.mu.
func (m *Manager) logMoved(ctx context.Context) (bool, error) {
	m.drain()
	if len(m.inflight) > 0 {
		// Others queued meanwhile; their appends will tell of any other
		// writer.
		return false, nil
	}
	h, err := m.store.Head(ctx)
	if err != nil {
		return false, fmt.Errorf("entitlement: read the log's head: %w", err)
	}
	if h.Position == m.head {
		return false, nil
	}
	return true, m.catchUp(ctx)
}

// drain waits until the batches in flight now have settled. The caller
// holds m.mu; drain lets go of it while it waits.
func (m *Manager) drain() {
	if len(m.inflight) == 0 {
		return
	}
	last := m.inflight[len(m.inflight)-1]
	for {
		m.settle(true)
		select {
		case <-last.settled:
			return
		default:
		}
		first := m.inflight[0].settled
		m.mu.Unlock()
		<-first
		m.mu.Lock()
	}
}

// decode decodes a stored event, upcast to the current schema.
func (m *Manager) decode(e eventstore.Event) (Event, error) {
	ue, err := m.opts.Upcasters.Upcast(e)
	if err != nil {
		return Event{}, err
	}
	return DecodeEvent(ue)
}

// duplicate is the result of a command the log already holds: its events,
// and the id of the object its first own event is about. The work that
// fell due, which the command recorded first, is the system's: for
// another actor's command, its first own event is the first that is not
// the system's. (A system command's events are all the system's: its
// first event counts.)
func (m *Manager) duplicate(evs []eventstore.Event, cmdID string) Result {
	r := Result{Events: evs, Duplicate: true, CommandID: cmdID}
	first := evs[0]
	if i := slices.IndexFunc(evs, func(e eventstore.Event) bool { return e.Metadata.ActorKind != string(ActorSystem) }); i >= 0 {
		first = evs[i]
	}
	if de, err := m.decode(first); err == nil {
		r.ID = primaryID(de)
	}
	return r
}

// decideAndQueue decides cmd on the speculative state and queues its
// events. It returns the queued batch; or a batch of the same command id
// already in flight to wait for; or, with neither, the result of a
// command that appends nothing (a repeat, or a decision without events)
// or the refusal. The caller holds m.mu.
func (m *Manager) decideAndQueue(ctx context.Context, actor Actor, cmd Command, at time.Time, xo execOptions) (*batch, *batch, Result, error) {
	if m.stale {
		if err := m.catchUp(ctx); err != nil {
			return nil, nil, Result{}, err
		}
	}
	now := at
	if now.IsZero() {
		now = m.opts.Clock.Now()
	}
	now = now.UTC()
	if err := checkEnvelope(cmd.commandName(), actor, xo, now); err != nil {
		return nil, nil, Result{}, err
	}
	if err := checkText(cmd.commandName(), cmd); err != nil {
		return nil, nil, Result{}, err
	}
	digest := commandDigest(cmd, actor, at)
	for _, b := range m.inflight {
		if b.cmdID == xo.commandID {
			if b.digest != digest {
				return nil, nil, Result{}, reused(cmd.commandName(), xo.commandID, 0)
			}
			return nil, b, Result{}, nil
		}
	}
	if prev, ok, err := m.previous(ctx, xo.commandID); ok || err != nil {
		if err == nil {
			// The earlier digest did not hold ProcessDue's until; its
			// events carry it as their time.
			legacy := func(d string) bool {
				return d == legacyDigest(cmd, actor) && (at.IsZero() || prev[0].OccurredAt.Equal(at))
			}
			if d := prev[0].Metadata.CommandDigest; d != "" && d != digest && !legacy(d) {
				return nil, nil, Result{}, reused(cmd.commandName(), xo.commandID, prev[0].Position)
			}
		}
		if err != nil {
			return nil, nil, Result{Events: prev, Duplicate: true, CommandID: xo.commandID}, err
		}
		return nil, nil, m.duplicate(prev, xo.commandID), nil
	}
	d, err := decide(m.spec, actor, now, m.opts.IDs, cmd)
	if err != nil {
		return nil, nil, Result{}, err
	}
	if len(d.events) == 0 {
		return nil, nil, Result{ID: d.id, CommandID: xo.commandID}, nil
	}
	// A guest who signs in by email (ExternalActor) acted as the guest:
	// the log names the user whose rights were used.
	who := m.spec.asGuest(actor)
	md := eventstore.Metadata{
		ActorID: who.ID, ActorKind: string(who.Kind), OnBehalfOf: actor.OnBehalfOf,
		CorrelationID: xo.correlationID, CausationID: xo.causationID, CommandID: xo.commandID,
		CommandDigest: digest,
	}
	sys := md
	sys.ActorID, sys.ActorKind, sys.OnBehalfOf = SystemActor().ID, string(ActorSystem), ""
	nes := make([]eventstore.NewEvent, len(d.events))
	for i, e := range d.events {
		emd := md
		if e.BySystem {
			emd = sys
		}
		if nes[i], err = e.encode(now, emd); err != nil {
			return nil, nil, Result{}, err
		}
		nes[i].ID = m.opts.EventIDs()
	}
	next := d.state
	if next == nil {
		next = m.spec.Clone()
		for _, e := range d.events {
			if err := next.Apply(e); err != nil {
				return nil, nil, Result{}, err
			}
		}
	}
	b := &batch{
		cmdID: xo.commandID, digest: digest, name: cmd.commandName(), id: d.id, decided: d.events, n: len(nes),
		first: m.specHead + 1, lastID: nes[len(nes)-1].ID, state: next.snapshot(), settled: make(chan struct{}),
	}
	cond := eventstore.AtHeadEvent(m.specHead, m.specID)
	m.spec, m.specHead, m.specID = next, m.specHead+eventstore.Position(len(nes)), b.lastID
	// The append is queued with a context that does not end: whether it is
	// written is decided by the store's queue, and a caller who stops
	// waiting learns so from the Ticket.
	wctx := context.WithoutCancel(ctx)
	if m.queue != nil {
		b.ticket = m.queue.Enqueue(wctx, cond, nes...)
	} else {
		// A store that cannot queue is written to under the lock, one
		// command at a time.
		res, err := m.store.Append(wctx, cond, nes...)
		b.ticket = func(context.Context) (eventstore.AppendResult, error) { return res, err }
	}
	m.inflight = append(m.inflight, b)
	return b, nil, Result{}, nil
}

// await waits for b's append and settles it. again asks the caller to
// decide the command again.
func (m *Manager) await(ctx context.Context, b *batch) (res Result, err error, again bool) {
	ar, aerr := b.ticket(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if cerr := ctx.Err(); cerr != nil && errors.Is(aerr, eventstore.ErrOutcomeUnknown) && errors.Is(aerr, cerr) {
		// The caller stopped waiting while the events were being written
		// (the Ticket's error matches its context's): a later settle
		// waits for the store's answer.
		b.unknown = true
		m.settle(false)
		return Result{CommandID: b.cmdID}, &OutcomeUnknownError{Op: b.name, CommandID: b.cmdID, Err: aerr}, false
	}
	b.res, b.err, b.waited = ar, aerr, true
	m.settle(true)
	for {
		select {
		case <-b.settled:
			return b.out, b.outErr, b.again
		default:
		}
		// A batch before b has not settled: its caller is about to.
		first := m.inflight[0].settled
		m.mu.Unlock()
		<-first
		m.mu.Lock()
		m.settle(true)
	}
}

// settle settles the batches in flight in queue order, as far as their
// outcomes are known. With resolve, a batch whose caller stopped waiting
// is waited for here: settle is then called because a later batch's
// outcome came, and the store answers in queue order. The caller holds
// m.mu.
func (m *Manager) settle(resolve bool) {
	for len(m.inflight) > 0 {
		b := m.inflight[0]
		if !b.waited {
			if !b.unknown || !resolve {
				return
			}
			b.res, b.err = b.ticket(context.Background())
			b.waited = true
		}
		m.inflight[0] = nil
		m.inflight = m.inflight[1:]
		m.settleOne(b)
		close(b.settled)
	}
}

// settleOne moves the committed state past b if b was written where it
// was decided, and otherwise starts the speculative state afresh from the
// committed one; every batch still in flight was decided after b and
// fails too.
func (m *Manager) settleOne(b *batch) {
	written := b.err == nil && !b.res.Duplicate
	if written && !b.doomed && len(b.res.Events) == b.n && b.res.Events[0].Position == b.first {
		m.committed, m.head, m.headID = b.state, b.res.Events[b.n-1].Position, b.lastID
		m.headHash = b.res.Events[b.n-1].Hash
		for _, e := range b.res.Events {
			m.remember(b.cmdID, e.Position)
		}
		m.published.Store(m.committed)
		b.out = Result{Events: b.res.Events, ID: b.id, CommandID: b.cmdID}
		return
	}
	if !b.doomed {
		for _, x := range m.inflight {
			x.doomed = true
		}
		m.spec = m.committed.Clone()
		m.specHead, m.specID = m.head, m.headID
	}
	var ce *eventstore.ConflictError
	var cr *eventstore.CommandReusedError
	switch {
	case written:
		// Written, but not on the prefix it was decided on, which the
		// chained conditions rule out. The log is the truth: catch up.
		b.out = Result{Events: b.res.Events, ID: b.id, CommandID: b.cmdID}
		m.stale = true
	case b.err == nil: // a duplicate: another writer executed the command
		b.out = m.duplicate(b.res.Events, b.cmdID)
		m.stale = true
	case errors.As(b.err, &ce):
		// The log moved under b: another writer appended, or the batch b
		// was decided after failed.
		b.again = true
		if !b.doomed {
			m.stale = true
		}
	case errors.As(b.err, &cr):
		// Another writer used the id for another command: refused as if
		// this Manager had known it.
		b.outErr = reused(b.name, b.cmdID, cr.Position)
		if !b.doomed {
			m.stale = true
		}
	case errors.Is(b.err, eventstore.ErrOutcomeUnknown):
		// The commit failed in a way that may have reached the disk.
		b.outErr = &OutcomeUnknownError{Op: b.name, CommandID: b.cmdID, Err: b.err}
		if !b.doomed {
			m.stale = true
		}
	default:
		b.outErr = fmt.Errorf("entitlement: %s: append: %w", b.name, b.err)
	}
	if m.stale && !b.doomed {
		// Catch up now, so that the next decision sees the other
		// writer's events. Every batch still in flight was chained on b
		// and will not be written, so the log after the committed head
		// holds only other writers' events (and b's, if its failed
		// commit was written after all).
		_ = m.catchUp(context.Background())
	}
	if _, ok := b.outErr.(*OutcomeUnknownError); ok {
		// The log as read now may answer the question: events it shows
		// are committed. Events it does not show may still come back
		// (SQLite recovers a WAL whose commit reported a failed fsync),
		// so their absence leaves the outcome unknown.
		// (A batch doomed by an earlier one in doubt and written was
		// applied by the catch-up that batch's settling made.)
		if evs, found, err := m.previous(context.Background(), b.cmdID); err == nil && found {
			switch {
			case len(evs) == b.n && evs[b.n-1].ID == b.lastID: // b's own events
				b.out, b.outErr = Result{Events: evs, ID: b.id, CommandID: b.cmdID}, nil
			case evs[0].Metadata.CommandDigest != "" && evs[0].Metadata.CommandDigest != b.digest:
				// Another command under the id, which the store would
				// have refused had its commit not failed.
				b.outErr = reused(b.name, b.cmdID, evs[0].Position)
			default: // another writer executed the command
				b.out, b.outErr = m.duplicate(evs, b.cmdID), nil
			}
		}
	}
}

// Read calls f with the current state. f may keep it: it is a read-only
// snapshot (see State).
func (m *Manager) Read(f func(s *State)) {
	f(m.published.Load())
}

// State returns the current state as a read-only snapshot, in O(1) and
// without waiting for commands: it holds every event known to be in the
// log up to Head and never changes, so any number of goroutines may read
// it while commands go on. Its reads take an Actor and authorize like
// commands. Clone it to apply events of your own.
func (m *Manager) State() *State {
	return m.published.Load()
}

// Head returns the position of the last event the manager has applied to
// the State it publishes.
func (m *Manager) Head() eventstore.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head
}

// CatchUp applies events other writers appended to the log since the last
// call. It first waits for the commands in flight to settle.
func (m *Manager) CatchUp(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	if len(m.inflight) > 0 {
		return nil // others keep queueing; their appends catch up if needed
	}
	return m.catchUp(ctx)
}
