package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessledger/accessledger/eventstore"
)

// processChildEnv, when set, makes TestProcessChild a child of
// TestSeveralProcesses: "path|name|appends|start (unix nanoseconds)".
const processChildEnv = "SQLITESTORE_PROCESS_CHILD"

// childReport is what a child prints: the appends it made and the longest
// it waited for one (and for the open).
type childReport struct {
	Name     string        `json:"name"`
	Appended int           `json:"appended"`
	Open     time.Duration `json:"open"`
	Longest  time.Duration `json:"longest"`
	Error    string        `json:"error,omitempty"`
}

// TestProcessChild is not a test of its own: it is the body of each
// process TestSeveralProcesses starts.
func TestProcessChild(t *testing.T) {
	spec := os.Getenv(processChildEnv)
	if spec == "" {
		t.Skip("run by TestSeveralProcesses")
	}
	parts := strings.Split(spec, "|")
	n, _ := strconv.Atoi(parts[2])
	start, _ := strconv.ParseInt(parts[3], 10, 64)
	time.Sleep(time.Until(time.Unix(0, start)))
	r := childReport{Name: parts[1]}
	defer func() {
		b, _ := json.Marshal(r)
		fmt.Println("REPORT " + string(b))
	}()
	began := time.Now()
	s, err := Open(parts[0], Options{})
	r.Open = time.Since(began)
	if err != nil {
		r.Error = "open: " + err.Error()
		return
	}
	defer s.Close()
	ctx := context.Background()
	for i := range n {
		cmd := fmt.Sprintf("%s-%d", parts[1], i)
		began := time.Now()
		_, err := s.Append(ctx, eventstore.AnyCondition,
			eventstore.NewEvent{Stream: eventstore.StreamID("p/" + parts[1]), Type: "appended", Metadata: eventstore.Metadata{CommandID: cmd}},
			eventstore.NewEvent{Stream: "p/shared", Type: "appended", Metadata: eventstore.Metadata{CommandID: cmd}})
		r.Longest = max(r.Longest, time.Since(began))
		if err != nil {
			r.Error = "append " + cmd + ": " + err.Error()
			return
		}
		r.Appended++
	}
}

// TestSeveralProcesses starts processes that all open the same fresh file
// at the same instant and append to it: every open and every append
// succeeds, and the log holds every append once, verified.
func TestSeveralProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const procs, appends = 6, 60
	path := filepath.Join(t.TempDir(), "shared.db")
	start := time.Now().Add(1500 * time.Millisecond).UnixNano()
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*strings.Builder, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProcessChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|proc%d|%d|%d", processChildEnv, path, i, appends, start))
		outs[i] = &strings.Builder{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		require.NoError(t, cmd.Start())
		cmds[i] = cmd
	}
	var reports []childReport
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), outs[i].String())
		for line := range strings.Lines(outs[i].String()) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "REPORT "); ok {
				var r childReport
				require.NoError(t, json.Unmarshal([]byte(rest), &r))
				reports = append(reports, r)
			}
		}
	}
	require.Len(t, reports, procs)
	var longest, longestOpen time.Duration
	for _, r := range reports {
		require.Empty(t, r.Error, "%s", r.Name)
		require.Equal(t, appends, r.Appended, r.Name)
		longest, longestOpen = max(longest, r.Longest), max(longestOpen, r.Open)
	}
	t.Logf("%d processes × %d appends: longest open %s, longest append %s", procs, appends, longestOpen, longest)

	s, err := OpenReadOnly(path, Options{})
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	head, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0))
	require.NoError(t, err)
	require.Equal(t, eventstore.Position(procs*appends*2), head.Position)
	require.NoError(t, s.CrossCheck(ctx))
	var seen []string
	for e, err := range s.ReadAll(ctx, 0) {
		require.NoError(t, err)
		if e.Stream != "p/shared" {
			seen = append(seen, e.Metadata.CommandID)
		}
	}
	require.Len(t, seen, procs*appends)
	slices.Sort(seen)
	require.Len(t, slices.Compact(seen), procs*appends, "every append once")
}
