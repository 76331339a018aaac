package eventstore

import (
	"errors"
	"fmt"

	"github.com/oklog/ulid/v2"
)

var (
	// ErrConflict matches a *ConflictError: an append's Condition did not hold.
	ErrConflict = errors.New("eventstore: append conflict")
	// ErrInvalid matches an append that was refused because its input was
	// malformed (no stream, no type, no command id, a payload that is not JSON…).
	ErrInvalid = errors.New("eventstore: invalid append")
	// ErrChain matches a *ChainError: the hash chain does not verify.
	ErrChain = errors.New("eventstore: hash chain broken")
	// ErrClosed is returned by a store that has been closed.
	ErrClosed = errors.New("eventstore: store closed")
	// ErrOutcomeUnknown matches an append that may or may not be in the
	// log: its caller stopped waiting after the store had begun to write
	// it (see Ticket), or the commit failed in a way that may have
	// reached the disk (an fsync that failed after the write). Repeating
	// the append with the same command id is safe: it is written, or
	// answered as a duplicate with the events of the first.
	ErrOutcomeUnknown = errors.New("eventstore: outcome of the append unknown")
)

// ConflictError says which expectation of a Condition failed.
// It matches ErrConflict with errors.Is.
type ConflictError struct {
	// Stream is the stream whose version did not match; empty when the
	// global head did not match.
	Stream           StreamID
	Expected, Actual Version
	// ExpectedHead and ActualHead are set when the global head did not match.
	ExpectedHead, ActualHead Position
	// ExpectedEventID and ActualEventID are set when the head was at the
	// expected position but held another event than Condition.HeadEventID.
	ExpectedEventID, ActualEventID ulid.ULID
}

func (e *ConflictError) Error() string {
	if e.ExpectedEventID != (ulid.ULID{}) {
		return fmt.Sprintf("eventstore: append conflict: expected event %s at position %d, found %s",
			e.ExpectedEventID, e.ExpectedHead, e.ActualEventID)
	}
	if e.Stream == "" {
		return fmt.Sprintf("eventstore: append conflict: expected head at position %d, log is at %d",
			e.ExpectedHead, e.ActualHead)
	}
	return fmt.Sprintf("eventstore: append conflict: expected stream %q at version %d, it is at %d",
		e.Stream, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// CommandReusedError is the answer to an append whose command id the log
// already holds for another command (another Metadata.CommandDigest), as
// payment APIs refuse an idempotency key reused with other parameters. It
// matches ErrConflict with errors.Is. Nothing is appended.
type CommandReusedError struct {
	CommandID string
	// Position is where the first command's events begin.
	Position Position
}

func (e *CommandReusedError) Error() string {
	return fmt.Sprintf("eventstore: append conflict: command id %q was used at position %d for another command", e.CommandID, e.Position)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *CommandReusedError) Is(target error) bool { return target == ErrConflict }

// CheckRepeat decides an append under a command id the log already holds,
// whose events are first: a repeat of the same command (the same digest,
// or either without one) is answered with them; another command is
// refused with a *CommandReusedError. Backends call it.
func CheckRepeat(events []NewEvent, first []Event) error {
	if len(events) == 0 || len(first) == 0 {
		return nil
	}
	was, now := first[0].Metadata.CommandDigest, events[0].Metadata.CommandDigest
	if was != "" && now != "" && was != now {
		return &CommandReusedError{CommandID: events[0].Metadata.CommandID, Position: first[0].Position}
	}
	return nil
}

// ChainError names the first position at which the log does not verify and
// why. It matches ErrChain with errors.Is.
type ChainError struct {
	Position Position
	Reason   string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("eventstore: hash chain broken at position %d: %s", e.Position, e.Reason)
}

// Is makes errors.Is(err, ErrChain) true.
func (e *ChainError) Is(target error) bool { return target == ErrChain }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
