//go:build unix

package projection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRebuildRemovesAbandonedFiles: a file a rebuild left when its process
// died (nothing holds its claim) is removed by the next Rebuild or Open;
// one that a live rebuild holds, and the projection's other files, are
// not.
func TestRebuildRemovesAbandonedFiles(t *testing.T) {
	ctx := context.Background()
	p := caughtUp(t, 10, 2)
	path, dir := p.path, filepath.Dir(p.path)

	abandoned := path + ".rebuild-123"
	require.NoError(t, os.WriteFile(abandoned, []byte("half a rebuild"), 0o644))
	live := path + ".rebuild-456"
	require.NoError(t, os.WriteFile(live, []byte("a rebuild under way"), 0o644))
	// Another process's rebuild holds its file: a descriptor of its own.
	f, err := os.Open(live)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	other := filepath.Join(dir, "q.projection.rebuild-789") // another projection's
	require.NoError(t, os.WriteFile(other, nil, 0o644))

	_, err = p.Rebuild(ctx, nil)
	require.NoError(t, err)
	require.NoFileExists(t, abandoned)
	require.FileExists(t, live)
	require.FileExists(t, other)

	// Open removes them too, so that a program that only catches up or
	// queries does not keep them for good (found by a review as a new
	// user: a replay killed mid-way left 36 MB until the next rebuild).
	require.NoError(t, os.WriteFile(abandoned, []byte("half a rebuild"), 0o644))
	q := openProjection(t, p.log, path, Options{})
	require.NotNil(t, q)
	require.NoFileExists(t, abandoned)
	require.FileExists(t, live)
	left, err := filepath.Glob(path + ".rebuild-*")
	require.NoError(t, err)
	require.Equal(t, []string{live}, left, "the rebuild's own file is gone after the swap")
}

// TestExclusiveIsExclusive: two holders of the projection's lock, each
// trying again and again to take it exclusive, never both believe they
// may swap. flock converts a shared lock to exclusive by dropping it
// first, so a conversion that fails must not open a window in which the
// other's succeeds.
func TestExclusiveIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.projection")
	var locks [2]*fileLock
	for i := range locks {
		l, err := openLock(path)
		require.NoError(t, err)
		require.NoError(t, l.shared())
		locks[i] = l
	}
	var wrong atomic.Int64
	var wg sync.WaitGroup
	for _, l := range locks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20000 {
				err := l.exclusive()
				if err == nil {
					// The other holds it shared all along: never.
					wrong.Add(1)
					if err := l.shared(); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				if !errors.Is(err, ErrProjectionInUse) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Zero(t, wrong.Load(), "exclusive taken while the other holder had it shared")
	// Both still hold it shared: a third descriptor cannot take it.
	f, err := os.Open(path + ".lock")
	require.NoError(t, err)
	defer f.Close()
	require.ErrorIs(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), syscall.EWOULDBLOCK)
	for _, l := range locks {
		require.NoError(t, l.close())
	}
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), "the lock is free once both are closed")
}

// TestFailedSwapKeepsProjection: a swap that fails once the projection's
// file is closed (here, the rebuilt file is gone) opens the old file
// again, and takes the lock shared again: the projection answers as before
// and another process's Open is not refused.
func TestFailedSwapKeepsProjection(t *testing.T) {
	ctx := context.Background()
	p := caughtUp(t, 10, 2)
	path, dir := p.path, filepath.Dir(p.path)
	cp, err := p.Checkpoint(ctx)
	require.NoError(t, err)

	p.mu.Lock()
	err = p.swap(ctx, filepath.Join(dir, "gone.rebuild"), func() { t.Error("released a claim it did not rename") })
	p.mu.Unlock()
	require.ErrorContains(t, err, "swap in the rebuilt projection")
	got, err := p.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, cp, got)
	again, err := p.CatchUp(ctx)
	require.NoError(t, err)
	require.Equal(t, cp, again)

	other, err := Open(ctx, p.log, path, Options{})
	require.NoError(t, err, "the lock is shared again")
	require.NoError(t, other.Close())
	swap, err := os.Open(path + ".swap")
	require.NoError(t, err)
	defer swap.Close()
	require.NoError(t, syscall.Flock(int(swap.Fd()), syscall.LOCK_EX|syscall.LOCK_NB), "FILE.swap is free again")
	require.NoError(t, syscall.Flock(int(swap.Fd()), syscall.LOCK_UN))
	_, err = p.Rebuild(ctx, nil)
	require.NoError(t, err)
}

// TestOpenOtherSchemaVersionWaitIsBounded: Open of a file of another
// schema version waits a bounded time for FILE.swap, which a process that
// hangs might hold (found by a review: it waited for good), and gives up
// with ErrProjectionInUse; a context that ends first ends the wait.
func TestOpenOtherSchemaVersionWaitIsBounded(t *testing.T) {
	defer func(w time.Duration) { replaceWait = w }(replaceWait)
	replaceWait = 200 * time.Millisecond
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 5, 1))
	path := filepath.Join(dir, "p.projection")
	p := openProjection(t, st, path, Options{})
	setOtherSchemaVersion(t, p)
	require.NoError(t, p.Close())

	swap, err := os.Open(path + ".swap")
	require.NoError(t, err)
	defer swap.Close()
	require.NoError(t, syscall.Flock(int(swap.Fd()), syscall.LOCK_EX))
	_, err = Open(ctx, st, path, Options{})
	require.ErrorIs(t, err, ErrProjectionInUse)
	replaceWait = time.Hour // the context ends the wait, or the test times out
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err = Open(short, st, path, Options{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, "0", schemaVersionOf(t, path), "kept")

	require.NoError(t, syscall.Flock(int(swap.Fd()), syscall.LOCK_UN))
	openProjection(t, st, path, Options{})
	require.Equal(t, schemaVersion, schemaVersionOf(t, path))
}

// TestRebuildKeepsSQLiteLocks: after a rebuild, the process still holds
// the POSIX locks SQLite takes on the projection file (found by a review:
// closing the rebuild's claim on the file, once renamed and opened,
// dropped them, so another process could take itself for the file's last
// user and checkpoint and delete the WAL under this one).
func TestRebuildKeepsSQLiteLocks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/locks")
	}
	ctx := context.Background()
	p := caughtUp(t, 10, 2)
	path := p.path
	held := func() bool {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		ino := fmt.Sprintf(":%d ", fi.Sys().(*syscall.Stat_t).Ino)
		locks, err := os.ReadFile("/proc/locks")
		require.NoError(t, err)
		pid := fmt.Sprintf(" %d ", os.Getpid())
		for _, l := range strings.Split(string(locks), "\n") {
			if strings.Contains(l, "POSIX") && strings.Contains(l, pid) && strings.Contains(l, ino) {
				return true
			}
		}
		return false
	}
	// A query holds a read transaction's lock while it runs; the writer's
	// connection holds SQLite's lock on a WAL file for as long as it is
	// open.
	require.True(t, held(), "SQLite holds a lock on the open projection")
	_, err := p.Rebuild(ctx, nil)
	require.NoError(t, err)
	require.True(t, held(), "and on the rebuilt one")
}
