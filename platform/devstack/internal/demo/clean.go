package demo

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// Clean removes a data directory's Kafka log, store, artifacts and logs:
// after --yes, or after "y" on a terminal; never while a stack runs on it.
func Clean(_ context.Context, args []string, stdout, stderr io.Writer) int {
	return clean(args, os.Stdin, isTerminal(os.Stdin), stdout, stderr)
}

func clean(args []string, stdin io.Reader, ask bool, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack clean", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", "data", "the data directory of devstack up, demo or stream")
	yes := fs.Bool("yes", false, "remove without asking")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	entries, err := stack.DataContents(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: clean: %v\n", err)
		return 1
	}
	if len(entries) == 0 {
		fmt.Fprintf(stdout, "%s: nothing to remove\n", *dir)
		return 0
	}
	var total int64
	for _, e := range entries {
		fmt.Fprintf(stdout, "  %-50s %10s\n", e.Path, humanize.IBytes(uint64(e.Bytes)))
		total += e.Bytes
	}
	if !*yes {
		if !ask {
			fmt.Fprintf(stderr, "devstack: clean: would remove the %d entries above (%s); nothing removed: pass --yes\n", len(entries), humanize.IBytes(uint64(total)))
			return 2
		}
		fmt.Fprintf(stdout, "remove these (%s)? [y/N] ", humanize.IBytes(uint64(total)))
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(stdout, "nothing removed")
			return 1
		}
	}
	if _, err := stack.Clean(*dir); err != nil {
		fmt.Fprintf(stderr, "devstack: clean: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "removed %s from %s\n", humanize.IBytes(uint64(total)), *dir)
	return 0
}
