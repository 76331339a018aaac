package entitlement

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/oklog/ulid/v2"
)

// A snapshot file holds the State at a position of the log, so that a
// Manager starts by loading it and replaying only the events after it. It
// is text, one line per object:
//
//	accessledger-snapshot 2
//	{"position":…,"hash":"…","eventId":"…","createdAt":"…"}
//	user {…}
//	group {…}                 (with its members)
//	…                         (servicePrincipal, catalog, resource, resourceRequest,
//	                           accessPackage, policy, connectedOrganization,
//	                           roleAssignment, settings)
//	policyVersion {…}         (the versions requests were submitted under, numbered from 0)
//	request {"request":{…},"policyVersion":N}
//	assignment {…}
//	workflow {…}              (with its previous versions)
//	accessReview {…}          (with its lists of reviewers; then reviewItem, naming its list)
//	scheduledRun {…}, workflowResult {…}
//	command HASH FIRST LAST   (the command ids in the log, for repeated commands)
//	end SHA256
//
// The last line is the SHA-256 of everything before it, so that a
// truncated or damaged file is refused. A snapshot is used only if the
// log holds, at its position, the event with its hash and id, and if the
// events after it apply to its state: a snapshot of another log, or of a
// log rewritten since, is ignored and the log is replayed from the start.
// So is a snapshot of format 1, whose review items listed their reviewers
// each (see ReviewDecisionItem.ReviewerSet).
//
// The checksum is not a signature: whoever may write the snapshot file
// can make one whose state differs from the log's at that position, and
// the Manager would decide on that state. With Options.SnapshotKey, the
// last line is "end hmac-sha256 HMAC" instead, an HMAC-SHA256 under the
// key, and only a file sealed under it is used: then writing the file is
// not enough, one needs the key. Without a key, keep the file where only
// the embedding program writes (as the log), or start with NoSnapshot;
// CheckSnapshot compares a snapshot with the log.
const snapshotMagic = "accessledger-snapshot 2"

// snapshotHeader is the second line of a snapshot file.
type snapshotHeader struct {
	Position  eventstore.Position `json:"position"`
	Hash      eventstore.Hash     `json:"hash"`
	EventID   ulid.ULID           `json:"eventId"`
	CreatedAt time.Time           `json:"createdAt"`
}

// SnapshotInfo describes a snapshot written or loaded.
type SnapshotInfo struct {
	Path     string
	Position eventstore.Position
	Hash     eventstore.Hash
	Bytes    int64
}

// ErrSnapshotMismatch matches a snapshot that is not of the log: the log
// does not hold, at the snapshot's position, the event it was taken after.
var ErrSnapshotMismatch = errors.New("entitlement: the snapshot does not match the log")

// WriteSnapshot writes the State at the manager's head to path (empty:
// the manager's snapshot path, see Options.SnapshotPath), replacing any
// file there only once the new one is complete and synced. Commands go on
// meanwhile: the snapshot is of the state published when it starts.
func (m *Manager) WriteSnapshot(ctx context.Context, path string) (SnapshotInfo, error) {
	if path == "" {
		path = m.snapshotPath()
	}
	if path == "" {
		return SnapshotInfo{}, invalid("WriteSnapshot", "path", "is required: the store does not name its file and Options.SnapshotPath is empty")
	}
	m.mu.Lock()
	st, head, headID, hash := m.committed, m.head, m.headID, m.headHash
	cmds := make([]commandEntry, 0, len(m.commands))
	for k, r := range m.commands {
		cmds = append(cmds, commandEntry{k, r[0], r[1]})
	}
	m.mu.Unlock()
	slices.SortFunc(cmds, func(a, b commandEntry) int { return cmp.Compare(a.first, b.first) })
	hdr := snapshotHeader{Position: head, Hash: hash, EventID: headID, CreatedAt: time.Now().UTC()}
	n, err := writeSnapshotFile(path, m.opts.SnapshotKey, hdr, st, cmds)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("entitlement: write snapshot %s: %w", path, err)
	}
	return SnapshotInfo{Path: path, Position: head, Hash: hash, Bytes: n}, nil
}

type commandEntry struct {
	hash        uint64
	first, last eventstore.Position
}

// eventAt reads the event at position p.
func (m *Manager) eventAt(ctx context.Context, p eventstore.Position) (eventstore.Event, error) {
	for e, err := range m.store.ReadAll(ctx, p-1) {
		if err != nil {
			return eventstore.Event{}, err
		}
		if e.Position == p {
			return e, nil
		}
		break
	}
	return eventstore.Event{}, fmt.Errorf("entitlement: the log has no event at position %d", p)
}

// sealer returns the hash that seals a snapshot's content: HMAC-SHA256
// under key, or plain SHA-256 without one.
func sealer(key []byte) hash.Hash {
	if len(key) > 0 {
		return hmac.New(sha256.New, key)
	}
	return sha256.New()
}

// sealLine is a snapshot's last line for sum: "end HEX", or with a key
// "end hmac-sha256 HEX".
func sealLine(key, sum []byte) string {
	if len(key) > 0 {
		return "end hmac-sha256 " + hex.EncodeToString(sum)
	}
	return "end " + hex.EncodeToString(sum)
}

func writeSnapshotFile(path string, key []byte, hdr snapshotHeader, s *State, cmds []commandEntry) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	h := sealer(key)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	var n int64
	line := func(kind string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		k, _ := w.WriteString(kind)
		w.WriteByte(' ')
		w.Write(b)
		w.WriteByte('\n')
		n += int64(k + len(b) + 2)
		return nil
	}
	w.WriteString(snapshotMagic + "\n")
	hb, err := json.Marshal(hdr)
	if err != nil {
		return 0, err
	}
	w.Write(hb)
	w.WriteByte('\n')
	d := s.document()
	for _, err := range []error{
		writeLines(line, "user", d.Users),
		writeLines(line, "group", d.Groups),
		writeLines(line, "servicePrincipal", d.ServicePrincipals),
		writeLines(line, "catalog", d.Catalogs),
		writeLines(line, "resource", d.Resources),
		writeLines(line, "resourceRequest", d.ResourceRequests),
		writeLines(line, "accessPackage", d.AccessPackages),
		writeLines(line, "policy", d.Policies),
		writeLines(line, "connectedOrganization", d.ConnectedOrganizations),
		writeLines(line, "roleAssignment", d.RoleAssignments),
		writeLines(line, "policyVersion", d.PolicyVersions),
		writeLines(line, "settingsVersion", d.SettingsHistory),
		writeLines(line, "request", d.Requests),
		writeLines(line, "assignment", d.Assignments),
		writeLines(line, "workflow", d.Workflows),
		writeLines(line, "accessReview", d.Reviews),
		writeLines(line, "reviewItem", d.ReviewItems),
		writeLines(line, "scheduledRun", d.ScheduledRuns),
		writeLines(line, "workflowResult", d.WorkflowResults),
	} {
		if err != nil {
			return 0, err
		}
	}
	if d.Settings != nil {
		if err := line("settings", d.Settings); err != nil {
			return 0, err
		}
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "command %016x %d %d\n", c.hash, c.first, c.last)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintln(tmp, sealLine(key, h.Sum(nil))); err != nil {
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		return 0, err
	}
	st, err := tmp.Stat()
	if err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func writeLines[T any](line func(string, any) error, kind string, items []T) error {
	for _, it := range items {
		if err := line(kind, it); err != nil {
			return err
		}
	}
	return nil
}

// readSnapshot reads a snapshot file: its header, the State it holds and
// the command ids' positions. With a key, the file must be sealed under
// it; without one, it must not be sealed with a key. Lines are decoded on
// GOMAXPROCS goroutines.
func readSnapshot(path string, key []byte) (snapshotHeader, *State, map[uint64][2]eventstore.Position, error) {
	var hdr snapshotHeader
	data, err := os.ReadFile(path)
	if err != nil {
		return hdr, nil, nil, err
	}
	end := bytes.LastIndex(bytes.TrimRight(data, "\n"), []byte("\nend "))
	if end < 0 {
		return hdr, nil, nil, errors.New("no end line: the file is incomplete")
	}
	body, tail := data[:end+1], bytes.TrimSpace(data[end+1:])
	keyed := bytes.HasPrefix(tail, []byte("end hmac-sha256 "))
	switch {
	case keyed && len(key) == 0:
		return hdr, nil, nil, errors.New("the file is sealed with a key, and Options.SnapshotKey is not set")
	case !keyed && len(key) > 0:
		return hdr, nil, nil, errors.New("the file is not sealed with Options.SnapshotKey")
	}
	h := sealer(key)
	h.Write(body)
	if !hmac.Equal(tail, []byte(sealLine(key, h.Sum(nil)))) {
		if keyed {
			return hdr, nil, nil, errors.New("the file's seal does not match its content under Options.SnapshotKey")
		}
		return hdr, nil, nil, errors.New("the file's checksum does not match its content")
	}
	lines := bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
	if len(lines) < 2 || string(lines[0]) != snapshotMagic {
		return hdr, nil, nil, fmt.Errorf("not a snapshot of this format (want %q)", snapshotMagic)
	}
	if err := json.Unmarshal(lines[1], &hdr); err != nil {
		return hdr, nil, nil, fmt.Errorf("header: %w", err)
	}
	lines = lines[2:]
	doc := &stateDoc{}
	commands := map[uint64][2]eventstore.Position{}
	decoded := make([]any, len(lines))
	errs := make([]error, len(lines))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(lines); i += workers {
				decoded[i], errs[i] = decodeSnapshotLine(lines[i])
			}
		})
	}
	wg.Wait()
	for i, v := range decoded {
		if errs[i] != nil {
			return hdr, nil, nil, fmt.Errorf("line %d: %w", i+3, errs[i])
		}
		switch x := v.(type) {
		case *User:
			doc.Users = append(doc.Users, x)
		case *Group:
			doc.Groups = append(doc.Groups, x)
		case *ServicePrincipal:
			doc.ServicePrincipals = append(doc.ServicePrincipals, x)
		case *Catalog:
			doc.Catalogs = append(doc.Catalogs, x)
		case *Resource:
			doc.Resources = append(doc.Resources, x)
		case *ResourceRequest:
			doc.ResourceRequests = append(doc.ResourceRequests, x)
		case *AccessPackage:
			doc.AccessPackages = append(doc.AccessPackages, x)
		case *policyEntry:
			doc.Policies = append(doc.Policies, x)
		case *ConnectedOrganization:
			doc.ConnectedOrganizations = append(doc.ConnectedOrganizations, x)
		case *RoleAssignment:
			doc.RoleAssignments = append(doc.RoleAssignments, x)
		case *Settings:
			doc.Settings = x
		case *policyVersion:
			doc.PolicyVersions = append(doc.PolicyVersions, *x)
		case *settingsVersion:
			doc.SettingsHistory = append(doc.SettingsHistory, *x)
		case *requestDoc:
			doc.Requests = append(doc.Requests, *x)
		case *Assignment:
			doc.Assignments = append(doc.Assignments, x)
		case *workflowEntry:
			doc.Workflows = append(doc.Workflows, x)
		case *AccessReview:
			doc.Reviews = append(doc.Reviews, x)
		case *ReviewDecisionItem:
			doc.ReviewItems = append(doc.ReviewItems, x)
		case *ScheduledRun:
			doc.ScheduledRuns = append(doc.ScheduledRuns, x)
		case *UserProcessingResult:
			doc.WorkflowResults = append(doc.WorkflowResults, x)
		case commandEntry:
			commands[x.hash] = [2]eventstore.Position{x.first, x.last}
		}
	}
	s, err := stateOf(doc)
	return hdr, s, commands, err
}

// snapshotKinds makes the value a snapshot line of a kind decodes into.
var snapshotKinds = map[string]func() any{
	"user": func() any { return new(User) }, "group": func() any { return new(Group) },
	"servicePrincipal": func() any { return new(ServicePrincipal) }, "catalog": func() any { return new(Catalog) },
	"resource": func() any { return new(Resource) }, "resourceRequest": func() any { return new(ResourceRequest) },
	"accessPackage": func() any { return new(AccessPackage) }, "policy": func() any { return new(policyEntry) },
	"connectedOrganization": func() any { return new(ConnectedOrganization) },
	"roleAssignment":        func() any { return new(RoleAssignment) }, "settings": func() any { return new(Settings) },
	"policyVersion": func() any { return new(policyVersion) }, "request": func() any { return new(requestDoc) },
	"settingsVersion": func() any { return new(settingsVersion) },
	"assignment":      func() any { return new(Assignment) },
	"workflow":        func() any { return new(workflowEntry) }, "scheduledRun": func() any { return new(ScheduledRun) },
	"workflowResult": func() any { return new(UserProcessingResult) },
	"accessReview":   func() any { return new(AccessReview) }, "reviewItem": func() any { return new(ReviewDecisionItem) },
}

func decodeSnapshotLine(line []byte) (any, error) {
	kind, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return nil, errors.New("no kind")
	}
	if string(kind) == "command" {
		f := bytes.Fields(rest)
		if len(f) != 3 {
			return nil, errors.New("command: want hash, first and last position")
		}
		h, err1 := strconv.ParseUint(string(f[0]), 16, 64)
		first, err2 := strconv.ParseUint(string(f[1]), 10, 64)
		last, err3 := strconv.ParseUint(string(f[2]), 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("command: %w", err)
		}
		return commandEntry{h, eventstore.Position(first), eventstore.Position(last)}, nil
	}
	mk, ok := snapshotKinds[string(kind)]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	v := mk()
	if err := jsonv2.Unmarshal(rest, v); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return v, nil
}

// loadSnapshot starts the manager from its snapshot file, if there is one
// that matches the log. A snapshot that cannot be read or does not match
// is logged and ignored, and the reason returned. The caller holds m.mu
// and owns m exclusively.
func (m *Manager) loadSnapshot(ctx context.Context) (SnapshotInfo, error) {
	path := m.snapshotPath()
	if path == "" || m.opts.NoSnapshot {
		return SnapshotInfo{}, nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return SnapshotInfo{}, nil
	}
	if err != nil {
		m.opts.Logger.WarnContext(ctx, "snapshot ignored; replaying the whole log", "path", path, "error", err)
		return SnapshotInfo{}, fmt.Errorf("entitlement: snapshot %s ignored: %w", path, err)
	}
	hdr, st, commands, err := readSnapshot(path, m.opts.SnapshotKey)
	if err == nil {
		err = m.matches(ctx, hdr)
	}
	if err != nil {
		m.opts.Logger.WarnContext(ctx, "snapshot ignored; replaying the whole log", "path", path, "error", err)
		return SnapshotInfo{}, fmt.Errorf("entitlement: snapshot %s ignored: %w", path, err)
	}
	m.committed = st.snapshot()
	m.head, m.headID, m.headHash, m.commands = hdr.Position, hdr.EventID, hdr.Hash, commands
	m.spec = m.committed.Clone()
	m.specHead, m.specID = m.head, m.headID
	m.published.Store(m.committed)
	return SnapshotInfo{Path: path, Position: hdr.Position, Hash: hdr.Hash, Bytes: fi.Size()}, nil
}

// matches checks that the log holds, at the snapshot's position, the event
// the snapshot was taken after.
func (m *Manager) matches(ctx context.Context, hdr snapshotHeader) error {
	if hdr.Position == 0 {
		// Of an empty log, whose state there is no reason to load, and
		// nothing in the log to check it against.
		return fmt.Errorf("%w: it claims to be of an empty log", ErrSnapshotMismatch)
	}
	e, err := m.eventAt(ctx, hdr.Position)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshotMismatch, err)
	}
	if e.Hash != hdr.Hash || e.ID != hdr.EventID {
		return fmt.Errorf("%w: at position %d the log has event %s with hash %s, the snapshot was taken after %s with hash %s",
			ErrSnapshotMismatch, hdr.Position, e.ID, e.Hash, hdr.EventID, hdr.Hash)
	}
	return nil
}

// pathNamer is implemented by stores that keep the log in a file of their
// own (sqlitestore), beside which the snapshot goes by default.
type pathNamer interface{ Path() string }

// snapshotPath returns where the manager's snapshot file is: the option,
// or the store's file with ".snapshot" added.
func (m *Manager) snapshotPath() string {
	if m.opts.SnapshotPath != "" {
		return m.opts.SnapshotPath
	}
	if p, ok := m.store.(pathNamer); ok && p.Path() != "" {
		return p.Path() + ".snapshot"
	}
	return ""
}

// CheckSnapshot checks the snapshot file at path (empty: the manager's
// snapshot path) against the log: the log holds, at the snapshot's
// position, the event it names, and replaying the log up to there gives
// the snapshot's state and command ids, object for object. It reads the
// log from the start, so it costs a replay; NewManager checks only the
// first part (see the snapshot format above). A snapshot that differs
// gives an error matching ErrSnapshotMismatch that names what differs.
func (m *Manager) CheckSnapshot(ctx context.Context, path string) error {
	if path == "" {
		path = m.snapshotPath()
	}
	hdr, got, commands, err := readSnapshot(path, m.opts.SnapshotKey)
	if err != nil {
		return fmt.Errorf("entitlement: snapshot %s: %w", path, err)
	}
	if err := m.matches(ctx, hdr); err != nil {
		return fmt.Errorf("entitlement: snapshot %s: %w", path, err)
	}
	// A Manager of its own replays the log up to the position, so that
	// nothing of m is touched.
	r := &Manager{store: m.store, opts: m.opts, commands: map[uint64][2]eventstore.Position{}}
	want := NewState()
	for e, err := range r.decodedLog(ctx, eventstore.Head{}) {
		if err != nil {
			return err
		}
		if e.position > hdr.Position {
			break
		}
		if err := want.Apply(e.Event); err != nil {
			return fmt.Errorf("entitlement: check snapshot: replay position %d: %w", e.position, err)
		}
		r.remember(e.commandID, e.position)
	}
	var differ []string
	wantDoc, gotDoc := docMembers(want), docMembers(got)
	for k, w := range wantDoc {
		if !bytes.Equal(w, gotDoc[k]) {
			differ = append(differ, k)
		}
	}
	for k := range gotDoc {
		if _, ok := wantDoc[k]; !ok {
			differ = append(differ, k)
		}
	}
	if !maps.Equal(r.commands, commands) {
		differ = append(differ, "command ids")
	}
	if len(differ) > 0 {
		slices.Sort(differ)
		return fmt.Errorf("entitlement: snapshot %s: %w: its state at position %d is not the log's: %s differ",
			path, ErrSnapshotMismatch, hdr.Position, strings.Join(differ, ", "))
	}
	return nil
}

// docMembers returns the members of s's document, each as JSON, by name.
func docMembers(s *State) map[string]json.RawMessage {
	b, err := json.Marshal(s.document())
	if err != nil {
		return map[string]json.RawMessage{"(unencodable)": []byte(err.Error())}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return map[string]json.RawMessage{"(undecodable)": []byte(err.Error())}
	}
	return raw
}
