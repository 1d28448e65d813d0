package demo

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// nextSteps tells a person who just ran the demo where to go from here:
// the notebook on the data just collected, the stack kept up with its API,
// the live stream, the cleanup. dataDir is the demo's --data-dir as given,
// api queue-manager's URL.
func nextSteps(w io.Writer, dataDir, api string) {
	notebook, up, clean := "make notebook", "make up", "make clean-data"
	if filepath.Clean(dataDir) != "data" {
		notebook = "platform/scripts/notebook.sh " + dataDir
		up = "bin/devstack up --data-dir " + dataDir
		clean = "bin/devstack clean --data-dir " + dataDir
	}
	fmt.Fprintf(w, "\nNext:\n")
	for _, l := range [][2]string{
		{notebook, "Scenario 3: are volume and volatility correlated? (on the data just collected)"},
		{up, fmt.Sprintf("keep the stack running: console %s%s, API %s/api/v1/workflows, OpenAPI %s/openapi.yaml", api, stack.ConsolePath, api, api)},
		{"make stream SYMBOL=ETHUSDT", "Scenario 2: a live market, stopped with Ctrl-C"},
		{clean, "remove the Kafka log, store, artifacts and logs"},
	} {
		fmt.Fprintf(w, "  %s\n      %s\n", l[0], l[1])
	}
}
