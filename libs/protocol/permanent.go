package protocol

import "errors"

// PermanentError wraps an error that a retry cannot fix: the worker's error
// event carries permanent=true, and queue-manager does not relaunch the
// step.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as one a retry cannot fix (nil stays nil).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	_, ok := errors.AsType[*PermanentError](err)
	return ok
}

// Reasons a worker gives in its interrupted event's message: a stop command
// for its run, or a signal (a node draining, a terminal's Ctrl-C).
// queue-manager tells them apart: a stop on request ends the step stopped,
// a signal it did not ask for is a failed attempt.
const (
	ReasonStopRequested = "stopped on request"
	ReasonSignal        = "stopped by signal"
)
