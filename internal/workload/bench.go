package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
)

// BenchConfig says what the write-path benchmark runs.
type BenchConfig struct {
	Users int
	Seed  uint64
	// Dir is where a directory of the run's own holds its logs, kept
	// afterwards; by default a temporary one, removed at the end.
	Dir string
	// HistoryDays of Play before the measurements; -1 for none, 0 for
	// enough to write about ten events per user.
	HistoryDays int
	// Single and Concurrent are how many request → delivered loops the
	// one-goroutine and the many-goroutine phases run; Goroutines is how
	// many the second uses (default 16).
	Single, Concurrent, Goroutines int
	// SkipExpiry leaves out the phase that fills the tenant with
	// assignments and expires them all with one ProcessDue.
	SkipExpiry bool
	// Workers run the generator's commands (default 16).
	Workers int
	// Projection also measures the projection of the log (package
	// projection): catch-up, queries, rebuild.
	Projection bool
}

// Rate is a count over a duration.
type Rate struct {
	N       int
	Elapsed time.Duration
}

// PerSecond returns N per second.
func (r Rate) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.N) / r.Elapsed.Seconds()
}

// Latency summarises the durations of one operation.
type Latency struct {
	N             int
	P50, P99, Max time.Duration
}

func latencyOf(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{N: len(ds), P50: ds[len(ds)/2], P99: ds[len(ds)*99/100], Max: ds[len(ds)-1]}
}

// Report holds the figures of one run of Bench.
type Report struct {
	Users  int
	Events uint64 // events in the log when it is replayed (later phases add a few hundred)
	// RawInsertPerCommit is what SQLite itself does in the same run: one
	// small row per transaction, synchronous=FULL, in the same directory.
	RawInsertPerCommit Rate
	// RawAfterSingle is the same measured again right after the
	// one-goroutine requests: the machine's speed drifts within a run.
	RawAfterSingle Rate
	Build, History Rate // events per second
	HistoryStats   Stats
	// Single and Concurrent are request → delivered loops (a request
	// through a policy without approval, its delivery recorded) by one
	// goroutine and by Goroutines at once.
	Single, Concurrent Rate
	Goroutines         int
	// AppendsPerCommit is how many appends the concurrent phase's SQLite
	// commits held on average.
	AppendsPerCommit float64
	// Reads are per-user reads at the end of the run, by name; "approvals
	// waiting for me" is read by approvers of the Pending requests left
	// waiting for their approval for it.
	Reads   map[string]Latency
	Pending int
	// NothingDue is ProcessDue with nothing due.
	NothingDue Latency
	// Expiry is one ProcessDue expiring N assignments (with their
	// notices and revocations).
	Expiry Rate
	// Replay is NewManager on the log: events replayed per second.
	Replay Rate
	// HeapBytes is the heap the replayed Manager holds, and Entities the
	// users, requests and assignments it knows.
	HeapBytes uint64
	Entities  int
	// SnapshotWrite is writing a snapshot of the replayed state (N is its
	// size in bytes); SnapshotStart is a new Manager starting from it
	// after Tail more events were appended (N is the events replayed).
	SnapshotWrite, SnapshotStart Rate
	Tail                         int
	// Projection holds the projection's figures, if BenchConfig.Projection.
	Projection *ProjectionReport
}

// BytesPerEntity returns HeapBytes / Entities.
func (r *Report) BytesPerEntity() float64 {
	if r.Entities == 0 {
		return 0
	}
	return float64(r.HeapBytes) / float64(r.Entities)
}

// Bench generates a tenant on a SQLite log (synchronous=FULL) and measures
// the write path: the raw SQLite insert rate of the same run, request →
// delivered by one goroutine and by many, per-user reads, ProcessDue with
// nothing due and expiring every assignment, replay and memory.
func Bench(ctx context.Context, cfg BenchConfig, progress ProgressFunc) (*Report, error) {
	if cfg.Users <= 0 {
		cfg.Users = 1000
	}
	if cfg.Goroutines <= 0 {
		cfg.Goroutines = 16
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.Single <= 0 {
		cfg.Single = min(2000, cfg.Users)
	}
	if cfg.Concurrent <= 0 {
		cfg.Concurrent = min(8000, 2*cfg.Users)
	}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "accessledger-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	} else {
		// A directory of its own in the one given, kept afterwards.
		dir, err := os.MkdirTemp(cfg.Dir, fmt.Sprintf("bench-%d-users-", cfg.Users))
		if err != nil {
			return nil, err
		}
		cfg.Dir = dir
	}
	rep := &Report{Users: cfg.Users, Goroutines: cfg.Goroutines, Reads: map[string]Latency{}}

	var err error
	progress.report("raw SQLite insert per commit", 0, 1)
	if rep.RawInsertPerCommit, err = RawInsertPerCommit(ctx, cfg.Dir, 2*time.Second); err != nil {
		return nil, err
	}

	path := filepath.Join(cfg.Dir, "ledger.db")
	start := time.Now()
	store, m, t, err := BuildOn(ctx, path, Config{Seed: cfg.Seed, Users: cfg.Users, Workers: cfg.Workers,
		OpenPackages: openPackages(cfg.Users)}, progress)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	clock := t.Clock
	rep.Build = Rate{N: int(m.Head()), Elapsed: time.Since(start)}
	// The projection's queries as of the past ask about the middle of the
	// history.
	past := clock.Now()

	if cfg.HistoryDays >= 0 {
		perDay := min(500, max(1, cfg.Users/10))
		days := cfg.HistoryDays
		if days == 0 {
			// About ten events per request lifecycle: a request per user.
			days = max(7, cfg.Users/perDay)
		}
		past = past.Add(time.Duration(days) * 12 * time.Hour)
		before, start := m.Head(), time.Now()
		t.Config.Workers = cfg.Workers
		if rep.HistoryStats, err = t.Play(ctx, days, perDay, progress); err != nil {
			return nil, err
		}
		rep.History = Rate{N: int(m.Head() - before), Elapsed: time.Since(start)}
		// Out of the 90-day request window of the history, with its due
		// work done.
		clock.Advance(91 * 24 * time.Hour)
		progress.report("process what fell due", 0, 1)
		if _, err := m.ProcessDue(ctx, clock.Now()); err != nil {
			return nil, err
		}
	}

	slots := &openSlots{t: t}
	request := func(ctx context.Context) error {
		u, p := slots.next()
		_, err := m.Execute(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
			AccessPackageID: p.ID, AssignmentPolicyID: p.PolicyID})
		return err
	}
	progress.report("request → delivered, 1 goroutine", 0, cfg.Single)
	if rep.Single, err = loop(ctx, 1, cfg.Single, request); err != nil {
		return nil, err
	}
	progress.report("raw SQLite insert per commit, again", 0, 1)
	if rep.RawAfterSingle, err = RawInsertPerCommit(ctx, cfg.Dir, 2*time.Second); err != nil {
		return nil, err
	}
	progress.report(fmt.Sprintf("request → delivered, %d goroutines", cfg.Goroutines), 0, cfg.Concurrent)
	before := store.Stats()
	if rep.Concurrent, err = loop(ctx, cfg.Goroutines, cfg.Concurrent, request); err != nil {
		return nil, err
	}
	if after := store.Stats(); after.Commits > before.Commits {
		rep.AppendsPerCommit = float64(after.Appends-before.Appends) / float64(after.Commits-before.Commits)
	}

	progress.report("per-user reads", 0, 1)
	approvers, pending, err := pendApprovals(ctx, m, t, min(2000, max(100, cfg.Users/10)))
	if err != nil {
		return nil, err
	}
	rep.Pending = pending
	rep.Reads = measureReads(m, t, approvers)
	if _, err := m.ProcessDue(ctx, clock.Now()); err != nil {
		return nil, err
	}
	var nothing []time.Duration
	for range 2000 {
		s := time.Now()
		if _, err := m.ProcessDue(ctx, clock.Now()); err != nil {
			return nil, err
		}
		nothing = append(nothing, time.Since(s))
	}
	rep.NothingDue = latencyOf(nothing)

	if !cfg.SkipExpiry {
		if rep.Expiry, err = expireAll(ctx, m, t, slots, cfg.Goroutines, progress); err != nil {
			return nil, err
		}
	}
	rep.Events = uint64(m.Head())
	if err := store.Close(); err != nil {
		return nil, err
	}

	// Replay, and what the replayed state holds on the heap.
	progress.report("replay", 0, 1)
	store, err = sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	// Only the replayed state on the heap: the tenant's Manager, which
	// slots still reach through the tenant, goes too (a garbage
	// collection marks all that is live, and the replay measured what
	// collecting 560 MiB of it again and again cost at 100,000 users).
	m = nil
	slots.t.m = nil
	t = nil
	heapBefore := heap()
	start = time.Now()
	replayed, err := entitlement.NewManager(ctx, store, entitlement.Options{Clock: clock})
	if err != nil {
		return nil, err
	}
	rep.Replay = Rate{N: int(replayed.Head()), Elapsed: time.Since(start)}
	if h := heap(); h > heapBefore {
		rep.HeapBytes = h - heapBefore
	}
	c := replayed.State().Counts()
	rep.Entities = c.Users + c.Requests + c.Assignments

	// A snapshot, a tail of commands after it, and a start from both.
	progress.report("snapshot", 0, 1)
	start = time.Now()
	info, err := replayed.WriteSnapshot(ctx, "")
	if err != nil {
		return nil, err
	}
	rep.SnapshotWrite = Rate{N: int(info.Bytes), Elapsed: time.Since(start)}
	for i := range 100 {
		if _, err := replayed.Execute(ctx, entitlement.SystemActor(), entitlement.SetUserAttribute{
			UserID: userID(cfg.Seed, i%cfg.Users), Name: "jobTitle", Value: fmt.Sprint("Title ", i)}); err != nil {
			return nil, err
		}
	}
	rep.Tail = int(replayed.Head() - info.Position)
	runtime.KeepAlive(replayed)
	replayed = nil
	heap()
	start = time.Now()
	fromSnap, err := entitlement.NewManager(ctx, store, entitlement.Options{Clock: clock})
	if err != nil {
		return nil, err
	}
	rep.SnapshotStart = Rate{N: fromSnap.Started().Replayed, Elapsed: time.Since(start)}
	if fromSnap.Started().Snapshot.Path == "" {
		return nil, errors.New("workload: the manager did not start from the snapshot")
	}
	if cfg.Projection {
		if rep.Projection, err = benchProjection(ctx, path, store, fromSnap, slots.t, slots, past, progress); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// userID returns the id Build gives the n-th user of a tenant of seed.
func userID(seed uint64, n int) string {
	t := &Tenant{Config: Config{Seed: seed}}
	return t.id("user", n)
}

// BuildOn opens a SQLite log at path and builds a tenant on it through a
// Manager with the tenant's clock.
func BuildOn(ctx context.Context, path string, cfg Config, progress ProgressFunc) (*sqlitestore.Store, *entitlement.Manager, *Tenant, error) {
	store, err := sqlitestore.Open(path, sqlitestore.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	clock := NewClock(Start)
	m, err := entitlement.NewManager(ctx, store, entitlement.Options{Clock: clock, IDs: entitlement.SeededIDs(cfg.Seed)})
	if err == nil {
		var t *Tenant
		if t, err = Build(ctx, m, clock, cfg, progress); err == nil {
			return store, m, t, nil
		}
	}
	store.Close()
	return nil, nil, nil, err
}

// heap returns the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// openPackages returns how many open packages a tenant of users needs so
// that every user can hold one (each takes MaxAssignmentsPerPackage), and
// a number prime to users, so that openSlots never repeats a pair.
func openPackages(users int) int {
	n := users/entitlement.MaxAssignmentsPerPackage*11/10 + 3
	for gcd(n, users) != 1 {
		n++
	}
	return n
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// openSlots hands out (user, open package) pairs that no earlier call
// handed out: slot s is user s mod users and package s mod packages, which
// repeats only after users × packages slots since the two are coprime.
type openSlots struct {
	t *Tenant
	n atomic.Int64
}

func (o *openSlots) next() (User, Package) {
	s := int(o.n.Add(1) - 1)
	return o.t.Users[s%len(o.t.Users)], o.t.Open[s%len(o.t.Open)]
}

// loop runs f n times on g goroutines and times it.
func loop(ctx context.Context, g, n int, f func(context.Context) error) (Rate, error) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for range g {
		wg.Go(func() {
			for int(next.Add(1)) <= n {
				if err := f(ctx); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return Rate{N: n, Elapsed: time.Since(start)}, first
}

// pendApprovals has up to n random users request a package whose policy
// needs approval, and returns the approvers of those requests, each once,
// and how many requests wait for them. A request refused (its user holds
// the package, or asked for it already) is skipped.
func pendApprovals(ctx context.Context, m *entitlement.Manager, t *Tenant, n int) ([]User, int, error) {
	var gated []Package
	for _, ps := range t.Packages {
		for _, p := range ps {
			if p.Stages > 0 {
				gated = append(gated, p)
			}
		}
	}
	if len(gated) == 0 {
		return nil, 0, nil
	}
	users := make(map[string]User, len(t.Users))
	for _, u := range t.Users {
		users[u.ID] = u
	}
	rnd := rand.New(rand.NewPCG(t.Config.Seed, 98))
	seen := map[string]bool{}
	var approvers []User
	pending := 0
	for range n {
		u, p := t.Users[rnd.IntN(len(t.Users))], gated[rnd.IntN(len(gated))]
		res, err := m.Execute(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
			AccessPackageID: p.ID, AssignmentPolicyID: p.PolicyID})
		var refused *entitlement.Error
		if errors.As(err, &refused) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		r, err := m.State().GetAssignmentRequest(t.Admin, res.ID)
		if err != nil {
			return nil, 0, err
		}
		if r.State != entitlement.RequestStatePendingApproval {
			continue
		}
		pending++
		for _, id := range r.Stages[len(r.Stages)-1].Approvers {
			if a, ok := users[id]; ok && !seen[id] {
				seen[id] = true
				approvers = append(approvers, a)
			}
		}
	}
	return approvers, pending, nil
}

// measureReads times the per-user reads on random users; "approvals
// waiting for me" on random approvers, if any are given.
func measureReads(m *entitlement.Manager, t *Tenant, approvers []User) map[string]Latency {
	rnd := rand.New(rand.NewPCG(t.Config.Seed, 99))
	reads := map[string]func(u User){
		"my assignments":           func(u User) { m.State().MyAssignments(u.Actor) },
		"my requests":              func(u User) { m.State().MyRequests(u.Actor) },
		"approvals waiting for me": func(u User) { m.State().ApprovalsForApprover(u.Actor) },
		"effective access":         func(u User) { m.State().EffectiveAccess(u.Actor, u.ID) },
	}
	out := map[string]Latency{}
	for name, f := range reads {
		from := t.Users
		if name == "approvals waiting for me" && len(approvers) > 0 {
			from = approvers
		}
		var ds []time.Duration
		for range 5000 {
			u := from[rnd.IntN(len(from))]
			s := time.Now()
			f(u)
			ds = append(ds, time.Since(s))
		}
		out[name] = latencyOf(ds)
	}
	return out
}

// expireAll fills the tenant with assignments up to the tenant limit (or
// one per user), then times the one ProcessDue that expires them all.
func expireAll(ctx context.Context, m *entitlement.Manager, t *Tenant, slots *openSlots, g int, progress ProgressFunc) (Rate, error) {
	if err := fill(ctx, m, t, slots, g, progress); err != nil {
		return Rate{}, err
	}
	return expire(ctx, m, t, progress)
}

// fill fills the tenant with assignments up to the tenant limit (or one
// per user), in waves that keep to the 90-day request limit.
func fill(ctx context.Context, m *entitlement.Manager, t *Tenant, slots *openSlots, g int, progress ProgressFunc) error {
	target := min(len(t.Users), entitlement.MaxAssignments)
	const wave = entitlement.MaxRequestsPerThreeMonths * 9 / 10
	first := true
	for {
		live := m.State().Counts().LiveAssignments
		n := min(target-live, wave)
		if n <= 0 {
			return nil
		}
		if !first {
			t.Clock.Advance(91 * 24 * time.Hour)
		}
		first = false
		progress.report("fill the tenant with assignments", live, target)
		if _, err := loop(ctx, g, n, func(ctx context.Context) error {
			u, p := slots.next()
			_, err := m.Execute(ctx, u.Actor, entitlement.CreateAssignmentRequest{RequestType: entitlement.RequestTypeUserAdd,
				AccessPackageID: p.ID, AssignmentPolicyID: p.PolicyID})
			var e *entitlement.Error
			if errors.As(err, &e) {
				return nil // a user whose turn comes twice for a package (only once users × packages slots are spent)
			}
			return err
		}); err != nil {
			return err
		}
	}
}

// expire moves the clock past every assignment's end and times the one
// ProcessDue that expires them all.
func expire(ctx context.Context, m *entitlement.Manager, t *Tenant, progress ProgressFunc) (Rate, error) {
	live := m.State().Counts().LiveAssignments
	t.Clock.Advance(400 * 24 * time.Hour)
	progress.report(fmt.Sprintf("ProcessDue expiring %d assignments", live), 0, 1)
	start := time.Now()
	if _, err := m.ProcessDue(ctx, t.Clock.Now()); err != nil {
		return Rate{}, err
	}
	elapsed := time.Since(start)
	if left := m.State().Counts().LiveAssignments; left != 0 {
		return Rate{}, fmt.Errorf("workload: %d assignments left after expiring them all", left)
	}
	return Rate{N: live, Elapsed: elapsed}, nil
}
