package entitlement

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sentinel errors. Every refusal of a command or a read (an *Error, which
// carries the details) matches exactly one of them with errors.Is. The
// other errors Execute returns are not refusals and match none: the
// caller's context ending before the append was written (ctx.Err(),
// wrapped), an *OutcomeUnknownError, and errors of the store.
var (
	// ErrForbidden: the actor may not do this (HTTP 403 in Graph).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: an object the command names does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the input is malformed or breaks a rule of the model (400).
	// errors.As(err, &*InvalidError) gives the field and the reason.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict: the command clashes with the current state, such as
	// deleting a catalog that still holds packages, or deciding a stage that
	// was already decided (409).
	ErrConflict = errors.New("conflict with current state")
	// ErrLimit: a service limit (domain spec §1.18) would be exceeded.
	ErrLimit = errors.New("limit reached")
)

// Error is the error type of package entitlement. It says which operation
// failed, on what, and why; errors.Is(err, Kind) holds for its kind.
type Error struct {
	Op      string // the command or read, e.g. "DeleteCatalog"
	Kind    error  // one of ErrForbidden, ErrNotFound, ErrInvalid, ErrConflict, ErrLimit
	Subject string // the object concerned, e.g. "catalog/1b2c…"
	Reason  string // a sentence for people
	Err     error  // an underlying error, if any
}

// Error says what failed once (an underlying error that only repeats the
// reason is not said again), with a long subject or reason shortened: an
// error never grows with its input.
func (e *Error) Error() string {
	s := e.Op + ": " + e.Kind.Error()
	if e.Subject != "" {
		s += " (" + shorten(e.Subject, 160) + ")"
	}
	if e.Reason != "" {
		s += ": " + shorten(e.Reason, 400)
	}
	if e.Err != nil {
		if inner := e.Err.Error(); inner != e.Reason {
			s += ": " + shorten(inner, 400)
		}
	}
	return s
}

// shorten cuts s to at most n bytes, at a rune boundary, saying how long
// it was.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// Is reports whether target is e's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// InvalidError is the detail of an ErrInvalid: which field is wrong and why.
// It is wrapped in an *Error; reach it with errors.As.
type InvalidError struct {
	Field  string // the JSON path of the field in Graph's shape, e.g. "requestApprovalSettings.stages[0].durationBeforeEscalation"
	Reason string
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalid) hold for a bare *InvalidError too.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// invalid returns an ErrInvalid *Error for op with the field and reason.
func invalid(op, field, format string, args ...any) error {
	ie := &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
	return &Error{Op: op, Kind: ErrInvalid, Reason: ie.Error(), Err: ie}
}

// fail returns an *Error of the given kind.
func fail(op string, kind error, subject, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Subject: subject, Reason: fmt.Sprintf(format, args...)}
}
