package report

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/projection"
)

// The names an archive gives its fixed members; docs/archive-format.md
// specifies them.
const (
	ArchiveFormat = "accessledger-archive/1"
	EventsFile    = "events.ndjson"
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.json.sig"
)

// Manifest is an archive's table of contents: what it covers, the hash
// chain at both ends of its events, and the size and SHA-256 of every
// other file.
type Manifest struct {
	Format          string    `json:"format"`
	Tool            string    `json:"tool"`
	CreatedDateTime time.Time `json:"createdDateTime"`
	// Since and Until are the recorded-time range asked for, if any.
	Since *time.Time `json:"since,omitempty"`
	Until *time.Time `json:"until,omitempty"`
	// Start is the head before the archive's first event: the position
	// and hash its first event's prevHash names (zero for a log's start).
	Start ChainPoint `json:"start"`
	// Head is the archive's last event.
	Head ChainPoint `json:"head"`
	// Events is how many events events.ndjson holds:
	// Head.Position - Start.Position.
	Events uint64     `json:"events"`
	Files  []FileHash `json:"files"`
}

// ChainPoint is a position of the log and the hash of its event.
type ChainPoint struct {
	Position uint64 `json:"position"`
	Hash     string `json:"hash"`
}

// FileHash is one file of an archive, with its size and SHA-256.
type FileHash struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ArchiveOptions says what an archive holds.
type ArchiveOptions struct {
	// Since and Until bound the events archived by the time the log
	// recorded them: from the first event recorded at or after Since to
	// the last one recorded before Until, with every event in between.
	// Zero means unbounded.
	Since, Until time.Time
	// Reports are the reports the archive holds; nil means every one
	// (catalogs, connected organizations, conflicts, requests, the audit
	// log, the assignments of every access package, and the access
	// packages and resource roles of UserIDs). A non-nil empty slice
	// archives the events alone, and then no projection is needed.
	Reports []Kind
	// UserIDs are the users whose access packages and resource roles the
	// archive reports on; the other reports cover everyone.
	UserIDs []string
	// Formats are the formats of every report; default all.
	Formats []Format
	// SignKey, if set, signs the manifest (manifest.json.sig).
	SignKey ed25519.PrivateKey
	// Tool names the program that made the archive; default "accessledger".
	Tool string
	// CreatedAt is the archive's creation time; default time.Now.
	CreatedAt time.Time
	// TempDir holds the events while their size is unknown; default
	// os.TempDir.
	TempDir string
}

// Check reports, with an error that matches ErrInvalid, options that
// WriteArchive refuses before reading anything: a range that ends before
// it starts, an unknown format or report, the why report (it explains one
// role of one user), reports per user asked by name without UserIDs,
// which would be an archive without the reports asked for, users named
// with no report per user among those asked for, a report,
// format or user named twice (its file would be in the archive twice),
// and a user id that cannot name a file (it names the user's reports).
func (opts ArchiveOptions) Check() error {
	if !opts.Since.IsZero() && !opts.Until.IsZero() && !opts.Since.Before(opts.Until) {
		return invalid("the range is empty: it ends before or when it starts, and its end is exclusive")
	}
	for _, twice := range []struct {
		what  string
		names []string
	}{
		{"report", kindNames(opts.Reports)},
		{"format", kindNames(opts.Formats)},
		{"user", opts.UserIDs},
	} {
		seen := make(map[string]bool, len(twice.names))
		for _, n := range twice.names {
			if seen[n] {
				return invalid("the %s %q is named twice", twice.what, n)
			}
			seen[n] = true
		}
	}
	for _, u := range opts.UserIDs {
		if u == "" || u == "." || u == ".." || strings.ContainsAny(u, "/\\") || strings.IndexFunc(u, unicode.IsControl) >= 0 {
			return invalid("the user id %q cannot name the user's reports in the archive", u)
		}
	}
	for _, f := range opts.Formats {
		if _, err := ParseFormat(string(f)); err != nil {
			return err
		}
	}
	for _, k := range opts.Reports {
		if k == Why {
			return invalid("an archive holds no why report: it explains one role of one user")
		}
		if _, err := ParseKind(string(k)); err != nil {
			return err
		}
		if (k == AccessPackages || k == Resources) && len(opts.UserIDs) == 0 {
			return invalid("the %s report is per user, and no user is named", k)
		}
	}
	if len(opts.UserIDs) > 0 && opts.Reports != nil && !slices.Contains(opts.Reports, AccessPackages) && !slices.Contains(opts.Reports, Resources) {
		return invalid("users are named, and no report asked for is per user (%s, %s)", AccessPackages, Resources)
	}
	return nil
}

func kindNames[T ~string](ks []T) []string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	return names
}

// ErrArchive matches the errors of VerifyArchive: an archive that does
// not prove what its manifest says. The error is an *ArchiveError.
var ErrArchive = errors.New("report: the archive does not verify")

// ArchiveError names what in an archive failed to verify: a file, or an
// event by its log position.
type ArchiveError struct {
	File     string
	Position eventstore.Position // of an event; 0 if the failure is not one event's
	Reason   string
}

func (e *ArchiveError) Error() string {
	switch {
	case e.Position > 0 && e.File != "":
		return fmt.Sprintf("%v: %s: event at position %d: %s", ErrArchive, e.File, e.Position, e.Reason)
	case e.Position > 0: // the live log's
		return fmt.Sprintf("%v: event at position %d: %s", ErrArchive, e.Position, e.Reason)
	case e.File != "":
		return fmt.Sprintf("%v: %s: %s", ErrArchive, e.File, e.Reason)
	}
	return fmt.Sprintf("%v: %s", ErrArchive, e.Reason)
}

// Is makes errors.Is(err, ErrArchive) hold.
func (e *ArchiveError) Is(target error) bool { return target == ErrArchive }

// Log is the event log an archive is made from and checked against:
// eventstore.Store satisfies it.
type Log interface {
	ReadAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Event, error]
}

// WriteArchive writes to w one .tar.gz holding the events of the range as
// NDJSON (each line the canonical JSON of an event with its hash, as
// accessledger events prints it), every report of the range as known at
// the range's last event, and the manifest, signed if opts.SignKey is set.
// p must be a projection of log; it is caught up to the range's end. It
// may be nil when opts.Reports is empty. The reports say what p says: the
// events' hashes do not cover a projection file someone edited, so for
// evidence give a projection rebuilt from the log (Projector.Rebuild, as
// accessledger archive does), or one only this program writes.
func WriteArchive(ctx context.Context, w io.Writer, log Log, p *projection.Projector, opts ArchiveOptions) (Manifest, error) {
	if err := opts.Check(); err != nil {
		return Manifest{}, err
	}
	formats := opts.Formats
	if len(formats) == 0 {
		formats = Formats
	}
	reports := opts.Reports
	if reports == nil {
		reports = []Kind{Catalogs, ConnectedOrganizations, Conflicts, Requests, Audit, Assignments, AccessPackages, Resources}
	}
	if len(reports) > 0 && p == nil {
		return Manifest{}, invalid("reports need a projection")
	}
	created := opts.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	m := Manifest{Format: ArchiveFormat, Tool: cmpOr(opts.Tool, "accessledger"), CreatedDateTime: created.UTC(),
		Since: timePtr(opts.Since), Until: timePtr(opts.Until)}

	tmp, err := os.CreateTemp(opts.TempDir, "accessledger-archive-*.ndjson")
	if err != nil {
		return m, fmt.Errorf("report: archive: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	start, head, n, err := writeEvents(ctx, tmp, log, opts.Since, opts.Until)
	if err != nil {
		return m, err
	}
	if n == 0 {
		return m, invalid("the log recorded no events in the range")
	}
	m.Start = ChainPoint{uint64(start.Position), start.Hash.String()}
	m.Head = ChainPoint{uint64(head.Position), head.Hash.String()}
	m.Events = n
	if len(reports) > 0 {
		if _, err := p.CatchUpTo(ctx, head.Position); err != nil {
			return m, err
		}
	}

	// BestSpeed: at the default level, compressing is the slowest step of
	// archiving a large log (69,000 events/s here against 106,000), for an
	// archive only a sixth smaller.
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	add := func(name string, size int64, r io.Reader) error {
		h := sha256.New()
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: m.CreatedDateTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("report: archive %s: %w", name, err)
		}
		if _, err := io.Copy(io.MultiWriter(tw, h), r); err != nil {
			return fmt.Errorf("report: archive %s: %w", name, err)
		}
		if name != ManifestFile && name != SignatureFile {
			m.Files = append(m.Files, FileHash{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
		}
		return nil
	}
	size, err := tmp.Seek(0, io.SeekEnd)
	if err != nil {
		return m, fmt.Errorf("report: archive: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return m, fmt.Errorf("report: archive: %w", err)
	}
	if err := add(EventsFile, size, bufio.NewReaderSize(tmp, 1<<20)); err != nil {
		return m, err
	}
	for name, r := range archiveReports(ctx, p, reports, opts, start.Position, head.Position, &err) {
		for _, f := range formats {
			var buf bytes.Buffer
			if err := r.Write(&buf, f); err != nil {
				return m, err
			}
			if err := add(name+"."+string(f), int64(buf.Len()), &buf); err != nil {
				return m, err
			}
		}
	}
	if err != nil {
		return m, err
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, fmt.Errorf("report: archive: %w", err)
	}
	manifest = append(manifest, '\n')
	if err := add(ManifestFile, int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return m, err
	}
	if opts.SignKey != nil {
		sig := []byte(hex.EncodeToString(ed25519.Sign(opts.SignKey, manifest)) + "\n")
		if err := add(SignatureFile, int64(len(sig)), bytes.NewReader(sig)); err != nil {
			return m, err
		}
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("report: archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return m, fmt.Errorf("report: archive: %w", err)
	}
	return m, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeEvents writes the events of the recorded-time range as NDJSON and
// returns the head before the first, the last, and how many. It verifies
// the log's chain from its first event as it reads: an archive of a
// damaged log would be signed evidence of events the log cannot prove, so
// a break is an error that wraps the *eventstore.ChainError.
func writeEvents(ctx context.Context, w io.Writer, log Log, since, until time.Time) (start, head eventstore.Head, n uint64, err error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	for e, err := range eventstore.Verified(log.ReadAll(ctx, 0), eventstore.Head{}) {
		if errors.Is(err, eventstore.ErrChain) {
			return start, head, n, fmt.Errorf("report: archive: the log does not verify: %w", err)
		}
		if err != nil {
			return start, head, n, fmt.Errorf("report: archive: read the log: %w", err)
		}
		if !until.IsZero() && !e.RecordedAt.Before(until) {
			break
		}
		if n == 0 && !since.IsZero() && e.RecordedAt.Before(since) {
			start = eventstore.Head{Position: e.Position, Hash: e.Hash}
			continue
		}
		b, err := e.MarshalJSON()
		if err != nil {
			return start, head, n, fmt.Errorf("report: archive: %w", err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
		head = eventstore.Head{Position: e.Position, Hash: e.Hash}
		n++
	}
	if err := bw.Flush(); err != nil {
		return start, head, n, fmt.Errorf("report: archive: %w", err)
	}
	return start, head, n, nil
}

// archiveReports yields the reports an archive holds, each under its file
// name without the format's extension, as known at the range's head. The
// first error stops it and is left in *errp.
func archiveReports(ctx context.Context, p *projection.Projector, kinds []Kind, opts ArchiveOptions, start, head eventstore.Position, errp *error) iter.Seq2[string, *Report] {
	return func(yield func(string, *Report) bool) {
		// The requests and the audit log are those of the archived
		// events, by position: a fact recorded after the range's end
		// but valid before it (an expiry ProcessDue recorded late) is in
		// the next archive's. The other reports are about time.
		q := Query{As: projection.As{KnownAt: head}, Since: opts.Since, Until: opts.Until}
		recorded := Query{As: q.As, RecordedAfter: start}
		want := func(k Kind) bool { return slices.Contains(kinds, k) }
		build := func(name string, k Kind, q Query) bool {
			r, err := Build(ctx, p, k, narrow(k, q))
			if err != nil {
				*errp = fmt.Errorf("report: archive %s: %w", name, err)
				return false
			}
			return yield(name, r)
		}
		for _, k := range []Kind{Catalogs, ConnectedOrganizations, Conflicts} {
			if want(k) && !build("reports/"+string(k), k, q) {
				return
			}
		}
		for _, k := range []Kind{Requests, Audit} {
			if want(k) && !build("reports/"+string(k), k, recorded) {
				return
			}
		}
		if want(Assignments) {
			pkgs, err := p.AccessPackages(ctx, "", projection.As{KnownAt: head})
			if err != nil {
				*errp = err
				return
			}
			for _, pkg := range pkgs {
				pq := q
				pq.PackageID = pkg.ID
				if !build("reports/assignments/"+pkg.ID, Assignments, pq) {
					return
				}
			}
		}
		for _, u := range opts.UserIDs {
			uq := q
			uq.UserID = u
			uq.Since, uq.Until = time.Time{}, time.Time{} // what the user holds at the range's end
			if want(AccessPackages) && !build("reports/access-packages/"+u, AccessPackages, uq) ||
				want(Resources) && !build("reports/resources/"+u, Resources, uq) {
				return
			}
		}
	}
}

// VerifyOptions says what VerifyArchive checks beyond the archive itself.
type VerifyOptions struct {
	// PublicKey, if set, must have signed the manifest.
	PublicKey ed25519.PublicKey
	// Log, if set, must still hold the archive's start and head at their
	// positions, and its chain must verify up to the head: a log
	// truncated, rewritten or changed in place since is detected.
	Log Log
}

// VerifyArchive reads an archive and checks that it proves what its
// manifest says: every file the manifest lists is there with its size and
// SHA-256 and no other file is; nothing follows the archive's end; the
// events re-hash, in order and without gaps, from the manifest's start
// (the log's beginning for a first event at position 1) to its head; the
// signature, if a public
// key is given; and, if a log is given, that the log still holds the
// archive's start and head and that its chain verifies up to the head. It
// returns the manifest, and an *ArchiveError
// (matching ErrArchive) naming the file or the event position that fails.
func VerifyArchive(ctx context.Context, r io.Reader, opts VerifyOptions) (Manifest, error) {
	var m Manifest
	fail := func(file string, pos eventstore.Position, format string, args ...any) (Manifest, error) {
		return m, &ArchiveError{File: file, Position: pos, Reason: fmt.Sprintf(format, args...)}
	}
	// One gzip member, read to its end (its checksum and length are
	// checked there), and nothing after it: bytes appended to an archive
	// would otherwise go unverified, and tar extracts a second member's
	// files over the first's.
	br := bufio.NewReader(r)
	gz, err := gzip.NewReader(br)
	if err != nil {
		return fail("", 0, "not a gzip stream: %v", err)
	}
	gz.Multistream(false)
	tr := tar.NewReader(gz)
	found := map[string]FileHash{}
	var order []string
	var manifest, sig []byte
	var chain eventChain
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fail("", 0, "the archive is cut short")
		}
		if err != nil {
			return fail("", 0, "not a tar archive: %v", err)
		}
		name := hdr.Name
		switch {
		case hdr.Typeflag != tar.TypeReg:
			return fail(name, 0, "is not a regular file")
		case name != path.Clean(name) || path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../"):
			return fail(name, 0, "is not a clean relative name")
		case slices.Contains(order, name):
			return fail(name, 0, "is in the archive twice")
		}
		order = append(order, name)
		h := sha256.New()
		var body io.Reader = io.TeeReader(tr, h)
		switch name {
		case ManifestFile:
			manifest, err = io.ReadAll(body)
		case SignatureFile:
			sig, err = io.ReadAll(body)
		case EventsFile:
			err = chain.read(ctx, body)
		default:
			_, err = io.Copy(io.Discard, body)
		}
		if ae := (*ArchiveError)(nil); errors.As(err, &ae) {
			ae.File = name
			return m, ae
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(name, 0, "the archive is cut short")
		}
		if err != nil {
			return fail(name, 0, "cannot be read: %v", err)
		}
		found[name] = FileHash{Name: name, Size: hdr.Size, SHA256: hex.EncodeToString(h.Sum(nil))}
	}
	if err := readEnd(gz, br); err != nil {
		return fail("", 0, "%v", err)
	}
	if manifest == nil {
		return fail(ManifestFile, 0, "is missing")
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fail(ManifestFile, 0, "is not valid JSON: %v", err)
	}
	if m.Format != ArchiveFormat {
		return fail(ManifestFile, 0, "format %q is not %q", m.Format, ArchiveFormat)
	}
	if opts.PublicKey != nil {
		if sig == nil {
			return fail(SignatureFile, 0, "is missing: the archive is not signed")
		}
		raw, err := hex.DecodeString(strings.TrimSpace(string(sig)))
		if err != nil || len(raw) != ed25519.SignatureSize {
			return fail(SignatureFile, 0, "is not a hex Ed25519 signature")
		}
		if !ed25519.Verify(opts.PublicKey, manifest, raw) {
			return fail(SignatureFile, 0, "does not verify with the public key: the manifest was changed or signed with another key")
		}
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Name] = true
		got, ok := found[f.Name]
		switch {
		case !ok:
			return fail(f.Name, 0, "is listed in the manifest but missing from the archive")
		case got.Size != f.Size:
			return fail(f.Name, 0, "has %d bytes, the manifest says %d", got.Size, f.Size)
		case got.SHA256 != f.SHA256:
			return fail(f.Name, 0, "has SHA-256 %s, the manifest says %s", got.SHA256, f.SHA256)
		}
	}
	for _, name := range order {
		if !listed[name] && name != ManifestFile && name != SignatureFile {
			return fail(name, 0, "is in the archive but not in the manifest")
		}
	}
	if !listed[EventsFile] {
		return fail(EventsFile, 0, "is not listed in the manifest")
	}
	if err := chain.check(m); err != nil {
		return m, err
	}
	if opts.Log != nil {
		if err := checkLog(ctx, opts.Log, m); err != nil {
			return m, err
		}
	}
	return m, nil
}

// readEnd reads what follows the tar archive's end: zero blocks to the end
// of the gzip member, which must be whole, and then the end of the file.
func readEnd(gz *gzip.Reader, after *bufio.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := gz.Read(buf)
		if slices.ContainsFunc(buf[:n], func(b byte) bool { return b != 0 }) {
			return errors.New("data follows the end of the tar archive")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("the gzip stream is cut short or damaged: %w", err)
		}
	}
	if _, err := after.ReadByte(); err != io.EOF {
		return errors.New("data follows the end of the gzip stream")
	}
	return nil
}

// eventChain is what the events of an archive prove: the head they start
// after and the head they reach, each event re-hashed from the one before.
type eventChain struct {
	start, head eventstore.Head
	n           uint64
}

// read re-hashes the NDJSON events, each from the one before. The first
// event names the start (its position less one and its prevHash), which
// check compares with the manifest.
func (c *eventChain) read(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var chain *eventstore.Chain
	// A stream cut short ends in part of a line, which the scanner hands
	// over before the read error: that error, not the line, is the cause.
	cut := func(err error) error {
		if !sc.Scan() && sc.Err() != nil {
			return &ArchiveError{Reason: fmt.Sprintf("the archive is cut short (%v)", sc.Err())}
		}
		return err
	}
	for line := 1; sc.Scan(); line++ {
		if chain == nil {
			var first eventstore.Event
			if err := json.Unmarshal(sc.Bytes(), &first); err != nil {
				return cut(&ArchiveError{Reason: fmt.Sprintf("line 1 is not an event: %v", err)})
			}
			switch {
			case first.Position == 0:
				return &ArchiveError{Reason: "line 1 has position 0"}
			case first.Position == 1 && first.PrevHash != (eventstore.Hash{}):
				return &ArchiveError{Position: 1, Reason: "the log's first event has a prevHash that is not zero"}
			}
			c.start = eventstore.Head{Position: first.Position - 1, Hash: first.PrevHash}
			chain = eventstore.NewChain(c.start)
		}
		if err := chain.AddLine(sc.Bytes()); err != nil {
			if ce := (*eventstore.ChainError)(nil); errors.As(err, &ce) {
				return cut(&ArchiveError{Position: ce.Position, Reason: ce.Reason})
			}
			return cut(&ArchiveError{Position: chain.Head().Position + 1, Reason: fmt.Sprintf("line %d is not an event: %v", line, err)})
		}
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if chain != nil {
		c.head = chain.Head()
		c.n = uint64(c.head.Position - c.start.Position)
	}
	return nil
}

// check compares the chain the events prove with the manifest's.
func (c *eventChain) check(m Manifest) error {
	fail := func(pos eventstore.Position, format string, args ...any) error {
		return &ArchiveError{File: EventsFile, Position: pos, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case c.n == 0:
		return fail(0, "holds no events")
	case uint64(c.start.Position) != m.Start.Position || c.start.Hash.String() != m.Start.Hash:
		return fail(c.start.Position+1, "follows position %d hash %s, the manifest's start is position %d hash %s",
			c.start.Position, c.start.Hash, m.Start.Position, m.Start.Hash)
	case uint64(c.head.Position) != m.Head.Position || c.head.Hash.String() != m.Head.Hash:
		return fail(c.head.Position, "ends at position %d hash %s, the manifest's head is position %d hash %s",
			c.head.Position, c.head.Hash, m.Head.Position, m.Head.Hash)
	case c.n != m.Events:
		return fail(0, "holds %d events, the manifest says %d", c.n, m.Events)
	}
	return nil
}

// checkLog checks that the live log still holds the archive's start and
// head at their positions, and that its chain verifies from its first
// event to the archive's head: a log whose events were changed in place
// (their hashes kept) fails here.
func checkLog(ctx context.Context, log Log, m Manifest) error {
	for _, point := range []ChainPoint{m.Start, m.Head} {
		hash, err := eventstore.ParseHash(point.Hash)
		if err != nil {
			return &ArchiveError{File: ManifestFile, Reason: fmt.Sprintf("hash %q: %v", point.Hash, err)}
		}
		err = eventstore.CheckHead(ctx, log.ReadAll, eventstore.Head{Position: eventstore.Position(point.Position), Hash: hash})
		if ce := (*eventstore.ChainError)(nil); errors.As(err, &ce) {
			return &ArchiveError{Position: ce.Position, Reason: "the live log does not hold the archive's event: " + ce.Reason}
		}
		if err != nil {
			return fmt.Errorf("report: read the log: %w", err)
		}
	}
	head := eventstore.Position(m.Head.Position)
	for e, err := range eventstore.Verified(log.ReadAll(ctx, 0), eventstore.Head{}) {
		if err != nil && !errors.Is(err, eventstore.ErrChain) {
			return fmt.Errorf("report: read the log: %w", err)
		}
		if e.Position > head {
			break
		}
		if ce := (*eventstore.ChainError)(nil); errors.As(err, &ce) {
			return &ArchiveError{Position: ce.Position, Reason: "the live log does not verify: " + ce.Reason}
		}
	}
	return nil
}
