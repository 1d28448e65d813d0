package protocol

import (
	"strconv"
	"strings"
)

// RunID names attempt n (1 for the first) of the step of kind in the task
// queueID: "<queue id>.<kind>.<n>". queue-manager gives it to each run
// (RUN_ID), and every event the run sends carries it.
func RunID(queueID, kind string, n int) string {
	return queueID + "." + kind + "." + strconv.Itoa(n)
}

// IsRunOf reports whether runID names an attempt of the step of kind in
// the task queueID.
func IsRunOf(runID, queueID, kind string) bool {
	n, ok := strings.CutPrefix(runID, queueID+"."+kind+".")
	if !ok {
		return false
	}
	i, err := strconv.Atoi(n)
	return err == nil && i > 0
}
