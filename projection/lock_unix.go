//go:build unix

package projection

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLock is an advisory lock beside the projection (its path with
// ".lock" added) that tells processes apart: every Projector holds it
// shared while it has the file open, and Rebuild holds it exclusive to
// swap a new file in, which it may do only when no other process has the
// projection open (swapping would pull the file and its WAL from under
// their connections).
type fileLock struct{ f *os.File }

func openLock(path string) (*fileLock, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("projection: %w", err)
	}
	return &fileLock{f}, nil
}

// shared waits for the lock shared (a swap by another process ends soon).
func (l *fileLock) shared() error {
	return flock(l.f, syscall.LOCK_SH)
}

// exclusive takes the lock exclusive if no other process holds it, and
// reports ErrProjectionInUse otherwise.
func (l *fileLock) exclusive() error {
	err := flock(l.f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		// A conversion that fails may have dropped the shared lock.
		if err := l.shared(); err != nil {
			return err
		}
		return ErrProjectionInUse
	}
	return err
}

func (l *fileLock) close() error { return l.f.Close() }

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
