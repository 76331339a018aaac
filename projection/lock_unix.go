//go:build unix

package projection

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// fileLock is an advisory lock beside the projection (its path with
// ".lock" added) that tells processes apart: every Projector holds it
// shared while it has the file open, and Rebuild holds it exclusive to
// swap a new file in, which it may do only when no other process has the
// projection open (swapping would pull the file and its WAL from under
// their connections).
//
// flock converts a shared lock to exclusive by dropping it first, and a
// conversion that fails leaves it dropped: while one holder re-takes it,
// another holder's conversion would succeed and swap the file under the
// first one's connections. So a conversion is made only by the holder of
// a second lock (the path with ".swap" added), held exclusive from the
// attempt until the lock is shared again.
type fileLock struct {
	f, swap  *os.File
	swapping bool     // swap is held
	made     []string // the lock files openLock created
}

func openLock(path string) (*fileLock, error) {
	l := &fileLock{}
	var err error
	if l.f, err = l.open(path + ".lock"); err != nil {
		return nil, fmt.Errorf("projection: %w", err)
	}
	if l.swap, err = l.open(path + ".swap"); err != nil {
		l.f.Close()
		l.removeMade()
		return nil, fmt.Errorf("projection: %w", err)
	}
	return l, nil
}

// open opens a lock file, creating it if it is missing and noting that.
func (l *fileLock) open(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		l.made = append(l.made, name)
		return f, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}

// discard closes the lock and removes the lock files it created, for a
// path that turned out not to be a projection (so that no other
// Projector can be using them).
func (l *fileLock) discard() error {
	err := l.close()
	l.removeMade()
	return err
}

func (l *fileLock) removeMade() {
	for _, name := range l.made {
		os.Remove(name)
	}
}

// shared waits for the lock shared (a swap by another process ends soon).
func (l *fileLock) shared() error {
	err := flock(l.f, syscall.LOCK_SH)
	if l.swapping {
		l.swapping = false
		err = errors.Join(err, flock(l.swap, syscall.LOCK_UN))
	}
	return err
}

// exclusive takes the lock exclusive if no other process holds it, and
// reports ErrProjectionInUse otherwise. The caller must hold it shared,
// and calls shared once done; if exclusive fails, it holds it shared
// again, unless the error says that failed too.
func (l *fileLock) exclusive() error {
	err := flock(l.swap, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrProjectionInUse // its holder has the projection open
	}
	if err != nil {
		return err
	}
	l.swapping = true
	err = flock(l.f, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		err = ErrProjectionInUse
	}
	// The conversion dropped the shared lock; no one else converts while
	// this one holds swap.
	return errors.Join(err, l.shared())
}

// replace runs remove with the lock exclusive, for a caller that has
// nothing of the projection open, unless replaced reports that another
// process did it meanwhile. It gives its shared lock up and takes swap, so
// that processes replacing the file at once do so one after the other
// (the later ones find it replaced), then takes the lock exclusive. It
// waits up to replaceWait in all, and reports ErrProjectionInUse if
// another process holds either lock all that time (ctx's error if ctx is
// done first). The lock is shared again on return, unless the error says
// that failed too.
func (l *fileLock) replace(ctx context.Context, replaced func() bool, remove func() error) error {
	if err := flock(l.f, syscall.LOCK_UN); err != nil {
		return err
	}
	deadline := time.Now().Add(replaceWait)
	if err := waitExclusive(ctx, l.swap, deadline); err != nil {
		return errors.Join(err, l.shared())
	}
	l.swapping = true
	if replaced() {
		return l.shared()
	}
	err := waitExclusive(ctx, l.f, deadline)
	if err == nil {
		err = remove()
	}
	return errors.Join(err, l.shared())
}

// waitExclusive takes f's flock exclusive, trying until deadline or until
// ctx is done (flock's own wait could be neither bounded nor canceled).
func waitExclusive(ctx context.Context, f *os.File, deadline time.Time) error {
	for {
		err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return ErrProjectionInUse
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *fileLock) close() error { return errors.Join(l.f.Close(), l.swap.Close()) }

// claim takes the flock of the file at path exclusive, without waiting,
// on a descriptor of its own, and returns that file; nil if another
// descriptor holds the lock. A rebuild claims the file it writes, so that
// a file whose claim can be taken was left by a process that died (the
// kernel drops a process's locks with it).
func claim(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, nil
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
