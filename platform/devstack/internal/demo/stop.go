package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
)

// stopTimeout bounds the stop devstack completes through the API before it
// shuts queue-manager down: the workers' own stop plus queue-manager's
// grace period.
const stopTimeout = time.Minute

// stopWorkflow stops workflow id through queue-manager's API and waits,
// at most stopTimeout, until it has ended, so that a restart finds it
// stopped rather than still running. ctx may already be cancelled (Ctrl-C):
// the stop runs without it.
func stopWorkflow(ctx context.Context, out io.Writer, c *scenario.Client, id string) {
	fmt.Fprintf(out, "\nstopping workflow %s through the API (Ctrl-C again quits at once)\n", id)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	w, err := c.StopAndWait(sctx, id, 250*time.Millisecond)
	switch {
	case err != nil:
		fmt.Fprintf(out, "stop %s: %v\n", id, err)
	default:
		fmt.Fprintf(out, "workflow %s %s\n", id, w.State)
	}
}
