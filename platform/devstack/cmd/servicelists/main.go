// Command servicelists writes every file that lists StreamForge's services
// from the one table, libs/protocol/services.go: the Strimzi KafkaUsers,
// copy-kafka-secrets.sh's default list, the CI deployer's RBAC, the Vault
// SecretProviderClass and the Strimzi README's table of rights. A target is a whole file or a marked region of a
// hand-written one (targets.go).
//
//	go run ./platform/devstack/cmd/servicelists          rewrite what is stale (make generate)
//	go run ./platform/devstack/cmd/servicelists -check   list what is stale, exit 1 (make lint)
//
// Run it from the repository root, or give -root.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/streamforge/streamforge/libs/service"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the whole command: 0 when the files are (now) current, 1 when
// -check found stale ones or a file could not be read or written, 2 on a
// bad flag.
func run(args []string, stdout, stderr io.Writer) int {
	if service.VersionArg(args, "servicelists", stdout) {
		return 0
	}
	fs := flag.NewFlagSet("servicelists", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "write nothing: list the stale files and exit 1 if there are any")
	root := fs.String("root", ".", "the repository root")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	stale, err := sync(*root, targets, !*check)
	if err != nil {
		fmt.Fprintf(stderr, "servicelists: %v\n", err)
		return 1
	}
	switch {
	case len(stale) > 0 && *check:
		fmt.Fprintln(stderr, "generated from libs/protocol/services.go but stale (edit the table, then run make generate):")
		for _, p := range stale {
			fmt.Fprintln(stderr, "  "+p)
		}
		return 1
	case len(stale) > 0:
		for _, p := range stale {
			fmt.Fprintln(stdout, "wrote "+p)
		}
	}
	return 0
}

// errNoRegion is returned when a file lacks the markers of a region.
var errNoRegion = errors.New("no generated region")
