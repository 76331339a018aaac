package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/sqlitex"
)

var ctx = context.Background()

func ev(stream, cmd string, payload string) eventstore.NewEvent {
	return eventstore.NewEvent{
		Stream:   eventstore.StreamID(stream),
		Type:     "thingHappened",
		Metadata: eventstore.Metadata{CommandID: cmd, ActorID: "alice", ActorKind: "user"},
		Payload:  json.RawMessage(payload),
	}
}

func mustAppend(t testing.TB, s eventstore.Store, cond eventstore.Condition, events ...eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	r, err := s.Append(ctx, cond, events...)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return r
}

func collect(t testing.TB, seq func(func(eventstore.Event, error) bool)) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	for e, err := range seq {
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// rawDB opens a second, independent connection pool on the store's file.
func rawDB(t *testing.T, s *Store) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqlitex.DriverName, s.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAppendReadRoundTrip(t *testing.T) {
	s := openTemp(t, Options{PageSize: 3})
	var want []eventstore.Event
	for i := range 10 {
		r := mustAppend(t, s, eventstore.AnyCondition,
			ev("a", fmt.Sprint("cmd", i), fmt.Sprintf(`{"i": %d, "b": [1, 2.50]}`, i)),
			ev(fmt.Sprint("s", i%3), fmt.Sprint("cmd", i), `{}`))
		want = append(want, r.Events...)
	}
	got := collect(t, s.ReadAll(ctx, 0))
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) || !got[i].OccurredAt.Equal(want[i].OccurredAt) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if string(got[0].Payload) != `{"b":[1,2.5],"i":0}` {
		t.Errorf("payload not canonical: %s", got[0].Payload)
	}
	head, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0))
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Head(ctx); h != head || h.Position != 20 {
		t.Errorf("head %v, verified %v", h, head)
	}
	stream := collect(t, s.ReadStream(ctx, "a", 4))
	if len(stream) != 6 || stream[0].Version != 5 || stream[5].Version != 10 {
		t.Errorf("ReadStream(a, 4) = %d events from version %d", len(stream), stream[0].Version)
	}
	if n := len(collect(t, s.ReadAll(ctx, 17))); n != 3 {
		t.Errorf("ReadAll(17) read %d events, want 3", n)
	}
}

func TestTriggersRefuseUpdateDelete(t *testing.T) {
	s := openTemp(t, Options{})
	mustAppend(t, s, eventstore.AnyCondition, ev("a", "c1", `{}`))
	db := rawDB(t, s)
	for _, q := range []string{
		"UPDATE events SET payload = '{\"x\":1}' WHERE position = 1",
		"UPDATE events SET position = 7",
		"DELETE FROM events",
		"UPDATE commands SET last_position = 9",
		"DELETE FROM commands",
	} {
		_, err := db.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", q, err)
		}
	}
	if _, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0)); err != nil {
		t.Error(err)
	}
}

func TestMigrationsIdempotentOnReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	for i := range 3 {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		mustAppend(t, s, eventstore.AnyCondition, ev("a", fmt.Sprint("c", i), `{}`))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open(sqlitex.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, v, events int
	if err := db.QueryRow("SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	ms, _ := sqlitex.LoadMigrations(migrationFiles, "migrations")
	if n != len(ms) || v != len(ms) {
		t.Errorf("schema_migrations has %d rows up to version %d, want %d", n, v, len(ms))
	}
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&events); err != nil || events != 3 {
		t.Errorf("events = %d, %v; want 3", events, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	s := openTemp(t, Options{})
	db := rawDB(t, s)
	if _, err := db.Exec("INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(s.path, Options{})
	if !errors.Is(err, sqlitex.ErrSchemaTooNew) {
		t.Errorf("open = %v, want ErrSchemaTooNew", err)
	}
}

func TestTimesStoredAsIntegers(t *testing.T) {
	occurred := time.Date(2026, 3, 3, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	recorded := time.Date(2026, 3, 4, 0, 0, 0, 1, time.UTC)
	s := openTemp(t, Options{Now: func() time.Time { return recorded }})
	e := ev("a", "c1", `{}`)
	e.OccurredAt = occurred
	mustAppend(t, s, eventstore.AnyCondition, e)
	var occType, recType string
	var occ, rec int64
	err := rawDB(t, s).QueryRow(`SELECT typeof(occurred_at), occurred_at, typeof(recorded_at), recorded_at,
		typeof(prev_hash), typeof(hash), typeof(payload) FROM events`).Scan(&occType, &occ, &recType, &rec,
		new(string), new(string), new(string))
	if err != nil {
		t.Fatal(err)
	}
	if occType != "integer" || recType != "integer" || occ != occurred.UnixNano() || rec != recorded.UnixNano() {
		t.Errorf("stored %s %d, %s %d; want integers %d, %d", occType, occ, recType, rec, occurred.UnixNano(), recorded.UnixNano())
	}
	got := collect(t, s.ReadAll(ctx, 0))[0]
	if !got.OccurredAt.Equal(occurred) || got.OccurredAt.Location() != time.UTC || !got.RecordedAt.Equal(recorded) {
		t.Errorf("read back %v, %v", got.OccurredAt, got.RecordedAt)
	}
}

func TestSynchronousPragma(t *testing.T) {
	for _, tc := range []struct {
		sync Synchronous
		want string
	}{{SyncFull, "2"}, {SyncNormal, "1"}, {SyncOff, "0"}} {
		s := openTemp(t, Options{Synchronous: tc.sync})
		got, err := sqlitex.Pragma(ctx, s.w.conn, "synchronous")
		if err != nil || got != tc.want {
			t.Errorf("Synchronous %d: PRAGMA synchronous = %q, %v; want %s", tc.sync, got, err, tc.want)
		}
		if mode, err := sqlitex.Pragma(ctx, s.w.conn, "journal_mode"); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v", mode, err)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{Synchronous: 7}); err == nil {
		t.Error("Open accepted Synchronous 7")
	}
}

// queueWhileCommitting starts one Append per element of appends while the
// store's writer is held, in that order, so that they all land in one
// group commit; then it lets the commit run and returns the results.
func queueWhileCommitting(t *testing.T, s *Store, appends []func() (eventstore.AppendResult, error)) ([]eventstore.AppendResult, []error) {
	t.Helper()
	res := make([]eventstore.AppendResult, len(appends))
	errs := make([]error, len(appends))
	s.wmu.Lock()
	var wg sync.WaitGroup
	for i, f := range appends {
		wg.Go(func() { res[i], errs[i] = f() })
		for {
			s.mu.Lock()
			n := len(s.queue)
			s.mu.Unlock()
			if n == i+1 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	s.wmu.Unlock()
	wg.Wait()
	return res, errs
}

func TestGroupCommitBatches(t *testing.T) {
	s := openTemp(t, Options{})
	const n = 16
	appends := make([]func() (eventstore.AppendResult, error), n)
	for i := range appends {
		appends[i] = func() (eventstore.AppendResult, error) {
			return s.Append(ctx, eventstore.AnyCondition, ev(fmt.Sprint("s", i), fmt.Sprint("c", i), `{}`))
		}
	}
	_, errs := queueWhileCommitting(t, s, appends)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Commits != 1 || st.Appends != n || st.Events != n {
		t.Errorf("stats %+v, want 1 commit of %d appends", st, n)
	}
	if _, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0)); err != nil {
		t.Error(err)
	}

	// Free-running concurrent appenders share commits too.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				if _, err := s.Append(ctx, eventstore.AnyCondition, ev("x", fmt.Sprint("g", g, "-", i), `{}`)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	t.Logf("160 concurrent appends: %d commits", st.Commits-1)
	if st.Appends != n+160 || st.Commits-1 >= 160 {
		t.Errorf("stats %+v: want fewer commits than appends", st)
	}
	if _, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0)); err != nil {
		t.Error(err)
	}
}

func TestGroupCommitChecksEachAppendInOrder(t *testing.T) {
	s := openTemp(t, Options{})
	mustAppend(t, s, eventstore.AnyCondition, ev("old", "c0", `{"n":0}`))
	at := func(p eventstore.Position) eventstore.Condition { return eventstore.AtHead(p) }
	streams := func(kv ...any) eventstore.Condition {
		c := eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{}}
		for i := 0; i < len(kv); i += 2 {
			c.Streams[eventstore.StreamID(kv[i].(string))] = eventstore.Version(kv[i+1].(int))
		}
		return c
	}
	app := func(cond eventstore.Condition, events ...eventstore.NewEvent) func() (eventstore.AppendResult, error) {
		return func() (eventstore.AppendResult, error) { return s.Append(ctx, cond, events...) }
	}
	res, errs := queueWhileCommitting(t, s, []func() (eventstore.AppendResult, error){
		0: app(at(1), ev("a", "c1", `{}`), ev("b", "c1", `{}`)),   // ok: positions 2, 3
		1: app(at(1), ev("c", "c2", `{}`)),                        // conflict: head is 3 now
		2: app(streams("a", 0), ev("a", "c3", `{}`)),              // conflict: a is at 1
		3: app(streams("a", 1, "z", 0), ev("a", "c4", `{}`)),      // ok: position 4, a v2
		4: app(at(99), ev("q", "c1", `{}`)),                       // duplicate of c1 in this batch
		5: app(eventstore.AnyCondition, ev("old", "c0", `{}`)),    // duplicate of c0 from before
		6: app(at(4), ev("old", "c5", `{}`)),                      // ok: position 5, old v2
		7: app(streams("old", 1), ev("old", "c6", `{}`)),          // conflict: old at 2
		8: app(eventstore.AnyCondition, ev("a", "c7", `{"x":1}`)), // ok: position 6
	})
	wantErr := []string{1: "expected head at position 1, log is at 3", 2: `expected stream "a" at version 0, it is at 1`,
		7: `expected stream "old" at version 1, it is at 2`, 8: ""}
	for i, err := range errs {
		if want := wantErr[i]; want == "" {
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		} else if !errors.Is(err, eventstore.ErrConflict) || !strings.Contains(err.Error(), want) {
			t.Errorf("append %d: err %v, want conflict %q", i, err, want)
		}
	}
	positions := func(r eventstore.AppendResult) string {
		var b []string
		for _, e := range r.Events {
			b = append(b, fmt.Sprintf("%s@%d/v%d", e.Stream, e.Position, e.Version))
		}
		return fmt.Sprint(r.Duplicate, b)
	}
	for i, want := range map[int]string{
		0: "false [a@2/v1 b@3/v1]", 3: "false [a@4/v2]", 4: "true [a@2/v1 b@3/v1]",
		5: "true [old@1/v1]", 6: "false [old@5/v2]", 8: "false [a@6/v3]",
	} {
		if got := positions(res[i]); got != want {
			t.Errorf("append %d wrote %s, want %s", i, got, want)
		}
	}
	if st := s.Stats(); st.Commits != 2 || st.Appends != 5 || st.Events != 6 {
		t.Errorf("stats %+v", st)
	}
	head, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0))
	if err != nil || head.Position != 6 {
		t.Errorf("verify: %v, %v", head, err)
	}

	// A repeated command is a duplicate even when its condition fails,
	// also in a batch that the first, optimistic attempt writes (no insert
	// fails, so nothing sends the batch back to look every id up).
	res, errs = queueWhileCommitting(t, s, []func() (eventstore.AppendResult, error){
		app(at(1), ev("old", "c0", `{}`)),                 // duplicate of c0, stale head
		app(streams("a", 0), ev("a", "c4", `{}`)),         // duplicate of c4, stale version
		app(eventstore.AnyCondition, ev("n", "c8", `{}`)), // ok: position 7
	})
	for i, want := range []string{"true [old@1/v1]", "true [a@4/v2]", "false [n@7/v1]"} {
		if errs[i] != nil || positions(res[i]) != want {
			t.Errorf("second batch, append %d: %s, %v; want %s", i, positions(res[i]), errs[i], want)
		}
	}
	if st := s.Stats(); st.Commits != 3 || st.Appends != 6 {
		t.Errorf("stats %+v", st)
	}
}

// TestGatherWaitsForCompany has a leader expect three appends (as if the
// last commit had seen three) and checks that it waits for all of them,
// and that when fewer come it waits only until its timer fires and expects
// fewer next time.
func TestGatherWaitsForCompany(t *testing.T) {
	s := openTemp(t, Options{})
	lead := func(company int) chan struct{} {
		s.mu.Lock()
		s.leading, s.company, s.lastCommit = true, company, time.Hour
		s.mu.Unlock()
		done := make(chan struct{})
		go func() { s.lead(nil); close(done) }()
		return done
	}
	waitFor := func(done chan struct{}, what string) {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("the leader did not return: %s", what)
		}
	}

	// Expecting three: only the third append ends the wait (the timer is
	// an hour away), and the three share one commit.
	s.maxGather = time.Hour
	done := lead(3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if _, err := s.Append(ctx, eventstore.AnyCondition, ev("g", fmt.Sprint("c", i), `{}`)); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(done, "three appends queued")
	wg.Wait()
	if st := s.Stats(); st.Commits != 1 || st.Appends != 3 {
		t.Errorf("stats %+v, want one commit of 3 appends", st)
	}

	// Expecting three, getting one: the timer ends the wait, and the next
	// leader expects one, that is, does not wait.
	s.maxGather = time.Millisecond
	done = lead(3)
	if _, err := s.Append(ctx, eventstore.AnyCondition, ev("g", "c3", `{}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(done, "the timer fired")
	s.mu.Lock()
	company := s.company
	s.mu.Unlock()
	if st := s.Stats(); st.Commits != 2 || company != 1 {
		t.Errorf("stats %+v, company %d; want 2 commits, company 1", st, company)
	}
}

// exec runs q on the store's write connection, between commits.
func execWriter(t *testing.T, s *Store, q string) {
	t.Helper()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.w.conn.ExecContext(ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestFailingAppendDoesNotFailItsBatch(t *testing.T) {
	s := openTemp(t, Options{})
	execWriter(t, s, `CREATE TEMP TRIGGER poison BEFORE INSERT ON events WHEN NEW.stream = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned'); END`)
	app := func(stream, cmd string) func() (eventstore.AppendResult, error) {
		return func() (eventstore.AppendResult, error) {
			return s.Append(ctx, eventstore.AnyCondition, ev("ok", cmd, `{}`), ev(stream, cmd, `{}`))
		}
	}
	res, errs := queueWhileCommitting(t, s, []func() (eventstore.AppendResult, error){
		app("a", "c1"), app("poison", "c2"), app("b", "c3"), app("poison", "c4"), app("c", "c5"),
	})
	for i, err := range errs {
		if poisoned := i == 1 || i == 3; poisoned != (err != nil) {
			t.Errorf("append %d: err = %v", i, err)
		} else if poisoned && !strings.Contains(err.Error(), "poisoned") {
			t.Errorf("append %d: err = %v, want the trigger's", i, err)
		} else if poisoned && len(res[i].Events) != 0 {
			t.Errorf("append %d failed but returned events", i)
		}
	}
	if got := res[4].Events[1].Position; got != 6 {
		t.Errorf("last append at %d, want 6", got)
	}
	if h, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0)); err != nil || h.Position != 6 {
		t.Errorf("verify: %v, %v", h, err)
	}
	if st := s.Stats(); st.Commits != 1 || st.Appends != 3 {
		t.Errorf("stats %+v", st)
	}
	// The failed commands wrote nothing, so they can be retried.
	execWriter(t, s, "DROP TRIGGER temp.poison")
	if r := mustAppend(t, s, eventstore.AnyCondition, ev("ok", "c2", `{}`)); r.Duplicate {
		t.Error("retried command reported as duplicate")
	}
}

func TestFailedCommitFailsWhatItWrote(t *testing.T) {
	s := openTemp(t, Options{})
	mustAppend(t, s, eventstore.AnyCondition, ev("a", "c0", `{}`))
	// A deferred foreign key is checked at COMMIT: an event on stream
	// "doom" makes the commit of its transaction fail.
	execWriter(t, s, "CREATE TEMP TABLE nowhere (id INTEGER PRIMARY KEY)")
	execWriter(t, s, "CREATE TEMP TABLE doom (x INTEGER REFERENCES nowhere(id) DEFERRABLE INITIALLY DEFERRED)")
	execWriter(t, s, `CREATE TEMP TRIGGER doom_on_insert AFTER INSERT ON events WHEN NEW.stream = 'doom'
		BEGIN INSERT INTO doom VALUES (1); END`)
	app := func(stream, cmd string) func() (eventstore.AppendResult, error) {
		return func() (eventstore.AppendResult, error) {
			return s.Append(ctx, eventstore.AnyCondition, ev(stream, cmd, `{}`))
		}
	}
	res, errs := queueWhileCommitting(t, s, []func() (eventstore.AppendResult, error){
		app("a", "c1"), app("doom", "c2"), app("b", "c3"), app("a", "c0"),
	})
	for i, err := range errs[:3] {
		if err == nil || !strings.Contains(err.Error(), "commit") || len(res[i].Events) != 0 {
			t.Errorf("append %d: %v, %d events; want the commit's error", i, err, len(res[i].Events))
		}
	}
	// c0 was in the log before: its answer does not rest on the commit.
	if errs[3] != nil || !res[3].Duplicate || res[3].Events[0].Position != 1 {
		t.Errorf("append 3: %v, %+v; want c0 as a duplicate", errs[3], res[3])
	}
	if h, _ := s.Head(ctx); h.Position != 1 {
		t.Errorf("head at %d after failed commit, want 1", h.Position)
	}
	execWriter(t, s, "DROP TRIGGER temp.doom_on_insert")
	r := mustAppend(t, s, eventstore.AnyCondition, ev("a", "c1", `{}`))
	if r.Duplicate || r.Events[0].Position != 2 || r.Events[0].Version != 2 {
		t.Errorf("after failed commit: %+v", r)
	}
}

func TestCancelledAppendWritesNothing(t *testing.T) {
	s := openTemp(t, Options{})
	cctx, cancel := context.WithCancel(ctx)
	queued := func(n int) {
		for {
			s.mu.Lock()
			m := len(s.queue)
			s.mu.Unlock()
			if m == n {
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	s.wmu.Lock()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, c := range []context.Context{ctx, cctx, ctx} {
		wg.Go(func() {
			_, errs[i] = s.Append(c, eventstore.AnyCondition, ev("a", fmt.Sprint("c", i+1), `{}`))
		})
		queued(i + 1)
	}
	// Cancelled while queued, before the batch is written: the append
	// leaves the queue and fails alone.
	cancel()
	queued(2)
	s.wmu.Unlock()
	wg.Wait()
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], context.Canceled) || errors.Is(errs[1], eventstore.ErrOutcomeUnknown) {
		t.Errorf("errors %v", errs)
	}
	if h, _ := s.Head(ctx); h.Position != 2 {
		t.Errorf("head at %d, want 2", h.Position)
	}
}

// TestCancelledLeaderPassesTheLead cancels the append that was to lead the
// next commit while it is queued: it leaves the queue and the lead passes
// to the append after it, which writes.
func TestCancelledLeaderPassesTheLead(t *testing.T) {
	s := openTemp(t, Options{})
	cctx, cancel := context.WithCancel(ctx)
	first := s.Enqueue(cctx, eventstore.AnyCondition, ev("a", "c1", `{}`)) // leads: no commit under way
	second := s.Enqueue(ctx, eventstore.AnyCondition, ev("a", "c2", `{}`))
	cancel()
	if _, err := first(cctx); !errors.Is(err, context.Canceled) || errors.Is(err, eventstore.ErrOutcomeUnknown) {
		t.Fatalf("first: %v", err)
	}
	res, err := second(ctx)
	if err != nil || res.Events[0].Position != 1 {
		t.Fatalf("second: %v %+v", err, res)
	}
}

// TestOutcomeUnknownWhileWriting stops waiting for an append the leader has
// taken into its batch: the outcome is unknown, and the append is written.
func TestOutcomeUnknownWhileWriting(t *testing.T) {
	s := openTemp(t, Options{})
	taken, release := make(chan struct{}), make(chan struct{})
	s.testHookWriting = func() {
		close(taken)
		<-release
	}
	s.wmu.Lock()
	leader := s.Enqueue(ctx, eventstore.AnyCondition, ev("a", "c1", `{}`))
	follower := s.Enqueue(ctx, eventstore.AnyCondition, ev("a", "c2", `{}`))
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := leader(ctx); err != nil {
			t.Error(err)
		}
	})
	s.wmu.Unlock()
	<-taken // the leader holds both appends and has not written them
	expired, cancel := context.WithCancel(ctx)
	cancel()
	_, err := follower(expired)
	close(release)
	wg.Wait()
	s.testHookWriting = nil
	if !errors.Is(err, eventstore.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
		t.Fatalf("follower: %v", err)
	}
	// The append was queued with a context that did not end: it is
	// written; waiting again tells so, and repeating it answers with what
	// it wrote.
	if res, err := follower(ctx); err != nil || res.Events[0].Position != 2 {
		t.Errorf("waiting again: %v %+v", err, res)
	}
	if h, _ := s.Head(ctx); h.Position != 2 {
		t.Errorf("head at %d, want 2", h.Position)
	}
	res, err := s.Append(ctx, eventstore.AnyCondition, ev("a", "c2", `{}`))
	if err != nil || !res.Duplicate || res.Events[0].Position != 2 {
		t.Errorf("repeat: %v %+v", err, res)
	}
}

// TestFailedCommitIsInDoubt fails the COMMIT of a batch of two appends,
// once before SQLite writes it and once after (as an fsync that fails
// once the WAL frames are written): either way every append of the batch
// is in doubt, not failed, its Ticket says so again when called again,
// and repeating each with its command id writes it once.
func TestFailedCommitIsInDoubt(t *testing.T) {
	for _, written := range []bool{false, true} {
		t.Run(fmt.Sprintf("written=%v", written), func(t *testing.T) {
			s := openTemp(t, Options{})
			mustAppend(t, s, eventstore.AnyCondition, ev("a", "c0", `{}`))
			errIO := errors.New("disk I/O error (injected)")
			s.testHookCommit = func(commit func() error) error {
				if written {
					if err := commit(); err != nil {
						return err
					}
				}
				return errIO
			}
			// Both appends go to one commit: the second queues while the
			// first's leader is held before it takes the queue.
			s.wmu.Lock()
			first := s.Enqueue(ctx, eventstore.AnyCondition, ev("a", "c1", `{}`))
			second := s.Enqueue(ctx, eventstore.AnyCondition, ev("b", "c2", `{}`))
			s.wmu.Unlock()
			for i, tk := range []eventstore.Ticket{first, second} {
				_, err := tk(ctx)
				if !errors.Is(err, eventstore.ErrOutcomeUnknown) || !errors.Is(err, errIO) {
					t.Fatalf("append %d: %v, want an unknown outcome", i+1, err)
				}
				if _, again := tk(ctx); again == nil || again.Error() != err.Error() {
					t.Errorf("append %d waited for again: %v, want %v", i+1, again, err)
				}
			}
			s.testHookCommit = nil
			for i, c := range []string{"c1", "c2"} {
				res, err := s.Append(ctx, eventstore.AnyCondition, ev(string(rune('a'+i)), c, `{}`))
				if err != nil || res.Duplicate != written || res.Events[0].Position != eventstore.Position(i+2) {
					t.Errorf("repeating %s: %v, duplicate %v at %d; want duplicate %v at %d", c, err, res.Duplicate, res.Events[0].Position, written, i+2)
				}
			}
			if got := collect(t, s.ReadAll(ctx, 0)); len(got) != 3 {
				t.Errorf("the log holds %d events, want 3", len(got))
			}
		})
	}
}

// TestFailedCommitKeepsKnownAnswers: of the appends of a commit that
// fails, only those whose answer rests on it are in doubt: one that wrote,
// and one that repeats it. A conflict and a repeat of a command already in
// the log wrote nothing, and keep their answers.
func TestFailedCommitKeepsKnownAnswers(t *testing.T) {
	s := openTemp(t, Options{})
	first := mustAppend(t, s, eventstore.AnyCondition, ev("a", "c0", `{}`))
	errIO := errors.New("disk I/O error (injected)")
	s.testHookCommit = func(func() error) error { return errIO }
	s.wmu.Lock()
	written := s.Enqueue(ctx, eventstore.AnyCondition, ev("b", "c1", `{}`))
	conflict := s.Enqueue(ctx, eventstore.AtHead(0), ev("c", "c2", `{}`))
	inLog := s.Enqueue(ctx, eventstore.AnyCondition, ev("a", "c0", `{}`))
	again := s.Enqueue(ctx, eventstore.AnyCondition, ev("b", "c1", `{}`))
	s.wmu.Unlock()
	// written's Ticket first: it holds the lead, and the others wait for
	// the commit it leads.
	for i, tk := range []eventstore.Ticket{written, again} {
		if _, err := tk(ctx); !errors.Is(err, eventstore.ErrOutcomeUnknown) || !errors.Is(err, errIO) {
			t.Errorf("%s: %v, want an unknown outcome", []string{"written", "its repeat"}[i], err)
		}
	}
	var ce *eventstore.ConflictError
	if _, err := conflict(ctx); !errors.As(err, &ce) || errors.Is(err, eventstore.ErrOutcomeUnknown) {
		t.Errorf("conflict: %v, want a conflict", err)
	}
	res, err := inLog(ctx)
	if err != nil || !res.Duplicate || len(res.Events) != 1 || res.Events[0].Hash != first.Events[0].Hash {
		t.Errorf("a command already in the log: %v, %+v; want it as a duplicate", err, res)
	}
}

func TestCloseFailsLaterCalls(t *testing.T) {
	s := openTemp(t, Options{})
	mustAppend(t, s, eventstore.AnyCondition, ev("a", "c1", `{}`))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := s.Append(ctx, eventstore.AnyCondition, ev("a", "c2", `{}`)); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	if _, err := s.Head(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("head after close: %v", err)
	}
	for _, err := range s.ReadAll(ctx, 0) {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("read after close: %v", err)
		}
	}
	for _, err := range s.ReadStream(ctx, "a", 0) {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("read stream after close: %v", err)
		}
	}
}

func TestOpenDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open(sqlitex.DriverName, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := OpenDB(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := mustAppend(t, s, eventstore.AnyCondition, ev("a", "c1", `{}`), ev("b", "c1", `{}`))
	if got := collect(t, s.ReadAll(ctx, 0)); len(got) != 2 || got[1].Hash != r.Events[1].Hash {
		t.Errorf("read back %d events", len(got))
	}
	if got, _ := sqlitex.Pragma(ctx, s.w.conn, "synchronous"); got != "2" {
		t.Errorf("synchronous = %s", got)
	}
	if got, _ := sqlitex.Pragma(ctx, s.w.conn, "temp_store"); got != "2" {
		t.Errorf("temp_store = %s, want 2 (MEMORY)", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// db is still the caller's, and the log is in it.
	var n int
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil || n != 2 {
		t.Errorf("events in db: %d, %v", n, err)
	}
	s2, err := OpenDB(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r2 := mustAppend(t, s2, eventstore.AnyCondition, ev("a", "c1", `{}`)); !r2.Duplicate {
		t.Error("repeated command after reopening is not a duplicate")
	}
	s2.Close()

	one, _ := sql.Open(sqlitex.DriverName, filepath.Join(t.TempDir(), "one.db"))
	defer one.Close()
	one.SetMaxOpenConns(1)
	if _, err := OpenDB(one, Options{}); err == nil {
		t.Error("OpenDB accepted a pool of one connection")
	}
	mem, _ := sql.Open(sqlitex.DriverName, ":memory:")
	defer mem.Close()
	if _, err := OpenDB(mem, Options{}); err == nil {
		t.Error("OpenDB accepted an unshared :memory: database")
	}
	shared, _ := sql.Open(sqlitex.DriverName, "file:opendbtest?mode=memory&cache=shared")
	defer shared.Close()
	s3, err := OpenDB(shared, Options{})
	if err != nil {
		t.Fatalf("shared memory database: %v", err)
	}
	mustAppend(t, s3, eventstore.AnyCondition, ev("a", "c1", `{}`))
	if h, err := s3.Head(ctx); err != nil || h.Position != 1 {
		t.Errorf("head %v, %v", h, err)
	}
	s3.Close()
}

func TestTextHoldingTheSeparator(t *testing.T) {
	s := openTemp(t, Options{PageSize: 2})
	odd := ev("odd\x1fstream", "c\x1f1", `{"k":"v\u001f"}`)
	odd.Metadata.ActorID = "a\x1fb"
	odd.Metadata.CausationID = "\x1f"
	var want []eventstore.Event
	for i, e := range []eventstore.NewEvent{ev("a", "c0", `{}`), odd, ev("b", "c2", `{}`)} {
		if i == 1 {
			e = odd
		}
		want = append(want, mustAppend(t, s, eventstore.AnyCondition, e, ev("a", e.Metadata.CommandID, `{}`)).Events...)
	}
	for name, got := range map[string][]eventstore.Event{
		"ReadAll":    collect(t, s.ReadAll(ctx, 0)),
		"ReadStream": collect(t, s.ReadStream(ctx, "odd\x1fstream", 0)),
	} {
		w := want
		if name == "ReadStream" {
			w = want[2:3]
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, w)
		}
	}
	if r := mustAppend(t, s, eventstore.AnyCondition, odd); !r.Duplicate || r.Events[0].Metadata != odd.Metadata {
		t.Errorf("duplicate read back %+v", r)
	}
	if _, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0)); err != nil {
		t.Error(err)
	}
}

func TestReadAheadStopsWithTheIteration(t *testing.T) {
	s := openTemp(t, Options{PageSize: 4})
	for i := range 25 {
		mustAppend(t, s, eventstore.AnyCondition, ev("a", fmt.Sprint("c", i), `{}`), ev("b", fmt.Sprint("c", i), `{}`))
	}
	for stop := range 50 {
		n := 0
		for e, err := range s.ReadAll(ctx, 0) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; e.Position != eventstore.Position(n) {
				t.Fatalf("event %d at position %d", n, e.Position)
			}
			if n == stop {
				break
			}
		}
		if want := min(stop, 50); stop > 0 && n != want {
			t.Errorf("stop at %d: read %d", stop, n)
		}
	}
	if got := len(collect(t, s.ReadStream(ctx, "b", 3))); got != 22 {
		t.Errorf("ReadStream(b, 3) read %d, want 22", got)
	}
	// Every read connection is back in the pool.
	if st := s.read.Stats(); st.InUse != 0 {
		t.Errorf("%d read connections still in use", st.InUse)
	}
}

func TestLargeAppendLookups(t *testing.T) {
	// More streams than one look-up statement takes.
	s := openTemp(t, Options{})
	cond := eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{}}
	var events []eventstore.NewEvent
	for i := range 150 {
		id := fmt.Sprint("s", i%100)
		events = append(events, ev(id, "big", `{}`))
		cond.Streams[eventstore.StreamID(id)] = 0
	}
	r := mustAppend(t, s, cond, events...)
	if e := r.Events[149]; e.Position != 150 || e.Version != 2 {
		t.Errorf("last event %s v%d at %d", e.Stream, e.Version, e.Position)
	}
	cond.Streams["s99"] = 2
	cond.Streams["s77"] = 1
	_, err := s.Append(ctx, cond, ev("s77", "big2", `{}`))
	var ce *eventstore.ConflictError
	if !errors.As(err, &ce) || ce.Stream != "s0" || ce.Actual != 2 {
		t.Errorf("err = %v, want a conflict on s0 at 2", err)
	}
	if r2 := mustAppend(t, s, eventstore.AnyCondition, ev("x", "big", `{}`)); !r2.Duplicate || len(r2.Events) != 150 {
		t.Errorf("duplicate returned %d events", len(r2.Events))
	}
}

func TestTwoStoresOnOneFile(t *testing.T) {
	// Each store's writer caches the head and stream versions between
	// commits; a commit by the other store must invalidate that cache.
	a := openTemp(t, Options{})
	b, err := Open(a.path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	stores := []*Store{a, b}
	var head eventstore.Position
	versions := map[eventstore.StreamID]eventstore.Version{}
	for i := range 40 {
		// a, a, b, b, a, b, …: cache hits as well as invalidations.
		w := i % 2
		if i < 4 {
			w = i / 2
		}
		s, other := stores[w], stores[1-w]
		stream := eventstore.StreamID(fmt.Sprint("s", i%3))
		cmd := fmt.Sprint("c", i)
		// The other store's view must not be stale: a condition on the
		// previous head or version conflicts.
		if head > 0 {
			stale := head - 1
			_, err := s.Append(ctx, eventstore.Condition{Head: &stale}, ev(string(stream), cmd, `{}`))
			var ce *eventstore.ConflictError
			if !errors.As(err, &ce) || ce.ActualHead != head {
				t.Fatalf("append %d: stale head: err = %v, want a conflict at %d", i, err, head)
			}
		}
		if v := versions[stream]; v > 0 {
			_, err := s.Append(ctx, eventstore.Condition{Streams: map[eventstore.StreamID]eventstore.Version{stream: v - 1}}, ev(string(stream), cmd, `{}`))
			var ce *eventstore.ConflictError
			if !errors.As(err, &ce) || ce.Actual != v {
				t.Fatalf("append %d: stale version: err = %v, want a conflict at %d", i, err, v)
			}
		}
		cond := eventstore.Condition{Head: &head, Streams: map[eventstore.StreamID]eventstore.Version{stream: versions[stream]}}
		r := mustAppend(t, s, cond, ev(string(stream), cmd, `{}`))
		head++
		versions[stream]++
		if e := r.Events[0]; r.Duplicate || e.Position != head || e.Version != versions[stream] {
			t.Fatalf("append %d: %s v%d at %d (duplicate %v), want v%d at %d", i, e.Stream, e.Version, e.Position, r.Duplicate, versions[stream], head)
		}
		if !s.w.cache.valid {
			t.Fatalf("append %d: the writer's cache is not in use", i)
		}
		// The other store finds the command.
		if r := mustAppend(t, other, eventstore.AnyCondition, ev("x", cmd, `{}`)); !r.Duplicate || r.Events[0].Position != head {
			t.Fatalf("append %d: repeated on the other store: %+v", i, r)
		}
	}
	// New commands with no condition, taking turns: each store's cache is
	// stale every time, and only the position the other store took tells.
	for i := range 6 {
		r := mustAppend(t, stores[i%2], eventstore.AnyCondition, ev("free", fmt.Sprint("free", i), `{}`))
		head++
		if e := r.Events[0]; r.Duplicate || e.Position != head || e.Version != eventstore.Version(i+1) {
			t.Fatalf("free append %d: v%d at %d (duplicate %v), want v%d at %d", i, e.Version, e.Position, r.Duplicate, i+1, head)
		}
	}
	// A condition that holds, though the store's own cache says otherwise:
	// b wrote last, so a's cache is one append behind.
	cond := eventstore.Condition{Head: &head, Streams: map[eventstore.StreamID]eventstore.Version{"free": 6}}
	if r, err := a.Append(ctx, cond, ev("free", "after-b", `{}`)); err != nil || r.Events[0].Position != head+1 {
		t.Fatalf("append at head %d after the other store's: %+v, %v", head, r, err)
	}
	head++
	for _, s := range stores {
		if h, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0)); err != nil || h.Position != head {
			t.Errorf("verify: %v, %v; want head %d", h, err, head)
		}
	}
	if n := len(collect(t, a.ReadAll(ctx, 0))); n != int(head) {
		t.Errorf("%d events, want %d", n, head)
	}
}

// TestLargeCommitCache writes a commit large enough to get the large page
// cache, and checks that the write connection's cache is small again
// afterwards and the log is whole.
func TestLargeCommitCache(t *testing.T) {
	s := openTemp(t, Options{})
	var evs []eventstore.NewEvent
	for i := range largeCommit + 10 {
		evs = append(evs, ev(fmt.Sprint("big/", i%50), "big", fmt.Sprintf(`{"i":%d}`, i)))
	}
	for i := range evs {
		evs[i].Metadata.CommandID = "big"
	}
	res, err := s.Append(ctx, eventstore.AnyCondition, evs...)
	if err != nil || len(res.Events) != len(evs) {
		t.Fatalf("append: %v, %d events", err, len(res.Events))
	}
	var size int
	if err := s.w.conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&size); err != nil {
		t.Fatal(err)
	}
	if size == largeCommitCache {
		t.Errorf("the write connection's cache is still %d after the large commit", size)
	}
	if h, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0)); err != nil || h.Position != eventstore.Position(len(evs)) {
		t.Errorf("verify: %v at %d", err, h.Position)
	}
}
