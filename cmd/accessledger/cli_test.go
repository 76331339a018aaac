package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/accessledger/accessledger/entitlement"
	"github.com/accessledger/accessledger/eventstore/sqlitestore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportCommand(t *testing.T) {
	db := demoLog(t)
	// By display name or by id, the same report.
	code, byName, errOut := runCLI(t, "report", "access-packages", "--db", db, "--user", "Anna Adams")
	require.Equal(t, 0, code, errOut)
	code, byID, errOut := runCLI(t, "report", "access-packages", "--db", db, "--user", "a0000000-0000-4000-8000-000000000006")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, byName, byID)
	rows, err := csv.NewReader(strings.NewReader(byName)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3, "a header and Anna's two packages")

	// As of an instant, as known at a position, and for a range.
	code, asOf, errOut := runCLI(t, "report", "assignments", "--db", db, "--package", "Sales tools", "--as-of", "2026-04-02T15:00:00Z")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, asOf, "Anna Adams", "her assignment had expired by then")
	code, known, errOut := runCLI(t, "report", "assignments", "--db", db, "--package", "Sales tools", "--as-of", "2026-04-02T15:00:00Z",
		"--as-known-at", "88")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, known, "Anna Adams", "before ProcessDue recorded the expiry, the system believed she held it")
	code, ranged, errOut := runCLI(t, "report", "requests", "--db", db, "--since", "2026-03-18", "--until", "2026-03-20", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Value []map[string]any `json:"value"`
	}
	require.NoError(t, json.Unmarshal([]byte(ranged), &doc))
	require.Len(t, doc.Value, 3, "the systemRemove of Dave's Expenses on the 18th, when his grace period ended, "+
		"Ben's request of the 18th and Dave's direct assignment of the 19th")

	// HTML to a file.
	out := filepath.Join(t.TempDir(), "audit.html")
	code, _, errOut = runCLI(t, "report", "audit", "--db", db, "--format", "html", "--out", out)
	require.Equal(t, 0, code, errOut)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	code, _, errOut = runCLI(t, "report", "catalogs", "--db", db, "--out", out)
	assert.Equal(t, 2, code, "an existing --out is not overwritten: %s", errOut)
	again, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, written, again)
	html, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(html, []byte("<!DOCTYPE html>")))

	for _, args := range [][]string{
		{"report"},
		{"report", "payroll", "--db", db},
		{"report", "assignments", "--db", db},
		{"report", "catalogs", "--db", db, "--format", "pdf"},
		{"report", "catalogs", "--db", db, "--as-of", "yesterday"},
		{"report", "catalogs", "--db", db, "--as-known-at", "0"},
		{"report", "catalogs", "--db", db, "--as-of", "0001-01-01"}, // would be read as no flag (review)
		{"report", "catalogs", "--db", db, "--as-of", "2300-01-01"},
		{"report", "catalogs", "--db", db, "--as-known-at", "last"},
		{"report", "catalogs", "--db", db, "--role", "Owner"},
		{"report", "catalogs", "--db", db, "--resource", "Sales"},
	} {
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%q: %s", args, errOut)
	}
	for kind, flag := range map[string]string{"assignments": "--package", "resources": "--user"} {
		code, _, errOut := runCLI(t, "report", kind, "--db", db)
		assert.Equal(t, 2, code, errOut)
		assert.Contains(t, errOut, "the "+kind+" report needs "+flag, "the message names the flag")
	}
	code, _, errOut = runCLI(t, "report", "access-packages", "--db", db, "--user", "Nobody")
	assert.Equal(t, 2, code, "a name nobody has is a usage error")
	assert.Contains(t, errOut, `no user is named "Nobody"`)

	// An id is taken whatever its case (found by a review: an upper-case id
	// matched nothing, and the report was empty), and one the log never
	// knew is refused as a name nobody has is.
	code, byName, errOut = runCLI(t, "report", "access-packages", "--db", db, "--user", "Anna Adams")
	require.Equal(t, 0, code, errOut)
	code, byID, errOut = runCLI(t, "report", "access-packages", "--db", db, "--user", "A0000000-0000-4000-8000-000000000006")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, byName, byID)
	assert.Contains(t, byID, "Sales tools")
	for _, args := range [][]string{{"report", "access-packages", "--user", "a0000000-0000-4000-8000-0000000000ff"},
		{"report", "assignments", "--package", "a0000000-0000-4000-8000-0000000000ff"},
		{"why", "--user", "a0000000-0000-4000-8000-0000000000ff", "--resource", "Sales team"}} {
		code, _, errOut = runCLI(t, append(args, "--db", db)...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, errOut, "the log has no", args)
	}
	// An id the embedding program gave in upper case is kept so, and
	// named as it is (review: only its lower case was looked up).
	upper := "B0000000-0000-4000-8000-00000000000A"
	var gone string // a package created and deleted (review: said "not created yet")
	func() {
		log, err := sqlitestore.Open(db, sqlitestore.Options{})
		require.NoError(t, err)
		defer log.Close()
		ctx := context.Background()
		m, err := entitlement.NewManager(ctx, log, entitlement.Options{})
		require.NoError(t, err)
		_, err = m.Execute(ctx, entitlement.SystemActor(),
			entitlement.PutUser{User: entitlement.User{ID: upper, DisplayName: "Upper Case", AccountEnabled: true}})
		require.NoError(t, err)
		admin := entitlement.UserActor(upper, entitlement.GlobalAdministrator)
		res, err := m.Execute(ctx, admin, entitlement.CreateAccessPackage{CatalogID: entitlement.GeneralCatalogID, DisplayName: "Gone"})
		require.NoError(t, err)
		gone = res.ID
		_, err = m.Execute(ctx, admin, entitlement.DeleteAccessPackage{AccessPackageID: gone})
		require.NoError(t, err)
	}()
	code, _, errOut = runCLI(t, "report", "assignments", "--db", db, "--package", gone)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `the access package "Gone"`)
	assert.Contains(t, errOut, "it was deleted")
	// Another kind's id is no package, deleted or not (review).
	code, _, errOut = runCLI(t, "report", "assignments", "--db", db, "--package", "a0000000-0000-4000-8000-000000000006")
	assert.Equal(t, 2, code)
	assert.NotContains(t, errOut, "deleted")
	assert.Contains(t, errOut, "is no access package: the log knows it as a User")
	code, out, errOut = runCLI(t, "report", "access-packages", "--db", db, "--user", upper, "--format", "json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Upper Case")
	// Before the package was created: said so (review: "not found").
	for _, args := range [][]string{{"assignments", "--as-of", "2026-03-01"}, {"requests", "--as-known-at", "2"}} {
		code, _, errOut = runCLI(t, append([]string{"report", args[0], "--db", db, "--package", "Sales tools"}, args[1:]...)...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, errOut, `the access package "Sales tools"`, args)
		assert.Contains(t, errOut, "does not exist at the moment asked", args)
	}
}

func TestWhyCommand(t *testing.T) {
	db := demoLog(t)
	code, out, errOut := runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team", "--as-of", "2026-03-22")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Anna Adams held Member of Sales team at 2026-03-22T00:00:00Z")
	assert.Contains(t, out, "Mark Miller")
	assert.Contains(t, out, "checked against the log: every cited event is there")

	code, out, errOut = runCLI(t, "why", "--db", db, "--user", "Ben Brown", "--resource", "Sales team", "--as-of", "2026-03-10")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Ben Brown did not hold Member of Sales team")

	code, _, _ = runCLI(t, "why", "--db", db, "--resource", "Sales team")
	assert.Equal(t, 2, code, "no --user")
	code, _, errOut = runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Nope")
	assert.Equal(t, 2, code, "a name that names nothing is a usage error, as for --user")
	assert.Contains(t, errOut, `no resource is named "Nope"`)
	code, _, errOut = runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team", "--format", "json")
	assert.Equal(t, 2, code, "a flag why does not act on is refused")
	assert.Contains(t, errOut, "flag provided but not defined: -format")
	assert.Contains(t, errOut, "report why writes the explanation as CSV, JSON or HTML")
	code, _, _ = runCLI(t, "report", "catalogs", "--db", db, "--user", "Anna Adams")
	assert.Equal(t, 2, code, "a report refuses what it does not act on")
	code, _, _ = runCLI(t, "report", "audit", "--db", db, "--resource", "Sales team")
	assert.Equal(t, 2, code)
}

func TestArchiveCommands(t *testing.T) {
	db := demoLog(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	code, out, errOut := runCLI(t, "keygen", "--out", key)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "signer.pub: public key SHA256:")
	info, err := os.Stat(key + ".key")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the private key is readable only by its owner")
	// An --out taken is a usage error, as for report and archive (review:
	// exit 1 here, 2 there), and an empty one names no file.
	code, _, errOut = runCLI(t, "keygen", "--out", key)
	assert.Equal(t, 2, code, "keygen never overwrites a key")
	assert.Contains(t, errOut, "exists; remove it or choose another --out")
	half := filepath.Join(dir, "half")
	require.NoError(t, os.WriteFile(half+".pub", []byte("mine"), 0o644))
	code, _, _ = runCLI(t, "keygen", "--out", half)
	assert.Equal(t, 2, code, "keygen never overwrites a key")
	code, _, _ = runCLI(t, "keygen", "--out", "")
	assert.Equal(t, 2, code, "an empty --out (review: wrote .key and .pub)")
	assert.NoFileExists(t, half+".key", "no private key without its public key (review)")

	archive := filepath.Join(dir, "march.tar.gz")
	code, out, errOut = runCLI(t, "archive", "--db", db, "--out", archive, "--since", "2026-03-01", "--until", "2026-04-01",
		"--user", "Anna Adams,Ben Brown", "--sign-key", key+".key")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "signed by key SHA256:")
	code, _, errOut = runCLI(t, "archive", "--db", db, "--out", archive)
	assert.Equal(t, 2, code, "archive never overwrites a file")
	assert.Contains(t, errOut, "exists; remove it or choose another --out")

	code, out, errOut = runCLI(t, "verify-archive", "--archive", archive, "--public-key", key+".pub", "--db", db)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "signature verified")
	if python, err := exec.LookPath("python3"); err == nil {
		// The independent verifier reads keygen's PEM, and says a private
		// key is not a public one (review: it took its last 32 bytes).
		pyOut, err := exec.Command(python, "../../docs/tools/verify.py", "--archive", archive, "--public-key", key+".pub").CombinedOutput()
		require.NoError(t, err, string(pyOut))
		assert.Contains(t, string(pyOut), "signature verified")
		pyOut, err = exec.Command(python, "../../docs/tools/verify.py", "--archive", archive, "--public-key", key+".key").CombinedOutput()
		require.Error(t, err)
		assert.Contains(t, string(pyOut), "not a PEM public key")
	}

	// Another key: the signature fails, exit 1, naming the file.
	other := filepath.Join(dir, "other")
	code, _, _ = runCLI(t, "keygen", "--out", other)
	require.Equal(t, 0, code)
	code, out, _ = runCLI(t, "verify-archive", "--archive", archive, "--public-key", other+".pub")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FAILED")
	assert.Contains(t, out, "manifest.json.sig")

	// A changed byte: exit 1.
	data, err := os.ReadFile(archive)
	require.NoError(t, err)
	data[len(data)/2] ^= 0xff
	bad := filepath.Join(dir, "bad.tar.gz")
	require.NoError(t, os.WriteFile(bad, data, 0o644))
	code, out, _ = runCLI(t, "verify-archive", "--archive", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FAILED")

	// A name with a slash is a name, resolved like any other (review: it
	// was checked as an id).
	code, _, errOut = runCLI(t, "archive", "--db", db, "--out", filepath.Join(dir, "slash.tar.gz"), "--user", "Sales/Ops Bot")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `no user is named "Sales/Ops Bot"`)

	code, _, _ = runCLI(t, "verify-archive")
	assert.Equal(t, 2, code, "no --archive")
	code, _, _ = runCLI(t, "archive", "--db", db)
	assert.Equal(t, 2, code, "no --out")
	for _, args := range [][]string{
		{"--since", "2026-04-01", "--until", "2026-03-01"},
		{"--reports", "why"},
		{"--reports", "access-packages,resources"},
		{"--since", "2030-01-01"}, // no events in the range (review: exited 1)
		{"--reports", "audit,audit"},
		{"--user", "Anna Adams,a0000000-0000-4000-8000-000000000006"}, // one user twice (review)
		// Flags the archive would not act on (review: they were ignored).
		{"--user", "Anna Adams", "--reports", "catalogs"},
		{"--reports", "none", "--format", "json"},
		{"--reports", "none", "--projection", filepath.Join(dir, "p.projection")},
	} {
		out := filepath.Join(dir, "refused.tar.gz")
		code, _, errOut := runCLI(t, append([]string{"archive", "--db", db, "--out", out}, args...)...)
		assert.Equal(t, 2, code, "%q: %s", args, errOut)
		assert.NoFileExists(t, out)
	}
}

// TestBuiltBinary builds the command and runs it as a user would: the
// demo, then verify-archive on what it wrote, and the exit codes.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "accessledger")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	demo := exec.Command(bin, "demo", "--out", filepath.Join(dir, "demo"))
	out, err = demo.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "## What to open")

	verify := exec.Command(bin, "verify-archive", "--archive", filepath.Join(dir, "demo", "accessledger-archive.tar.gz"),
		"--public-key", filepath.Join(dir, "demo", "demo-signing.pub"), "--db", filepath.Join(dir, "demo", "ledger.db"))
	out, err = verify.CombinedOutput()
	require.NoError(t, err, string(out))

	bad := exec.Command(bin, "verify-archive", "--archive", filepath.Join(dir, "demo", "ledger.db"))
	out, err = bad.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, string(out))
	assert.Equal(t, 1, exit.ExitCode(), "a file that is not an archive fails the check")

	usage := exec.Command(bin, "report")
	_, err = usage.CombinedOutput()
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.ExitCode())

	// Output that cannot be written is a failure (found by a review as a
	// new user: head exited 0 on a full disk).
	if full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err == nil {
		head := exec.Command(bin, "head", "--db", filepath.Join(dir, "demo", "ledger.db"))
		head.Stdout = full
		err = head.Run()
		full.Close()
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 1, exit.ExitCode())
	}
}

// TestReadersDoNotWrite runs the reading commands on a log nobody has
// open, made read-only, and on another program's database: the log is
// read and left byte for byte as it was with nothing created beside it,
// and the other database is refused with exit 1 and left alone.
func TestReadersDoNotWrite(t *testing.T) {
	src := demoLog(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "ledger.db")
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(db, data, 0o444))
	require.NoError(t, os.Chmod(dir, 0o555))
	defer os.Chmod(dir, 0o755)
	sum := sha256.Sum256(data)

	code, out, errOut := runCLI(t, "verify", "--db", db)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "ok: head position")
	code, _, errOut = runCLI(t, "events", "--db", db)
	require.Equal(t, 0, code, errOut)
	after, err := os.ReadFile(db)
	require.NoError(t, err)
	assert.Equal(t, sum, sha256.Sum256(after), "the log is unchanged")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no -wal or -shm file beside it")

	other := filepath.Join(t.TempDir(), "other.db")
	sqldb, err := sql.Open("sqlite", other)
	require.NoError(t, err)
	_, err = sqldb.Exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
	require.NoError(t, err)
	require.NoError(t, sqldb.Close())
	before, err := os.ReadFile(other)
	require.NoError(t, err)
	for _, cmd := range []string{"verify", "events"} {
		code, _, errOut := runCLI(t, cmd, "--db", other)
		assert.Equal(t, 1, code, cmd)
		assert.Contains(t, errOut, "is not an accessledger log", cmd)
	}
	unchanged, err := os.ReadFile(other)
	require.NoError(t, err)
	assert.Equal(t, before, unchanged, "another program's database is left alone")
}

// TestVerifyCatchesTruncation cuts the last events off a log behind the
// store: the chain of what is left verifies, but verify sees the cut in
// the commands table, and against a head kept outside the log, signed.
func TestVerifyCatchesTruncation(t *testing.T) {
	db := demoLog(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "signer")
	code, _, errOut := runCLI(t, "keygen", "--out", key)
	require.Equal(t, 0, code, errOut)
	code, plain, errOut := runCLI(t, "head", "--db", db)
	require.Equal(t, 0, code, errOut)
	code, signed, errOut := runCLI(t, "head", "--db", db, "--sign-key", key+".key")
	require.Equal(t, 0, code, errOut)
	plain, signed = strings.TrimSpace(plain), strings.TrimSpace(signed)
	assert.True(t, strings.HasPrefix(signed, plain+":"), "the signed head is the head, the time and the signature")

	code, out, errOut := runCLI(t, "verify", "--db", db, "--expect-head", signed, "--public-key", key+".pub")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "still holds the expected head")
	code, _, _ = runCLI(t, "verify", "--db", db, "--expect-head", signed)
	assert.Equal(t, 2, code, "a signed head needs the public key")
	last := "0"
	if strings.HasSuffix(signed, "0") {
		last = "1"
	}
	forged := signed[:len(signed)-1] + last // one hex digit of the signature changed
	code, _, _ = runCLI(t, "verify", "--db", db, "--expect-head", forged, "--public-key", key+".pub")
	assert.Equal(t, 1, code, "a signature that does not verify")

	code, _, _ = runCLI(t, "verify", "--db", db, "--public-key", key+".pub")
	assert.Equal(t, 2, code, "a public key with nothing to check")
	code, _, _ = runCLI(t, "verify", "--db", db, "--expect-head", signed, "--public-key", "deadbeef")
	assert.Equal(t, 2, code, "a public key that is not one")

	tamper(t, db, `DELETE FROM events WHERE position = (SELECT max(position) FROM events)`)
	code, out, _ = runCLI(t, "verify", "--db", db)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "truncated")
	code, _, errOut = runCLI(t, "head", "--db", db, "--sign-key", key+".key")
	assert.Equal(t, 1, code, "the head of a log that does not verify is not signed")
	assert.Contains(t, errOut, "not signed")
	code, out, errOut = runCLI(t, "head", "--db", db)
	assert.Equal(t, 1, code, "nor printed, to be kept outside the log (found by a review)")
	assert.Empty(t, out)
	assert.Contains(t, errOut, "truncated")
	code, out, _ = runCLI(t, "verify", "--db", db, "--expect-head", plain)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "truncated")
	// Nor is it archived, signed or not, nor a projection rebuilt from it.
	// (With reports, a projection made before the cut finds it first, and
	// a new one is not made.)
	for _, args := range [][]string{{"--reports", "none", "--sign-key", key + ".key"}, {"--reports", "catalogs"},
		{"--reports", "catalogs", "--trust-projection", "--projection", filepath.Join(dir, "new.projection")}} {
		out := filepath.Join(dir, "cut.tar.gz")
		code, _, errOut = runCLI(t, append([]string{"archive", "--db", db, "--out", out}, args...)...)
		assert.Equal(t, 1, code, args)
		assert.Contains(t, errOut, "the log does not verify", args)
		assert.Contains(t, errOut, "truncated", args)
		assert.NoFileExists(t, out)
		left, _ := filepath.Glob(filepath.Join(dir, ".accessledger-rebuilt-*"))
		assert.Empty(t, left, "the rebuilt projection's directory is removed")
	}
	code, _, errOut = runCLI(t, "replay", "--db", db, "--projection", filepath.Join(dir, "cut.projection"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "truncated")
	// Nor does a report, an answer or a catch-up build a new projection
	// from it (found by a review: they did).
	for _, args := range projectionReaders {
		proj := filepath.Join(dir, args[0]+".projection")
		code, out, errOut := runCLI(t, append(args, "--db", db, "--projection", proj)...)
		assert.Equal(t, 1, code, args)
		assert.Empty(t, out, args)
		assert.Contains(t, errOut, "the log does not verify", args)
		assert.Contains(t, errOut, "truncated", args)
	}
}

// projectionReaders are the command lines that bring a projection up to
// the log before they answer (with --db and --projection to add).
var projectionReaders = [][]string{
	{"report", "catalogs", "--format", "json"},
	{"why", "--user", "Anna Adams", "--resource", "Sales team", "--as-of", "2026-03-22"},
	{"replay", "--catch-up"},
}

// TestCatchUpRefusesALogCutAfterItsCheckpoint: a projection made before
// the log grew does not see a cut at the log's end, which is past its
// checkpoint; the commands that catch it up refuse the log all the same.
func TestCatchUpRefusesALogCutAfterItsCheckpoint(t *testing.T) {
	db := demoLog(t)
	dir := t.TempDir()
	// The log as it was a few commands ago, which verifies, and a
	// projection of it.
	earlier := filepath.Join(dir, "earlier.db")
	sqldb, err := sql.Open("sqlite", db)
	require.NoError(t, err)
	_, err = sqldb.Exec("VACUUM INTO ?", earlier)
	require.NoError(t, err)
	require.NoError(t, sqldb.Close())
	tamper(t, earlier, `DELETE FROM events WHERE position > (SELECT last_position FROM commands ORDER BY last_position DESC LIMIT 1 OFFSET 3);
		DELETE FROM commands WHERE first_position > (SELECT max(position) FROM events)`)
	proj := filepath.Join(dir, "earlier.projection")
	code, _, errOut := runCLI(t, "replay", "--db", earlier, "--projection", proj)
	require.Equal(t, 0, code, errOut)

	tamper(t, db, `DELETE FROM events WHERE position = (SELECT max(position) FROM events)`)
	for _, args := range projectionReaders {
		code, out, errOut := runCLI(t, append(args, "--db", db, "--projection", proj)...)
		assert.Equal(t, 1, code, args)
		assert.Empty(t, out, args)
		assert.Contains(t, errOut, "truncated", args)
	}
}

// TestTwoReportsOnANewProjection (found by a code review): two commands
// at once on a log whose projection does not exist yet both answer: the
// one that cannot load it alone catches up beside the other.
func TestTwoReportsOnANewProjection(t *testing.T) {
	db := demoLog(t)
	for _, suffix := range []string{".projection", ".projection-wal", ".projection-shm"} {
		os.Remove(db + suffix)
	}
	codes := make([]int, 2)
	errs := make([]string, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { codes[i], _, errs[i] = runCLI(t, "report", "catalogs", "--db", db, "--format", "json") })
	}
	wg.Wait()
	for i := range codes {
		assert.Equal(t, 0, codes[i], errs[i])
	}
}

// TestWhyReportChecksTheLog: on a log changed behind the projection's
// back, the why report, like why, checks what it cites against the log,
// and refuses (found by a review as a new user: the report did not).
func TestWhyReportChecksTheLog(t *testing.T) {
	db := demoLog(t)
	why := []string{"report", "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team", "--as-of", "2026-03-22"}
	code, out, errOut := runCLI(t, why...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Sales tools")
	tamper(t, db, `UPDATE events SET payload = '{"forged":true}' WHERE type = 'assignmentRequestCreated'`)
	code, out, errOut = runCLI(t, why...)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "does not check against the log")
	assert.Contains(t, errOut, "position")
	code, _, errOut = runCLI(t, "report", "why", "--db", db, "--resource", "Sales team")
	assert.Equal(t, 2, code, "no --user is a usage error, not a changed log: %s", errOut)
	assert.NotContains(t, errOut, "does not check against the log")
}

// TestArchiveRebuildsItsProjection (found by an adversarial review): an
// archive signed reports made from the projection file as it stood, so
// an edited projection put its answers into a signed archive that both
// verifiers accepted. The reports are now made from a projection rebuilt
// from the log, unless --trust-projection says the file may be used.
func TestArchiveRebuildsItsProjection(t *testing.T) {
	db := demoLog(t)
	dir := filepath.Dir(db)
	proj, err := sql.Open("sqlite", db+".projection")
	require.NoError(t, err)
	for _, table := range []string{"objects", "versions"} {
		_, err = proj.Exec(`UPDATE ` + table + ` SET data = json_set(data, '$.displayName', 'Forged')
			WHERE data IS NOT NULL AND oid IN (SELECT oid FROM objects WHERE kind = 'AccessPackageCatalog')`)
		require.NoError(t, err)
	}
	require.NoError(t, proj.Close())

	catalogs := func(args ...string) string {
		out := filepath.Join(dir, fmt.Sprintf("archive-%d.tar.gz", len(args)))
		code, _, errOut := runCLI(t, append([]string{"archive", "--db", db, "--out", out, "--reports", "catalogs", "--format", "csv"}, args...)...)
		require.Equal(t, 0, code, errOut)
		f, err := os.Open(out)
		require.NoError(t, err)
		defer f.Close()
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			require.NoError(t, err, "no catalogs report in the archive")
			if strings.HasPrefix(h.Name, "reports/catalogs") {
				b, err := io.ReadAll(tr)
				require.NoError(t, err)
				return string(b)
			}
		}
	}
	rebuilt := catalogs()
	assert.NotContains(t, rebuilt, "Forged")
	assert.Contains(t, rebuilt, "Sales")
	left, _ := filepath.Glob(filepath.Join(dir, ".accessledger-rebuilt-*"))
	assert.Empty(t, left, "the rebuilt projection's directory is removed")
	assert.Contains(t, catalogs("--trust-projection"), "Forged", "the projection file as it stands, when trusted")
	code, _, errOut := runCLI(t, "archive", "--db", db, "--out", filepath.Join(dir, "x.tar.gz"), "--projection", db+".projection")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--trust-projection")
	code, _, errOut = runCLI(t, "archive", "--db", db, "--out", filepath.Join(dir, "x.tar.gz"), "--reports", "none", "--trust-projection")
	assert.Equal(t, 2, code, "the events alone have no projection to trust")
	assert.Contains(t, errOut, "--trust-projection")

	// A log that cannot be opened leaves no directory behind.
	empty := t.TempDir()
	code, _, _ = runCLI(t, "archive", "--db", filepath.Join(empty, "none.db"), "--out", filepath.Join(empty, "x.tar.gz"))
	assert.Equal(t, 1, code)
	left, _ = filepath.Glob(filepath.Join(empty, ".accessledger-rebuilt-*"))
	assert.Empty(t, left)

	// A projection whose tables refuse the log's events says how to mend
	// it (found by a mutation review: no test of the hint).
	proj, err = sql.Open("sqlite", db+".projection")
	require.NoError(t, err)
	_, err = proj.Exec(`UPDATE meta SET value = '1' WHERE key = 'checkpoint_position'`)
	require.NoError(t, err)
	var hash string
	log, err := sql.Open("sqlite", db)
	require.NoError(t, err)
	require.NoError(t, log.QueryRow(`SELECT lower(hex(hash)) FROM events WHERE position = 1`).Scan(&hash))
	require.NoError(t, log.Close())
	_, err = proj.Exec(`UPDATE meta SET value = ? WHERE key = 'checkpoint_hash'`, hash)
	require.NoError(t, err)
	require.NoError(t, proj.Close())
	code, _, errOut = runCLI(t, "report", "catalogs", "--db", db)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "damaged or was edited")
	assert.Contains(t, errOut, "run accessledger replay")
}

// TestCLIReviewFindings: what a review of the CLI as a new user found
// (1 Dec 2026).
func TestCLIReviewFindings(t *testing.T) {
	db := demoLog(t)
	dir := t.TempDir()
	pkg, user := "", "a0000000-0000-4000-8000-000000000006" // Anna Adams
	code, events, errOut := runCLI(t, "events", "--db", db)
	require.Equal(t, 0, code, errOut)
	for line := range strings.Lines(events) {
		var e struct {
			Type    string `json:"type"`
			Payload struct {
				AccessPackage struct{ ID string } `json:"accessPackage"`
			} `json:"payload"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		if e.Type == "accessPackageCreated" {
			pkg = e.Payload.AccessPackage.ID
			break
		}
	}
	require.NotEmpty(t, pkg)

	// An id of the wrong kind is refused, not answered as nobody.
	for _, args := range [][]string{
		{"report", "access-packages", "--user", pkg},
		{"why", "--user", pkg, "--resource", "Sales team"},
		{"report", "assignments", "--package", user},
	} {
		code, out, errOut := runCLI(t, append(args, "--db", db)...)
		assert.Equal(t, 2, code, "%v: %s", args, out)
		assert.Contains(t, errOut, " is no ", args)
	}
	code, _, errOut = runCLI(t, "report", "access-packages", "--db", db, "--user", user)
	assert.Equal(t, 0, code, errOut)

	// A moment the log has not reached is refused by why, as by report.
	code, _, errOut = runCLI(t, "why", "--db", db, "--user", "Anna Adams", "--resource", "Sales team", "--as-known-at", "9999")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "the log ends at position")

	// The head of an empty log proves nothing.
	code, _, errOut = runCLI(t, "verify", "--db", db, "--expect-head", "0:"+strings.Repeat("0", 64))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "proves nothing")

	// A key that cannot be read is a usage error wherever it is given.
	code, _, errOut = runCLI(t, "keygen", "--out", filepath.Join(dir, "k"))
	require.Equal(t, 0, code, errOut)
	archive := filepath.Join(dir, "a.tar.gz")
	code, _, errOut = runCLI(t, "archive", "--db", db, "--out", archive, "--reports", "none")
	require.Equal(t, 0, code, errOut)
	for _, args := range [][]string{
		{"verify-archive", "--archive", archive, "--public-key", filepath.Join(dir, "k.key")},
		{"verify-archive", "--archive", archive, "--public-key", filepath.Join(dir, "nope.pub")},
		{"archive", "--db", db, "--out", filepath.Join(dir, "b.tar.gz"), "--reports", "none", "--sign-key", filepath.Join(dir, "k.pub")},
		{"head", "--db", db, "--sign-key", filepath.Join(dir, "k.pub")},
	} {
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	// A directory is no archive.
	code, _, errOut = runCLI(t, "verify-archive", "--archive", dir)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "is a directory")

	code, _, _ = runCLI(t, "help", "verify", "extra")
	assert.Equal(t, 2, code)
	code, out, _ := runCLI(t, "version")
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "accessledger "), out)

	// A log whose last append was cut and its record deleted is not
	// archived (CheckEnd saw only the opposite cut).
	tamper(t, db, `DELETE FROM events WHERE position = (SELECT max(position) FROM events);
		DELETE FROM commands WHERE last_position = (SELECT max(last_position) FROM commands)`)
	code, _, errOut = runCLI(t, "archive", "--db", db, "--out", filepath.Join(dir, "cut.tar.gz"), "--reports", "none")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "the log does not verify")
	code, out, _ = runCLI(t, "head", "--db", db)
	assert.Equal(t, 1, code, out)
}
