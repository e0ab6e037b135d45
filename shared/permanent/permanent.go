// Package permanent marks the errors that retrying cannot fix. A pipeline
// stage returns one for a message it can never handle (its ledger entry is
// gone, its job was removed, it is over a hard limit); the queue consumer
// then records the failure in the ledger and acknowledges the delivery
// instead of letting the queue hand it out again.
package permanent

import "errors"

// Error is an error that retrying cannot fix.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Permanent marks the error as one that retrying cannot fix.
func (e *Error) Permanent() bool { return true }

// Is reports whether err, or an error it wraps, says that retrying cannot
// fix it: an *Error, or any error with a Permanent method that returns true.
func Is(err error) bool {
	var pe interface {
		error
		Permanent() bool
	}
	return errors.As(err, &pe) && pe.Permanent()
}
