package storetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accessledger/accessledger/eventstore"
	"github.com/stretchr/testify/require"
)

// The parent tells the child, through these variables, which file to
// append to, which test is to become the child (its full name), and which
// round of the crash test this is. Nothing else sets them, and the child
// mode also requires the running test's name to match, so a normal run of
// the test binary never enters it.
const (
	crashEnvPath  = "ACCESSLEDGER_STORETEST_CRASH_PATH"
	crashEnvTest  = "ACCESSLEDGER_STORETEST_CRASH_TEST"
	crashEnvRound = "ACCESSLEDGER_STORETEST_CRASH_ROUND"

	crashCommitted = "storetest-crash: committed" // + " <command id> <events>"
	crashRounds    = 3
)

// crashChildRequested reports whether this process is the crash test's
// child and t is the test that is to append.
func crashChildRequested(t *testing.T, h Harness) bool {
	return h.OpenPath != nil && os.Getenv(crashEnvPath) != "" && os.Getenv(crashEnvTest) == t.Name()
}

// crashPayload is the payload of the crash test's events: each event says
// which append it belongs to and how many events that append has, so that
// a torn append can be recognised.
type crashPayload struct {
	Cmd string `json:"cmd"`
	I   int    `json:"i"`
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

// crashChild appends to the file named by the environment until it is
// killed, printing a line after every append that returned.
func crashChild(t *testing.T, h Harness) {
	path, round := os.Getenv(crashEnvPath), os.Getenv(crashEnvRound)
	s, err := h.OpenPath(path)
	if err != nil {
		fmt.Printf("storetest-crash: open %s: %v\n", path, err)
		t.Fatalf("storetest crash child: open %s: %v", path, err)
	}
	ctx := context.Background()
	pad := strings.Repeat("p", 512)
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		cmd := fmt.Sprintf("crash-%s-%d", round, i)
		n := 2 + i%4
		in := make([]eventstore.NewEvent, n)
		for j := range in {
			p, _ := json.Marshal(crashPayload{Cmd: cmd, I: j, N: n, Pad: pad})
			in[j] = ev(fmt.Sprintf("crash/%d", (i+j)%5), "storetest.crash", cmd, string(p))
		}
		if _, err := s.Append(ctx, eventstore.AnyCondition, in...); err != nil {
			fmt.Printf("storetest-crash: append %s: %v\n", cmd, err)
			t.Fatalf("storetest crash child: append %s: %v", cmd, err)
		}
		fmt.Printf("%s %s %d\n", crashCommitted, cmd, n) // os.Stdout is unbuffered
	}
	_ = s.Close()
	t.Fatal("storetest crash child: appended for a minute without being killed")
}

// runPattern is a -test.run pattern that selects exactly the test named.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// testCrash kills a child process that appends to a durable store with
// SIGKILL, a few times over on the same file, and checks after each kill
// that the log opens and verifies, that the past is unchanged, that every
// append the child saw return is there, and that only whole appends are.
func testCrash(t *testing.T, h Harness, top string) {
	if h.OpenPath == nil {
		t.Skip("Harness.OpenPath not set")
	}
	switch runtime.GOOS {
	case "js", "wasip1", "ios":
		t.Skipf("cannot start a child process on %s", runtime.GOOS)
	}
	path := filepath.Join(t.TempDir(), "crash.log")
	committed := map[string]int{} // command id -> events, as the children reported
	var prev eventstore.Head

	for round := 1; round <= crashRounds; round++ {
		reported := runCrashChild(t, top, path, round)
		for cmd, n := range reported {
			committed[cmd] = n
		}

		s, err := h.OpenPath(path)
		require.NoError(t, err, "round %d: open after kill", round)
		ctx := t.Context()
		all := collect(t, s.ReadAll(ctx, 0))
		head, err := eventstore.Verify(ctx, slice(all))
		require.NoError(t, err, "round %d: the log must verify after a crash", round)
		storeHead, err := s.Head(ctx)
		require.NoError(t, err)
		require.Equal(t, head, storeHead, "round %d: Head", round)
		require.GreaterOrEqual(t, head.Position, prev.Position, "round %d: the log shrank", round)
		if prev.Position > 0 {
			require.Equal(t, prev.Hash, all[prev.Position-1].Hash, "round %d: the log before the crash changed", round)
		}

		groups := map[string][]eventstore.Event{}
		for _, e := range all {
			groups[e.Metadata.CommandID] = append(groups[e.Metadata.CommandID], e)
		}
		for cmd, evs := range groups {
			var first crashPayload
			require.NoError(t, json.Unmarshal(evs[0].Payload, &first), "position %d", evs[0].Position)
			require.Equal(t, cmd, first.Cmd)
			require.Equal(t, first.N, len(evs), "round %d: append %s is torn: %d of its %d events are in the log", round, cmd, len(evs), first.N)
			for j, e := range evs {
				var p crashPayload
				require.NoError(t, json.Unmarshal(e.Payload, &p))
				require.Equal(t, j, p.I, "round %d: append %s", round, cmd)
				require.Equal(t, evs[0].Position+eventstore.Position(j), e.Position, "round %d: append %s is not contiguous", round, cmd)
			}
		}
		for cmd, n := range committed {
			require.Equal(t, n, len(groups[cmd]), "round %d: append %s returned before the kill but its events are not (all) in the log", round, cmd)
		}

		// Retrying an append that was committed before the crash is a duplicate.
		var retry string
		for cmd := range reported {
			retry = cmd
			break
		}
		r, err := s.Append(ctx, eventstore.AnyCondition, events("crash/0", retry, 1)...)
		require.NoError(t, err)
		require.True(t, r.Duplicate, "round %d: retrying %s after the crash", round, retry)
		requireSameEvents(t, groups[retry], r.Events)

		if round == crashRounds {
			r := collectAppend(t, s, events("crash/after", newCmd("after"), 2))
			require.Equal(t, head.Position+1, r.Events[0].Position)
			_, err := eventstore.Verify(ctx, s.ReadAll(ctx, 0))
			require.NoError(t, err)
		}
		require.NoError(t, s.Close())
		prev = head
		t.Logf("round %d: %d appends reported, log at position %d", round, len(reported), head.Position)
	}
}

func collectAppend(t *testing.T, s eventstore.Store, in []eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	r, err := s.Append(t.Context(), eventstore.AnyCondition, in...)
	require.NoError(t, err)
	require.False(t, r.Duplicate)
	require.Len(t, r.Events, len(in))
	return r
}

// runCrashChild starts the child, waits until it has reported a random
// number of appends, kills it with SIGKILL while it goes on appending, and
// returns every append it reported.
func runCrashChild(t *testing.T, top, path string, round int) map[string]int {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ACCESSLEDGER_STORETEST_CRASH_") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run="+runPattern(top), "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(env, crashEnvPath+"="+path, crashEnvTest+"="+top, crashEnvRound+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	reported := map[string]int{}
	var other []string
	record := func(line string) {
		rest, ok := strings.CutPrefix(line, crashCommitted+" ")
		if !ok {
			other = append(other, line)
			return
		}
		id, n, _ := strings.Cut(rest, " ")
		k, err := strconv.Atoi(n)
		if err != nil {
			other = append(other, line)
			return
		}
		reported[id] = k
	}

	target := 3 + rand.IntN(30)
	timeout := time.After(2 * time.Minute)
wait:
	for len(reported) < target {
		select {
		case line, ok := <-lines:
			if !ok {
				break wait // the child ended on its own
			}
			record(line)
		case <-timeout:
			break wait
		}
	}
	_ = cmd.Process.Kill() // SIGKILL on Unix
	for line := range lines {
		record(line) // appends that returned before the kill
	}
	_ = cmd.Wait()
	require.False(t, cmd.ProcessState.Exited(), "round %d: the child exited by itself (%v) instead of being killed\nstdout:\n%s\nstderr:\n%s",
		round, cmd.ProcessState, strings.Join(other, "\n"), stderr.String())
	require.GreaterOrEqual(t, len(reported), target, "round %d: the child reported %d appends, waited for %d\nstdout:\n%s\nstderr:\n%s",
		round, len(reported), target, strings.Join(other, "\n"), stderr.String())
	return reported
}
