package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/accessledger/accessledger/internal/story"
	"github.com/accessledger/accessledger/report"
)

// editManifest changes members of the manifest, as a forger of an
// unsigned archive can.
func editManifest(t *testing.T, ms []member, edit func(map[string]any)) []member {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(get(ms, report.ManifestFile), &m))
	edit(m)
	b, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	return set(ms, report.ManifestFile, append(b, '\n'))
}

func decodeLines(t *testing.T, ls [][]byte) []eventstore.Event {
	t.Helper()
	out := make([]eventstore.Event, len(ls))
	for i, l := range ls {
		require.NoError(t, json.Unmarshal(l, &out[i]))
	}
	return out
}

func encodeEvents(t *testing.T, events []eventstore.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range events {
		b, err := e.MarshalJSON()
		require.NoError(t, err)
		buf.Write(append(b, '\n'))
	}
	return buf.Bytes()
}

// boundaryForgeries are unsigned archives that a forger changed and
// made consistent wherever the format lets them (the manifest's file
// hashes, counts and head), each of which must still fail to verify:
// every one passed VerifyArchive or docs/tools/verify.py under a mutant.
func boundaryForgeries(t *testing.T, ten *tenant) map[string][]byte {
	full, _ := archive(t, ten, report.ArchiveOptions{Reports: []report.Kind{}})
	ms := unpack(t, full)
	events := decodeLines(t, lines(get(ms, report.EventsFile)))
	out := map[string][]byte{}

	// The first event of a range cut off, the count fixed, the start kept:
	// the events no longer follow the manifest's start.
	since, until := story.Start.AddDate(0, 0, 14), story.Start.AddDate(0, 0, 21)
	ranged, rm := archive(t, ten, report.ArchiveOptions{Since: since, Until: until, Reports: []report.Kind{}})
	require.NotZero(t, rm.Start.Position)
	rms := unpack(t, ranged)
	rl := lines(get(rms, report.EventsFile))
	cut := fixManifest(t, set(rms, report.EventsFile, bytes.Join(rl[1:], nil)))
	cut = editManifest(t, cut, func(m map[string]any) { m["events"] = len(rl) - 1 })
	out["range's first event cut, count fixed"] = pack(t, cut)

	// The last event changed and resealed: every link holds, the head's
	// position is the manifest's, its hash is not.
	last := append([]eventstore.Event(nil), events...)
	e := &last[len(last)-1]
	e.Metadata.ActorID = "user/mallory"
	eventstore.Seal(e.PrevHash, e)
	out["last event resealed"] = pack(t, fixManifest(t, set(ms, report.EventsFile, encodeEvents(t, last))))

	// An event in the middle changed and resealed on its own prevHash:
	// only the next event's prevHash shows it.
	mid := append([]eventstore.Event(nil), events...)
	mid[9].Metadata.ActorID = "user/mallory"
	eventstore.Seal(mid[9].PrevHash, &mid[9])
	out["middle event resealed"] = pack(t, fixManifest(t, set(ms, report.EventsFile, encodeEvents(t, mid))))

	// A stream version repeated, everything after resealed, the head fixed.
	dup := append([]eventstore.Event(nil), events...)
	k := -1
	for i := 1; i < len(dup); i++ {
		if dup[i].Version >= 2 {
			k = i
			break
		}
	}
	require.Positive(t, k)
	// The stream's later events are renumbered too, so that the repeat is
	// its only fault: a stream goes 1, 1, 2, … instead of 1, 2, 3, ….
	for i := k; i < len(dup); i++ {
		if dup[i].Stream == dup[k].Stream {
			dup[i].Version--
		}
	}
	for i := k; i < len(dup); i++ {
		eventstore.Seal(dup[i-1].Hash, &dup[i])
	}
	forged := fixManifest(t, set(ms, report.EventsFile, encodeEvents(t, dup)))
	forged = editManifest(t, forged, func(m map[string]any) {
		m["head"] = map[string]any{"position": uint64(dup[len(dup)-1].Position), "hash": dup[len(dup)-1].Hash.String()}
	})
	out["stream version repeated, resealed"] = pack(t, forged)

	// The manifest's event count changed.
	out["event count changed"] = pack(t, editManifest(t, ms, func(m map[string]any) { m["events"] = len(events) + 5 }))
	return out
}

func TestBoundaryForgeriesRefused(t *testing.T) {
	ten := played(t)
	ctx := context.Background()
	python, pyErr := exec.LookPath("python3")
	dir := t.TempDir()
	for name, data := range boundaryForgeries(t, ten) {
		t.Run(name, func(t *testing.T) {
			_, err := report.VerifyArchive(ctx, bytes.NewReader(data), report.VerifyOptions{})
			var ae *report.ArchiveError
			require.ErrorAs(t, err, &ae, "VerifyArchive accepted it")
			require.Equal(t, report.EventsFile, ae.File, err.Error())
			if pyErr != nil {
				t.Skip("python3 is not installed")
			}
			path := filepath.Join(dir, "forged.tar.gz")
			require.NoError(t, os.WriteFile(path, data, 0o644))
			out, err := exec.Command(python, "../docs/tools/verify.py", "--archive", path).CombinedOutput()
			require.Error(t, err, "verify.py accepted it: %s", out)
			require.Contains(t, string(out), "broken", string(out))
		})
	}
}
