package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// runCLI runs one command line and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// demoLog runs the demo into a temporary folder and returns its log.
func demoLog(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "demo")
	code, stdout, errOut := runCLI(t, "demo", "--out", out)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, stdout, "verified: head position")
	return filepath.Join(out, "ledger.db")
}

func TestDemoStartsFresh(t *testing.T) {
	db := demoLog(t)
	out := filepath.Dir(db)
	_, first, _ := runCLI(t, "verify", "--db", db)
	mine := filepath.Join(out, "mine.txt")
	require.NoError(t, os.WriteFile(mine, []byte("mine"), 0o644))
	code, _, errOut := runCLI(t, "demo", "--out", out)
	require.Equal(t, 0, code, errOut)
	_, second, _ := runCLI(t, "verify", "--db", db)
	assert.Equal(t, first, second, "the same log again, hash for hash, not appended to the old one")
	_, err := os.Stat(mine)
	assert.NoError(t, err, "a file the demo did not make is left alone")
}

// TestDemoNeverOverwrites runs the demo on a log and a folder it did not
// make, and expects a refusal that leaves them as they were.
func TestDemoNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "other.db")
	require.NoError(t, os.WriteFile(foreign, []byte("another program's data"), 0o644))
	code, _, errOut := runCLI(t, "demo", "--out", filepath.Join(dir, "demo"), "--db", foreign)
	assert.Equal(t, 2, code, "a usage error, as for every command's --out (found by a review)")
	assert.Contains(t, errOut, "never overwrites")
	data, err := os.ReadFile(foreign)
	require.NoError(t, err)
	assert.Equal(t, "another program's data", string(data))
	assert.NoDirExists(t, filepath.Join(dir, "demo"), "a refused demo leaves no folder it made")

	code, _, errOut = runCLI(t, "demo", "--out", dir)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "is not empty")
}

func TestDemoWritesTheEvidence(t *testing.T) {
	db := demoLog(t)
	out := filepath.Dir(db)
	for _, kind := range []string{"catalogs", "assignments", "access-packages", "resources", "requests", "audit", "conflicts",
		"connected-organizations", "why"} {
		for _, ext := range []string{"csv", "json", "html"} {
			info, err := os.Stat(filepath.Join(out, "reports", kind+"."+ext))
			require.NoError(t, err)
			assert.NotZero(t, info.Size(), kind+"."+ext)
		}
	}
	code, stdout, errOut := runCLI(t, "verify-archive", "--archive", filepath.Join(out, "accessledger-archive.tar.gz"),
		"--public-key", filepath.Join(out, "demo-signing.pub"), "--db", db)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, stdout, "signature verified")
	assert.Contains(t, stdout, "still holds the archive's head")
}

func TestVerify(t *testing.T) {
	db := demoLog(t)
	code, out, _ := runCLI(t, "verify", "--db", db)
	require.Equal(t, 0, code)
	assert.Regexp(t, `^ok: head position \d+ hash [0-9a-f]{64}\n$`, out)

	// A row changed so that it is no event at all is named the same way
	// (found by a review: verify said only why on standard error).
	for _, stmt := range []string{
		`UPDATE events SET payload = '{"forged":true}' WHERE position = 2`,
		`UPDATE events SET hash = x'00' WHERE position = 2`,
		`UPDATE events SET id = 'not-a-ulid' WHERE position = 2`,
	} {
		db := demoLog(t)
		tamper(t, db, stmt)
		code, out, errOut := runCLI(t, "verify", "--db", db)
		assert.Equal(t, 1, code, stmt)
		assert.Contains(t, out, "broken at position 2:", stmt)
		assert.Contains(t, errOut, "position 2", stmt)
	}
}

func TestEvents(t *testing.T) {
	db := demoLog(t)
	code, out, _ := runCLI(t, "events", "--db", db)
	require.Equal(t, 0, code)
	var all []eventstore.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e eventstore.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		all = append(all, e)
	}
	require.NotEmpty(t, all)
	// What the CLI prints verifies on its own.
	head, err := eventstore.Verify(context.Background(), func(yield func(eventstore.Event, error) bool) {
		for _, e := range all {
			if !yield(e, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
	assert.Equal(t, all[len(all)-1].Position, head.Position)

	code, out, _ = runCLI(t, "events", "--db", db, "--from", "2")
	require.Equal(t, 0, code)
	assert.Equal(t, len(all)-1, strings.Count(out, "\n"))

	stream := string(all[1].Stream)
	code, out, _ = runCLI(t, "events", "--db", db, "--stream", stream)
	require.Equal(t, 0, code)
	for line := range strings.Lines(out) {
		var e eventstore.Event
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		assert.Equal(t, stream, string(e.Stream))
	}
	assert.NotEmpty(t, out)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"verify"},
		{"verify", "--db"},
		{"verify", "--bogus"},
		{"events", "--db", "x.db", "--from", "0"},
		{"events", "--db", "x.db", "--from", "18446744073709551615"},
		{"demo", "extra"},
	} {
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.NotEmpty(t, errOut, "%q", args)
	}
}

// TestHelp: help asked for is the output (stdout, exit 0), for the tool
// and for each command, as CMD --help and as help CMD.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {"help", c.name}} {
			code, out, errOut := runCLI(t, args...)
			assert.Equal(t, 0, code, "%q", args)
			assert.Contains(t, out, "Usage: accessledger "+c.name, "%q", args)
			assert.Empty(t, errOut, "%q", args)
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}} {
		code, out, _ := runCLI(t, args...)
		assert.Equal(t, 0, code)
		assert.Contains(t, out, "Commands:")
	}
	code, _, errOut := runCLI(t)
	assert.Equal(t, 2, code, "no command is a usage error")
	assert.Contains(t, errOut, "Commands:")
	code, _, errOut = runCLI(t, "why", "--bogus")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "flag provided but not defined: -bogus", "a bad flag is an error, on stderr")
	assert.Equal(t, 1, strings.Count(errOut, "flag provided but not defined"), "said once (review as a new user)")
	code, _, errOut = runCLI(t, "why", "--bogus", "--help")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "flag provided but not defined", "on stderr too, though --help sends the usage to stdout")
}

func TestMissingFile(t *testing.T) {
	code, _, errOut := runCLI(t, "verify", "--db", filepath.Join(t.TempDir(), "none.db"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no log at")
	code, _, errOut = runCLI(t, "verify", "--db", t.TempDir())
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "is a directory, not a log file")
	nowhere := filepath.Join(t.TempDir(), "no", "such", "dir", "p.projection")
	db := demoLog(t)
	code, _, errOut = runCLI(t, "report", "catalogs", "--db", db, "--projection", nowhere)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "open the projection "+nowhere+" (--projection chooses another file): ")
	assert.Contains(t, errOut, "no such file or directory")
	// Only a file that may be a projection is said to be deletable (found
	// by a review: the hint offered the log itself, or a README).
	text := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(text, []byte("# not a database\n"), 0o644))
	for _, other := range []string{db, text} {
		code, _, errOut = runCLI(t, "report", "catalogs", "--db", db, "--projection", other)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "not a projection", other)
		assert.NotContains(t, errOut, "may be deleted", other)
		assert.NoFileExists(t, other+".lock", "no lock files are left beside another program's file")
		assert.NoFileExists(t, other+".swap")
	}
}

// tamper runs SQL against the log behind the store's back, after dropping
// the triggers that make the events table append-only.
func tamper(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
	require.NoError(t, err)
	var triggers []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		triggers = append(triggers, name)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.NotEmpty(t, triggers, "the schema should guard the events table")
	for _, name := range triggers {
		_, err := db.Exec(`DROP TRIGGER "` + name + `"`)
		require.NoError(t, err)
	}
	_, err = db.Exec(stmt)
	require.NoError(t, err)
}

// TestIndependentVerifier runs the Python verifier of docs/event-format.md
// on the CLI's NDJSON: the format is verifiable without accessledger.
func TestIndependentVerifier(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	db := demoLog(t)
	_, events, _ := runCLI(t, "events", "--db", db)
	_, head, _ := runCLI(t, "verify", "--db", db)

	cmd := exec.Command(python, "../../docs/tools/verify.py")
	cmd.Stdin = strings.NewReader(events)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	// "ok: head position N hash H" and "ok N H" name the same head.
	f := strings.Fields(head)
	assert.Equal(t, "ok "+f[3]+" "+f[5]+"\n", string(out))

	forged := strings.Replace(events, `"displayName":"Sales"`, `"displayName":"Forged"`, 1)
	require.NotEqual(t, events, forged)
	cmd = exec.Command(python, "../../docs/tools/verify.py")
	cmd.Stdin = strings.NewReader(forged)
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "hash does not match")

	// A line that is no event is refused with a message, not a traceback
	// (review).
	cmd = exec.Command(python, "../../docs/tools/verify.py")
	cmd.Stdin = strings.NewReader("{}\n")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "not an event")
	assert.NotContains(t, string(out), "Traceback")
}

func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a tenant on SQLite")
	}
	code, out, errOut := runCLI(t, "bench", "--users", "60,80", "--history-days", "3", "--single", "20", "--concurrent", "40",
		"--dir", t.TempDir())
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{"accessledger bench: 60 users", "accessledger bench: 80 users", "raw SQLite insert, one row per commit",
		"request → delivered, 1 goroutine", "request → delivered, 16 goroutines", "ProcessDue expiring", "ProcessDue with nothing due",
		"my assignments", "replay from SQLite", "heap per user, request and assignment", "3 days of history",
		"write a snapshot", "start from the snapshot",
		"projection (", "rebuild, rows written", "catch up one command", "requests of a package, past", "at 80 users: "} {
		assert.Contains(t, out, want)
	}
	assert.Contains(t, errOut, "60 users: replay", "progress, one line per phase when not on a terminal")
	for _, args := range [][]string{
		{"--users", "5"}, {"--goroutines", "0"}, {"--history-days", "-5"}, {"--single", "-1"},
	} {
		code, _, errOut = runCLI(t, append([]string{"bench"}, args...)...)
		assert.Equal(t, 2, code, "%q: %s", args, errOut)
	}
}

func TestReplay(t *testing.T) {
	db := demoLog(t)
	_, verified, _ := runCLI(t, "verify", "--db", db)
	head := strings.Fields(verified) // ok: head position N hash H
	code, out, errOut := runCLI(t, "replay", "--db", db, "--catch-up")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, db+".projection: ")
	assert.Contains(t, out, ": 0 events applied", "the demo caught it up already")
	assert.Contains(t, out, "checkpoint "+head[3]+" "+head[5])

	code, out, errOut = runCLI(t, "replay", "--db", db)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, " "+head[3]+" events applied")
	assert.Contains(t, out, "checkpoint "+head[3]+" "+head[5])
	assert.Contains(t, errOut, "replay: rebuilding the projection", "plain progress lines when not on a terminal")

	code, _, errOut = runCLI(t, "replay", "--db", filepath.Join(t.TempDir(), "none.db"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no log at")
}

// TestDemoInACopiedFolder (found by a review): the demo run again in a
// copy of an earlier demo's folder replaces the copy's files, and never
// the original's, even when the copy's list of made files names them
// (as lists written before 30 Nov 2026 did, by absolute path).
func TestDemoInACopiedFolder(t *testing.T) {
	dir := t.TempDir()
	orig, cp := filepath.Join(dir, "orig"), filepath.Join(dir, "copy")
	code, _, errOut := runCLI(t, "demo", "--out", orig)
	require.Equal(t, 0, code, errOut)
	before := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(orig, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			before[path], err = os.ReadFile(path)
		}
		return err
	}))
	require.NoError(t, os.CopyFS(cp, os.DirFS(orig)))
	code, _, errOut = runCLI(t, "demo", "--out", cp)
	require.Equal(t, 0, code, "the copy names its own files: %s", errOut)

	var listed []string
	for p := range before {
		listed = append(listed, p)
	}
	require.NoError(t, os.WriteFile(filepath.Join(cp, markerName), []byte(strings.Join(listed, "\n")+"\n"), 0o644))
	code, _, _ = runCLI(t, "demo", "--out", cp)
	assert.Equal(t, 2, code, "the copy's own files are not listed: refused, not replaced")
	for p, data := range before {
		now, err := os.ReadFile(p)
		require.NoError(t, err, "the original's %s is still there", p)
		if filepath.Base(p) != markerName && !strings.Contains(p, ".projection") {
			assert.Equal(t, data, now, "the original's %s is unchanged", p)
		}
	}
}

// TestDemoAlone (found by a review): a second demo in a folder one is
// running in is refused, as is a --db in a folder that does not exist,
// before anything of an earlier demo is removed.
func TestDemoAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, _, errOut := runCLI(t, "demo", "--out", dir)
	require.Equal(t, 0, code, errOut)
	unlock, err := lockDir(dir)
	require.NoError(t, err)
	code, _, errOut = runCLI(t, "demo", "--out", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "another demo is running in "+dir)
	unlock()

	code, _, errOut = runCLI(t, "demo", "--out", dir, "--db", filepath.Join(dir, "no", "such", "ledger.db"))
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "does not exist")
	assert.FileExists(t, filepath.Join(dir, "ledger.db"), "the earlier demo's files are still there")
	fresh := filepath.Join(t.TempDir(), "fresh")
	code, _, errOut = runCLI(t, "demo", "--out", fresh, "--db", filepath.Join(fresh, "my.db"))
	assert.Equal(t, 0, code, "a --db in the new --out folder (review: refused): %s", errOut)
}
