//go:build unix

package projection

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRebuildRemovesAbandonedFiles: a file a rebuild left when its process
// died (nothing holds its claim) is removed by the next Rebuild; one that
// a live rebuild holds, and the projection's other files, are not.
func TestRebuildRemovesAbandonedFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openLog(t, buildLog(t, dir, 10, 2))
	path := filepath.Join(dir, "p.projection")
	p := openProjection(t, st, path, Options{})
	_, err := p.CatchUp(ctx)
	require.NoError(t, err)

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
	left, err := filepath.Glob(path + ".rebuild-*")
	require.NoError(t, err)
	require.Equal(t, []string{live}, left, "the rebuild's own file is gone after the swap")
}
