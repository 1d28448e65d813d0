package demo

import (
	"fmt"
	"io"
	"path/filepath"
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
	fmt.Fprintf(w, "  %-40s Scenario 3: is volume correlated with volatility? (on the data just collected)\n", notebook)
	fmt.Fprintf(w, "  %-40s keep the stack running: API %s/api/v1/workflows, OpenAPI %s/openapi.yaml\n", up, api, api)
	fmt.Fprintf(w, "  %-40s Scenario 2: a live market, stopped with Ctrl-C\n", "make stream SYMBOL=ETHUSDT")
	fmt.Fprintf(w, "  %-40s remove the Kafka log, store, artifacts and logs\n", clean)
}
