//go:build !unix

package projection

import (
	"context"
	"errors"
	"os"
)

// fileLock does nothing on systems without flock yet: there, Rebuild does
// not find out whether another process has the projection open.
type fileLock struct{}

func openLock(string) (*fileLock, error) { return &fileLock{}, nil }
func (*fileLock) shared() error          { return nil }
func (*fileLock) exclusive() error       { return nil }
func (*fileLock) close() error           { return nil }
func (*fileLock) discard() error         { return nil }

func (*fileLock) replace(_ context.Context, replaced func() bool, remove func() error) error {
	if replaced() {
		return nil
	}
	return remove()
}

// claim cannot tell a file a live rebuild writes from one a crash left
// there yet.
func claim(string) (*os.File, error) { return nil, errors.ErrUnsupported }
