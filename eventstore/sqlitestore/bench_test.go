package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/sqlitex"
	"github.com/oklog/ulid/v2"
)

// The benchmarks compare the store with plain modernc.org/sqlite code that
// writes or reads the same rows in the same schema, measured in the same
// run, and report:
//
//	events/s     the store's throughput
//	base_ev/s    the plain code's throughput
//	x_baseline   the ratio of the two
//
// Run them with
//
//	go test -run '^$' -bench . -benchtime 1x ./eventstore/sqlitestore/      (quick)
//	go test -run '^$' -bench . ./eventstore/sqlitestore/                     (steadier)
//
// With -benchtime 1x the append benchmarks still run a minimum number of
// appends so that their rates mean something; read events/s and
// x_baseline, not ns/op.
//
// The 1M-event fixture for the read benchmarks is built once per process
// in a temporary directory, or kept at $SQLITESTORE_BENCH_FIXTURE (built
// there if missing) to save the build on later runs.

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// benchPayload is a typical payload: an assignment request, ~230 bytes.
func benchPayload(i int) []byte {
	return fmt.Appendf(nil, `{"accessPackageId":"0b9e3c1a-7d4e-4f7a-9a51-%012d","requestType":"userAdd",`+
		`"justification":"needed for the quarterly access review","schedule":{"startDateTime":"2026-03-03T10:00:00Z",`+
		`"expiration":{"type":"afterDuration","duration":"P30D"}},"targetId":"user/%d"}`, i, i)
}

func benchEvent(stream string, cmd string, payload []byte) eventstore.NewEvent {
	return eventstore.NewEvent{
		Stream: eventstore.StreamID(stream), Type: "assignmentRequestCreated",
		Metadata: eventstore.Metadata{ActorID: "user/4711", ActorKind: "user", CorrelationID: cmd, CommandID: cmd},
		Payload:  payload,
	}
}

// plain is the baseline: the same table, written and read with nothing but
// database/sql and prepared statements.
type plain struct {
	db     *sql.DB
	insert *sql.Stmt
	pos    int64
	row    []any
}

func openPlain(b *testing.B, sync string) *plain {
	b.Helper()
	path := filepath.Join(b.TempDir(), "plain.db")
	db, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path, sqlitex.Options{Synchronous: sync, BusyTimeout: 5 * time.Second}, false))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	ms, err := sqlitex.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sqlitex.Migrate(context.Background(), conn, ms, nil); err != nil {
		b.Fatal(err)
	}
	conn.Close()
	st, err := db.Prepare("INSERT INTO events (" + columns + ") VALUES " + placeholders(1, numColumns))
	if err != nil {
		b.Fatal(err)
	}
	payload := string(benchPayload(1))
	hash := make([]byte, 32)
	now := time.Now().UnixNano()
	return &plain{db: db, insert: st, row: []any{
		int64(0), ulid.Make().String(), "stream", int64(0), "assignmentRequestCreated", int64(1), now, now,
		"user/4711", "user", "", "cmd", "", "cmd", payload, hash, hash, "",
	}}
}

// exec inserts one row with st (the prepared insert or its tx copy).
func (p *plain) exec(b *testing.B, st *sql.Stmt) {
	p.pos++
	p.row[0], p.row[3] = p.pos, p.pos
	if _, err := st.Exec(p.row...); err != nil {
		b.Fatal(err)
	}
}

// insertBatch inserts size rows in one transaction; size 1 is a plain
// autocommit INSERT.
func (p *plain) insertBatch(b *testing.B, size int) {
	if size == 1 {
		p.exec(b, p.insert)
		return
	}
	tx, err := p.db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st := tx.Stmt(p.insert)
	for range size {
		p.exec(b, st)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// interleave runs ours(i) for i in [0, n) and base(i) as often, in
// alternating rounds of round calls, so that both see the same machine
// (the disk's fsync latency and other load drift over seconds). Only ours
// is timed by the benchmark's timer; it returns the time each side took.
func interleave(b *testing.B, n, round int, ours, base func(i int)) (oursD, baseD time.Duration) {
	b.ResetTimer()
	for start := 0; start < n; start += round {
		end := min(start+round, n)
		t := time.Now()
		for i := start; i < end; i++ {
			ours(i)
		}
		oursD += time.Since(t)
		b.StopTimer()
		t = time.Now()
		for i := start; i < end; i++ {
			base(i)
		}
		baseD += time.Since(t)
		b.StartTimer()
	}
	b.StopTimer()
	return oursD, baseD
}

func report(b *testing.B, events int, d time.Duration, baseEvents int, base time.Duration) {
	rate := float64(events) / d.Seconds()
	b.ReportMetric(rate, "events/s")
	if baseEvents > 0 {
		baseRate := float64(baseEvents) / base.Seconds()
		b.ReportMetric(baseRate, "base_ev/s")
		b.ReportMetric(rate/baseRate, "x_baseline")
	}
}

// BenchmarkAppendOne appends one one-event command per commit
// (synchronous=FULL, WAL); the baseline is a prepared single-row INSERT per
// autocommit transaction into the same schema.
func BenchmarkAppendOne(b *testing.B) {
	s := openTemp(b, Options{})
	p := openPlain(b, sqlitex.SyncFull)
	payload := benchPayload(1)
	n := max(b.N, 200) // with -benchtime 1x too, a rate worth reading
	b.ReportAllocs()
	d, base := interleave(b, n, 50, func(i int) {
		cmd := fmt.Sprint("c", i)
		if _, err := s.Append(context.Background(), eventstore.AnyCondition, benchEvent(fmt.Sprint("s", i%100), cmd, payload)); err != nil {
			b.Fatal(err)
		}
	}, func(int) { p.insertBatch(b, 1) })
	report(b, n, d, n, base)
}

// BenchmarkAppendBatch appends commands of 100 and of 1000 events (ten
// streams each); the baseline inserts the same number of rows with a
// prepared single-row INSERT in one transaction per batch.
func BenchmarkAppendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			s := openTemp(b, Options{})
			p := openPlain(b, sqlitex.SyncFull)
			payloads := make([][]byte, size)
			for i := range payloads {
				payloads[i] = benchPayload(i)
			}
			events := make([]eventstore.NewEvent, size)
			ops := max(b.N, 20_000/size)
			b.ReportAllocs()
			d, base := interleave(b, ops, 1, func(n int) {
				cmd := fmt.Sprint("c", n)
				for i := range events {
					events[i] = benchEvent(fmt.Sprint("s", n, "/", i%10), cmd, payloads[i])
				}
				if _, err := s.Append(context.Background(), eventstore.AnyCondition, events...); err != nil {
					b.Fatal(err)
				}
			}, func(int) { p.insertBatch(b, size) })
			report(b, ops*size, d, ops*size, base)
			// What eventstore.Prepare (canonical JSON, ids) costs of that.
			t := time.Now()
			for n := range min(b.N, 20) {
				if _, _, err := eventstore.Prepare(events, time.Now(), ulid.Make); err != nil || n < 0 {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(t).Microseconds())/float64(min(b.N, 20)*size), "prepare_us/event")
		})
	}
}

// BenchmarkAppendConcurrent has 16 goroutines append one-event commands at
// once; group commit writes them in shared transactions. The baseline is
// the same store appending one command per commit from one goroutine, in
// alternating rounds.
func BenchmarkAppendConcurrent(b *testing.B) {
	const goroutines = 16
	s := openTemp(b, Options{})
	payload := benchPayload(1)
	var single int
	var next atomic.Int64
	round := func(n int) {
		var wg sync.WaitGroup
		end := next.Load() + int64(n)
		for g := range goroutines {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > end {
						return
					}
					if _, err := s.Append(context.Background(), eventstore.AnyCondition, benchEvent(fmt.Sprint("g", g), fmt.Sprint("c", i), payload)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		next.Store(end)
	}
	b.ReportAllocs()
	const roundSize = 1600
	total := max(b.N, 2000)
	var d, base time.Duration
	var commits, appends uint64
	b.ResetTimer()
	for done := 0; done < total; done += roundSize {
		n := min(roundSize, total-done)
		st0 := s.Stats()
		t := time.Now()
		round(n)
		d += time.Since(t)
		st1 := s.Stats()
		commits += st1.Commits - st0.Commits
		appends += st1.Appends - st0.Appends
		b.StopTimer()
		t = time.Now()
		for range max(n/8, 10) {
			if _, err := s.Append(context.Background(), eventstore.AnyCondition, benchEvent("single", fmt.Sprint("single", single), payload)); err != nil {
				b.Fatal(err)
			}
			single++
		}
		base += time.Since(t)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(appends)/float64(max(commits, 1)), "appends/commit")
	report(b, total, d, single, base)
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixturePath string
	fixtureErr  error
)

// fixtureEvents is the size of the read fixture.
const fixtureEvents = 1_000_000

// fixture returns the path of a log of fixtureEvents events (1000-event
// commands over 10,000 streams), built once per process.
func fixture(b *testing.B) string {
	fixtureOnce.Do(func() {
		start := time.Now()
		if fixturePath = os.Getenv("SQLITESTORE_BENCH_FIXTURE"); fixturePath != "" {
			if _, err := os.Stat(fixturePath); err == nil {
				return // built by an earlier run
			}
		} else {
			fixtureDir, fixtureErr = os.MkdirTemp("", "sqlitestore-bench-")
			if fixtureErr != nil {
				return
			}
			fixturePath = filepath.Join(fixtureDir, "events.db")
		}
		s, err := Open(fixturePath, Options{Synchronous: SyncOff})
		if err != nil {
			fixtureErr = err
			return
		}
		defer s.Close()
		const perCommand = 1000
		// Two appenders, so that preparing one command (canonical JSON)
		// overlaps with writing the other.
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			wg.Go(func() {
				events := make([]eventstore.NewEvent, perCommand)
				for {
					c := next.Add(1) - 1
					if c*perCommand >= fixtureEvents {
						return
					}
					cmd := fmt.Sprint("fixture", c)
					for i := range events {
						n := int(c)*perCommand + i
						events[i] = benchEvent(fmt.Sprint("accessPackage/", n%10_000), cmd, benchPayload(n))
					}
					if _, err := s.Append(context.Background(), eventstore.AnyCondition, events...); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		select {
		case fixtureErr = <-errs:
		default:
		}
		fmt.Fprintf(os.Stderr, "built %d-event fixture in %v\n", fixtureEvents, time.Since(start).Round(time.Millisecond))
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixturePath
}

// heapWatch samples the in-use heap while a read runs.
type heapWatch struct {
	base, peak uint64
}

func newHeapWatch() *heapWatch {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &heapWatch{base: m.HeapInuse, peak: m.HeapInuse}
}

func (h *heapWatch) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.peak = max(h.peak, m.HeapInuse)
}

func (h *heapWatch) report(b *testing.B) {
	b.ReportMetric(float64(h.peak-h.base)/(1<<20), "heap_growth_MB")
}

// plainReadAll reads every event of the file at path with one plain SELECT
// into local variables: the baseline for reading.
func plainReadAll(b *testing.B, path string) (int, time.Duration) {
	db, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path, sqlitex.Options{BusyTimeout: time.Second}, true))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	rows, err := db.Query("SELECT " + columns + " FROM events ORDER BY position")
	if err != nil {
		b.Fatal(err)
	}
	var (
		pos, version, schema, occ, rec                           int64
		id, stream, typ, a1, a2, a3, a4, a5, a6, payload, digest string
		prev, hash                                               sql.RawBytes
		n                                                        int
	)
	for rows.Next() {
		if err := rows.Scan(&pos, &id, &stream, &version, &typ, &schema, &occ, &rec,
			&a1, &a2, &a3, &a4, &a5, &a6, &payload, &prev, &hash, &digest); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	rows.Close()
	return n, time.Since(start)
}

func openFixture(b *testing.B) *Store {
	s, err := Open(fixture(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkReadAll reads the 1M-event log with ReadAll; the baseline is one
// plain SELECT of the same columns. heap_growth_MB is the largest growth of
// the in-use heap seen while reading.
func BenchmarkReadAll(b *testing.B) {
	s := openFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	var total int
	var d time.Duration
	h := newHeapWatch()
	for range b.N {
		start := time.Now()
		n := 0
		for _, err := range s.ReadAll(context.Background(), 0) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%100_000 == 0 {
				h.sample()
			}
		}
		d += time.Since(start)
		total += n
	}
	b.StopTimer()
	if total != b.N*fixtureEvents {
		b.Fatalf("read %d events, want %d", total, b.N*fixtureEvents)
	}
	h.report(b)
	n, base := plainReadAll(b, s.path)
	report(b, total, d, n, base)
}

// BenchmarkVerify verifies the 1M-event log: ReadAll plus a SHA-256 per
// event. The baseline is ReadAll alone.
func BenchmarkVerify(b *testing.B) {
	s := openFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	h := newHeapWatch()
	var d time.Duration
	for range b.N {
		start := time.Now()
		head, err := eventstore.Verify(context.Background(), s.ReadAll(context.Background(), 0))
		if err != nil {
			b.Fatal(err)
		}
		d += time.Since(start)
		if head.Position != fixtureEvents {
			b.Fatalf("verified up to %d", head.Position)
		}
		h.sample()
	}
	b.StopTimer()
	h.report(b)
	start := time.Now()
	n := 0
	for _, err := range s.ReadAll(context.Background(), 0) {
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	report(b, b.N*fixtureEvents, d, n, time.Since(start))
}
