package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/sqlitex"
	"github.com/oklog/ulid/v2"
)

// pending is one append waiting in the group-commit queue.
type pending struct {
	ctx    context.Context
	cond   eventstore.Condition
	events []eventstore.NewEvent // prepared
	cmd    string

	res eventstore.AppendResult
	err error
	// done receives true when this append is to lead the next commit, and
	// false when its result is ready.
	done chan bool
	// answered is set when the result was sent early (by begin, for an
	// append whose context ended while the leader waited for the lock).
	answered bool
	// waiting is the context the Ticket is waited with, set when this
	// append leads: a caller who queued with a context that does not end
	// (as the entitlement Manager does) still stops waiting for another
	// process's lock when the wait's context ends.
	waiting context.Context
	// final is set once the Ticket has returned the outcome, which it
	// then returns again.
	final atomic.Bool
	// abandoned is set, under Store.mu, when the caller stopped waiting
	// while a leader held the append (and was told the outcome is
	// unknown): should that leader give up, it is not queued again, for
	// the lead handed to it would never be taken up.
	abandoned bool
	// abandonErr is the error of the wait that abandoned the append: its
	// outcome, should it be dropped unwritten.
	abandonErr error
	// written is set by tryWrite when the append's answer rests on the
	// transaction: it wrote rows, or repeats an append that did. Should
	// the COMMIT fail, its outcome is unknown; the others keep theirs.
	written bool
}

// gaveUp returns the error of the context that ended, the append's or
// its wait's, or nil.
func (p *pending) gaveUp() error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	if p.waiting != nil {
		return p.waiting.Err()
	}
	return nil
}

// Append implements eventstore.Store. It is Enqueue followed by waiting
// on the Ticket with ctx.
//
// Appends made at the same time by several goroutines are written in one
// transaction (group commit): each waits while a commit is under way, and
// the first to find none writes everything queued. Each append is checked
// against its own Condition, in arrival order and taking the appends before
// it in the same transaction into account, and fails or succeeds on its
// own; if the COMMIT itself fails, every append the transaction wrote (or
// that repeats one it wrote) gets an error that matches
// eventstore.ErrOutcomeUnknown, since SQLite may have written it all the
// same (see ErrOutcomeUnknown), while a conflict, or the repeat of a
// command already in the log, keeps its answer. A ctx that ends
// while the append is queued makes it fail with ctx.Err() and write
// nothing; one that ends once it is being written makes Append return at
// once with an error matching both eventstore.ErrOutcomeUnknown and
// ctx.Err().
func (s *Store) Append(ctx context.Context, cond eventstore.Condition, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	return s.Enqueue(ctx, cond, events...)(ctx)
}

// Enqueue implements eventstore.Enqueuer: it queues the append for the
// next commit and returns at once. If no commit is under way, the Ticket's
// wait writes the queue (it leads the commit); otherwise the leader of the
// commit under way passes the lead on to the first append queued.
func (s *Store) Enqueue(ctx context.Context, cond eventstore.Condition, events ...eventstore.NewEvent) eventstore.Ticket {
	if err := ctx.Err(); err != nil {
		return done(err)
	}
	if s.readOnly {
		return done(ErrReadOnly)
	}
	if err := cond.Validate(); err != nil {
		return done(err)
	}
	now := s.opts.Now().UTC()
	prepared, cmd, err := eventstore.Prepare(events, now, s.opts.NewID)
	if err != nil || len(prepared) == 0 {
		return done(err)
	}
	p := &pending{ctx: ctx, cond: cond, events: prepared, cmd: cmd, done: make(chan bool, 1)}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return done(eventstore.ErrClosed)
	}
	s.queue = append(s.queue, p)
	if s.filled != nil && len(s.queue) >= s.fillAt {
		close(s.filled) // the leader waiting in gather has its batch
		s.filled = nil
	}
	if !s.leading {
		s.leading = true
		p.done <- true
	}
	return func(ctx context.Context) (eventstore.AppendResult, error) {
		if p.final.Load() {
			return p.res, p.err
		}
		res, err, final := s.wait(ctx, p)
		if final {
			p.final.Store(true)
		}
		return res, err
	}
}

// done returns a Ticket that reports err.
func done(err error) eventstore.Ticket {
	return func(context.Context) (eventstore.AppendResult, error) { return eventstore.AppendResult{}, err }
}

// wait waits for p's result, leading a commit if the lead comes to p. It
// reports whether the result is final: not when the caller stopped
// waiting while the append was being written.
func (s *Store) wait(ctx context.Context, p *pending) (res eventstore.AppendResult, err error, final bool) {
	select {
	case lead := <-p.done:
		if lead {
			p.waiting = ctx
			if !s.lead(p) {
				// The leader's context ended while it waited for another
				// process's write lock: it wrote nothing, and the rest of
				// its batch is queued again under a new leader.
				p.res = eventstore.AppendResult{}
				return p.res, p.err, true
			}
			<-p.done
		}
		return p.res, p.err, true
	case <-ctx.Done():
		return s.abandon(p, ctx.Err())
	}
}

// abandon stops waiting for p, whose caller's context ended with err. An
// append still queued is taken out (and the lead passed on if it had it):
// nothing was written. One that a leader has taken may or may not be.
func (s *Store) abandon(p *pending, err error) (eventstore.AppendResult, error, bool) {
	s.mu.Lock()
	if i := slices.Index(s.queue, p); i >= 0 {
		s.queue = slices.Delete(s.queue, i, i+1)
		select {
		case <-p.done: // the lead: only an append still queued receives it
			s.handOn()
		default:
		}
		s.mu.Unlock()
		p.res, p.err = eventstore.AppendResult{}, err
		return p.res, p.err, true
	}
	p.abandoned, p.abandonErr = true, err
	s.mu.Unlock()
	select {
	case <-p.done: // the result came meanwhile
		return p.res, p.err, true
	default:
	}
	return eventstore.AppendResult{}, fmt.Errorf("%w: %w", eventstore.ErrOutcomeUnknown, err), false
}

// handOn passes the lead to the first append queued, or records that
// nobody leads. The caller holds s.mu and has the lead.
func (s *Store) handOn() {
	if len(s.queue) > 0 {
		s.queue[0].done <- true // never blocks: done is buffered and unused so far
	} else {
		s.leading = false
	}
}

// lead writes everything queued in one transaction, passes the lead to the
// first append that queued meanwhile, if any, then hands every append of
// the transaction its result.
//
// It reports false if own, the leader's append, gave up while waiting for
// another process's write lock (its context, or the one its Ticket is
// waited with, ended): then nothing was written, the batch's other
// appends are queued again, and the lead goes to the first of them.
func (s *Store) lead(own *pending) bool {
	s.wmu.Lock()
	s.gather()
	s.mu.Lock()
	batch := s.queue
	s.queue, s.spare = s.spare[:0], nil
	closed := s.closed.Load()
	s.mu.Unlock()
	if s.testHookWriting != nil {
		s.testHookWriting()
	}
	start := time.Now()
	var requeue []*pending
	if closed {
		for _, p := range batch {
			p.err = eventstore.ErrClosed
		}
	} else {
		requeue = s.write(batch, own)
	}
	took := time.Since(start)
	s.wmu.Unlock()
	if requeue != nil {
		s.mu.Lock()
		// An append whose caller has stopped waiting is dropped: it was
		// told its outcome is unknown, and nothing of it was written.
		requeue = slices.DeleteFunc(requeue, func(p *pending) bool {
			if p.abandoned {
				p.res, p.err = eventstore.AppendResult{}, p.abandonErr
			}
			return p.abandoned
		})
		s.queue = append(slices.Clip(requeue), s.queue...)
		s.handOn()
		s.mu.Unlock()
		for _, p := range batch {
			if p != own && !p.answered && !slices.Contains(requeue, p) {
				p.done <- false
			}
		}
		return false
	}

	// Pass the lead on before handing out the results, so that the next
	// commit starts while this batch's appenders are being woken.
	s.mu.Lock()
	s.company = len(batch) + len(s.queue)
	s.lastCommit = took
	s.handOn()
	s.mu.Unlock()
	for _, p := range batch {
		if !p.answered {
			p.done <- false
		}
	}
	clear(batch)
	s.mu.Lock()
	s.spare = batch[:0]
	s.mu.Unlock()
	return true
}

// maxGather bounds the wait in gather, whatever the commits cost.
const maxGather = time.Millisecond

// gather waits, when appends came in company lately, for the appenders of
// the last commit to queue again before the leader takes the queue.
//
// The appenders of a commit are woken as it ends and queue again some tens
// of microseconds later, once the processors get to them, which is after
// the next leader has already taken the queue. Left alone, 16 appenders
// settle into two groups of about 8 that take turns, and each commit pays
// its fixed cost (the fsync, mostly) for half of them; yielding the
// processor once (runtime.Gosched) got 11. So the leader waits until the
// queue holds as many appends as the last commit saw (those it wrote and
// those that queued meanwhile), or for a quarter of the last commit's
// duration, whichever comes first: 15-16 appends per commit. A lone
// appender never waits; when appenders stop coming, the leader waits once
// and the count falls with the commit that follows.
func (s *Store) gather() {
	s.mu.Lock()
	want, limit := s.company, min(s.lastCommit/4, s.maxGather)
	if want <= 1 || len(s.queue) >= want || limit <= 0 {
		s.mu.Unlock()
		return
	}
	filled := make(chan struct{})
	s.filled, s.fillAt = filled, want
	s.mu.Unlock()

	if s.timer == nil {
		s.timer = time.NewTimer(limit)
	} else {
		s.timer.Reset(limit)
	}
	select {
	case <-filled:
	case <-s.timer.C:
	}
	s.timer.Stop()
	s.mu.Lock()
	s.filled = nil
	s.mu.Unlock()
}

// write writes batch in one transaction and sets every append's result. An
// append whose statements fail is taken out with its error and the rest is
// written again without it.
//
// If own, the leader's append, gives up while write waits for another
// process's write lock, write stops and returns the appends still to be
// written (own not among them), having written nothing; otherwise nil.
func (s *Store) write(batch []*pending, own *pending) []*pending {
	live := make([]*pending, 0, len(batch))
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			continue
		}
		live = append(live, p)
	}
	m := optimistic
	for len(live) > 0 {
		var err error
		if live, err = s.begin(live, own); err != nil {
			if errors.Is(err, errLeaderGone) {
				return slices.DeleteFunc(live, func(p *pending) bool { return p == own })
			}
			err = fmt.Errorf("sqlitestore: append: begin: %w", err)
			for _, p := range live {
				p.res, p.err = eventstore.AppendResult{}, err
			}
			return nil
		}
		if len(live) == 0 {
			return nil
		}
		culprit, err := s.tryWrite(live, m)
		if err == nil {
			return nil
		}
		if culprit == retry && m < perAppend {
			m++
			continue
		}
		err = fmt.Errorf("sqlitestore: append: %w", err)
		if culprit == inDoubt {
			// Conflicts, and duplicates of commands already in the log,
			// wrote nothing and keep their answers.
			for _, p := range live {
				if p.written {
					p.res, p.err = eventstore.AppendResult{}, err
				}
			}
			return nil
		}
		if culprit < 0 { // wholeBatch, or retry that cannot happen per append
			for _, p := range live {
				p.res, p.err = eventstore.AppendResult{}, err
			}
			return nil
		}
		live[culprit].res, live[culprit].err = eventstore.AppendResult{}, err
		live = slices.Delete(live, culprit, culprit+1)
	}
	return nil
}

// errLeaderGone is begin's answer when the leader's own append gave up
// waiting for the write lock.
var errLeaderGone = errors.New("the leader's context ended")

// begin starts the write transaction (BEGIN IMMEDIATE) for live. Another
// connection, another process's above all, may hold the write lock. The
// store's write connection does not wait for it inside SQLite, where no
// context reaches; it waits here, in short randomized steps (so that
// several processes take turns rather than the latest-come waiting
// longest), up to Options.BusyTimeout. An append whose context ends
// meanwhile fails with its context's error, having written nothing, and
// is dropped from the returned live; if it is own (whose wait's context
// counts too), begin returns errLeaderGone.
func (s *Store) begin(live []*pending, own *pending) ([]*pending, error) {
	w := s.w
	deadline := time.Now().Add(s.opts.BusyTimeout)
	step := 250 * time.Microsecond
	for {
		err := w.exec(w.begin)
		if err == nil {
			return live, nil
		}
		w.cache.drop()
		if !sqlitex.IsBusy(err) || time.Now().After(deadline) {
			return live, err
		}
		live = slices.DeleteFunc(live, func(p *pending) bool {
			if err := p.ctx.Err(); err != nil && p != own {
				p.res, p.err, p.answered = eventstore.AppendResult{}, err, true
				p.done <- false
				return true
			}
			return false
		})
		if own != nil {
			if err := own.gaveUp(); err != nil {
				own.err = err
				return live, errLeaderGone
			}
		}
		if len(live) == 0 {
			return live, nil
		}
		time.Sleep(step/2 + rand.N(step))
		step = min(2*step, 8*time.Millisecond)
	}
}

// writeMode is how tryWrite goes about a batch. write starts optimistic
// and moves to the next mode when the batched INSERTs fail.
type writeMode int

const (
	// optimistic does not look the command ids up while the writer's
	// cache is valid (nor, when every stream is cached, read anything:
	// see load): a command id already in the log makes the INSERT into
	// commands fail on its primary key, and the batch is written again
	// carefully. Repeated commands are rare (a client retrying after a
	// crash or a timeout), and the look-up cost every commit about 2 µs
	// per append plus a join.
	optimistic writeMode = iota
	// careful looks every command id up first, and answers a repeated
	// command with the events its first append wrote.
	careful
	// perAppend is careful and writes each append's rows right after
	// deciding it, to find the append whose rows fail.
	perAppend
)

// errStaleCache sends a batch decided from a stale cache back to be written
// carefully; it reaches no caller.
var errStaleCache = errors.New("another connection has written to the log")

// Results of tryWrite for errors not caused by one append.
const (
	wholeBatch = -1 // every append fails with the error
	retry      = -2 // the batched inserts failed: write again in the next mode
	inDoubt    = -3 // the COMMIT failed: the written appends' outcome is unknown
)

// tryWrite writes the appends of live in one transaction. It reads what it
// needs (head, known command ids, stream versions) with one statement, or
// takes it from the writer's cache (see logCache), decides every append in
// memory, in order, and writes all events and command rows with multi-row
// INSERTs; in mode perAppend it writes each append's rows right after
// deciding it instead. If a write fails it rolls back and returns retry
// (batched) or the index of the append whose rows failed (perAppend) with
// the error; if the COMMIT fails, inDoubt; if anything else fails, it
// returns wholeBatch and the error. Conflicts and duplicates are results,
// not errors.
func (s *Store) tryWrite(live []*pending, m writeMode) (culprit int, err error) {
	w := s.w
	w.reset()
	defer func() {
		if err != nil {
			// Whatever this transaction did is undone, or (failed COMMIT)
			// in doubt: read the state from the database next time.
			w.cache.drop()
			if rerr := w.abort(); rerr != nil {
				err = fmt.Errorf("%w; %w", err, rerr)
			}
		}
		w.reset()
	}()
	head, prev, err := w.load(live, m >= careful)
	if err != nil {
		return wholeBatch, err
	}
	if n := eventsIn(live); n >= largeCommit {
		// A large commit (a ProcessDue that expires thousands of
		// assignments) keeps its pages in a cache large enough for them
		// instead of spilling them into the WAL before it commits. The
		// cache is made small again after it: SQLite walks the whole
		// cache at the end of every transaction, which a large cache
		// would make every ordinary commit pay for.
		if err := w.exec(w.bigCache); err != nil {
			return wholeBatch, fmt.Errorf("cache_size: %w", err)
		}
		// If this fails, the cache stays large: slower, not wrong.
		defer w.exec(w.smallCache)

	}
	// RecordedAt is when the events are written: stamped now that the
	// write lock is held, and never before the event it follows, so that
	// it does not decrease along positions (across processes and clock
	// corrections too).
	recorded := s.opts.Now().UTC()
	var last int64 // the head's recordedAt: from the cache when it holds the head, else read
	switch {
	case head == 0:
	case w.cache.valid && w.cache.head == head:
		last = w.cache.recorded
	default:
		if err := w.lastRecorded.QueryRowContext(bg).Scan(&last); err != nil {
			return wholeBatch, fmt.Errorf("read the head's recordedAt: %w", err)
		}
	}
	if recorded.UnixNano() < last {
		recorded = time.Unix(0, last).UTC()
	}
	headID := w.headID
	var appends, events uint64
	for i, p := range live {
		p.res, p.err, p.written = eventstore.AppendResult{}, nil, false
		if q, ok := w.batch[p.cmd]; ok {
			// The same id earlier in this commit: as if it were in the log.
			p.written = true
			if err := eventstore.CheckRepeat(p.events, q.res.Events); err != nil {
				p.err = err
				continue
			}
			p.res = eventstore.AppendResult{Events: cloneEvents(q.res.Events), Duplicate: true}
			continue
		}
		conflict := w.check(p.cond, head, headID)
		if conflict != nil && m == optimistic {
			// A repeated command is answered with its first events even
			// if its condition no longer holds, so its id is looked up
			// now (the rest of the batch still relies on the primary
			// key), and the conflict may come from a cache that another
			// connection made stale, which load did not check: the same
			// statement reads data_version. (With no valid cache, load
			// read the log itself in this transaction.)
			if _, _, err := w.loadState([]string{p.cmd}, nil, false); err != nil {
				return wholeBatch, err
			}
			if w.cache.valid && w.dataVersion != w.cache.dataVersion {
				return retry, errStaleCache
			}
		}
		if r, ok := w.known[p.cmd]; ok {
			evs, err := w.rangeEvents(r[0], r[1])
			if err != nil {
				return wholeBatch, fmt.Errorf("read events of command %q: %w", p.cmd, err)
			}
			if err := commandHolds(p.cmd, eventstore.Position(r[0]), eventstore.Position(r[1]), evs); err != nil {
				p.err = err // a damaged log: never answer "duplicate" with events it lost
				continue
			}
			if err := eventstore.CheckRepeat(p.events, evs); err != nil {
				p.err = err
				continue
			}
			p.res = eventstore.AppendResult{Events: evs, Duplicate: true}
			continue
		}
		if p.err = conflict; p.err != nil {
			continue
		}
		out := make([]eventstore.Event, len(p.events))
		for j, ne := range p.events {
			v := w.version(ne.Stream) + 1
			w.versions[ne.Stream] = v
			e := &out[j]
			*e = eventstore.Event{
				ID: ne.ID, Stream: ne.Stream, Version: v, Position: head + eventstore.Position(j) + 1,
				Type: ne.Type, SchemaVersion: ne.SchemaVersion,
				OccurredAt: ne.OccurredAt, RecordedAt: recorded,
				Metadata: ne.Metadata, Payload: ne.Payload,
			}
			eventstore.Seal(prev, e)
			prev = e.Hash
			w.events = append(w.events, e)
		}
		last := out[len(out)-1].Position
		w.commands = append(w.commands, commandRow{p.cmd, int64(head + 1), int64(last)})
		if m == perAppend {
			if err := w.flush(); err != nil {
				return i, err
			}
		}
		head, headID = last, out[len(out)-1].ID
		w.batch[p.cmd] = p
		p.res, p.written = eventstore.AppendResult{Events: out}, true
		appends++
		events += uint64(len(out))
	}
	if err := w.flush(); err != nil {
		return retry, err
	}
	if s.testHookCommit != nil {
		err = s.testHookCommit(func() error { return w.exec(w.commit) })
	} else {
		err = w.exec(w.commit)
	}
	if err != nil {
		// A COMMIT that fails may have reached the disk all the same (a
		// failed fsync after the WAL frames were written: they count
		// again once the WAL is recovered), so the appends it wrote are in
		// doubt, not failed. Repeating one with its command id is safe.
		return inDoubt, fmt.Errorf("commit: %w: %w", eventstore.ErrOutcomeUnknown, err)
	}
	if events > 0 {
		last = recorded.UnixNano()
	}
	w.remember(head, prev, headID, last)
	if appends > 0 {
		s.commits.Add(1)
		s.appends.Add(appends)
		s.events.Add(events)
	}
	return 0, nil
}

// largeCommit is how many events make a commit large (see tryWrite).
const largeCommit = 4096

// eventsIn returns how many events the appends hold.
func eventsIn(live []*pending) int {
	n := 0
	for _, p := range live {
		n += len(p.events)
	}
	return n
}

// check returns the *eventstore.ConflictError of cond against the log as
// this transaction sees it, or nil if cond holds.
func (w *writer) check(cond eventstore.Condition, head eventstore.Position, headID ulid.ULID) error {
	if err := cond.CheckHead(head, headID); err != nil {
		return err
	}
	if len(cond.Streams) == 0 {
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(cond.Streams)) {
		if want, got := cond.Streams[id], w.version(id); want != got {
			return &eventstore.ConflictError{Stream: id, Expected: want, Actual: got}
		}
	}
	return nil
}

// cloneEvents copies events and their payloads, so that two callers never
// share a payload.
func cloneEvents(events []eventstore.Event) []eventstore.Event {
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		e.Payload = append([]byte(nil), e.Payload...)
		out[i] = e
	}
	return out
}
