package demo

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
)

// Logs prints the output of a workflow's steps through queue-manager's API:
// `devstack logs <workflow> [step]`, every step's latest attempt when no
// step is named.
func Logs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", "http://127.0.0.1:8080", "queue-manager's address")
	attempt := fs.Int("attempt", 0, "the attempt (1 = the first; default the latest)")
	follow := fs.Bool("follow", false, "follow the step's output until its run ends (one step)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage of devstack logs: devstack logs [--api URL] [--attempt N] [--follow] <workflow> [step: its id, kind or queue_id]")
		fs.PrintDefaults()
	}
	// Flags may follow the arguments: devstack logs <id> load --follow.
	var pos []string
	for rest := args; ; {
		if code, ok := parse(fs, rest); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) < 1 || len(pos) > 2 {
		fs.Usage()
		return 2
	}
	c := &scenario.Client{API: *api}
	if len(pos) == 2 {
		if err := c.Logs(ctx, pos[0], pos[1], *attempt, *follow, stdout); err != nil {
			fmt.Fprintf(stderr, "devstack: %v\n", err)
			return 1
		}
		return 0
	}
	w, err := c.Get(ctx, pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	code := 0
	for _, s := range w.Steps {
		if len(s.Attempts) == 0 {
			fmt.Fprintf(stdout, "== %s: not launched (%s)\n", s.ID, s.State)
			continue
		}
		fmt.Fprintf(stdout, "== %s, attempt %d (%s)\n", s.ID, len(s.Attempts), s.State)
		if err := c.Logs(ctx, w.ID, s.ID, *attempt, false, stdout); err != nil {
			fmt.Fprintf(stderr, "devstack: %v\n", err)
			code = 1
		}
	}
	return code
}
