package launch

import (
	"context"
	"errors"
	"io"
)

// Logs is a launcher that keeps its runs' output: the local launcher's
// file per run, a Kubernetes Pod's log.
type Logs interface {
	// Logs returns the output of run; with follow it goes on until the run
	// ends or ctx does. ErrNoLogs when there is none (an unknown run, one
	// whose output was not kept or is gone).
	Logs(ctx context.Context, run string, follow bool) (io.ReadCloser, error)
}

// ErrNoLogs is returned for a run without logs.
var ErrNoLogs = errors.New("no logs for this run")
