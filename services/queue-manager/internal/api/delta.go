package api

import (
	"time"

	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// StepDelta is the data of a `step` or `progress` Server-Sent Event: the one
// step that changed and the workflow's state after the change, rather than
// the whole workflow (a client keeps the snapshot of the first `workflow`
// event and replaces the step with the same id).
type StepDelta struct {
	Kind    string     `json:"kind"` // step or progress
	ID      string     `json:"id"`   // the workflow
	State   string     `json:"state"`
	Error   string     `json:"error,omitempty"`
	Updated time.Time  `json:"updated"`
	Step    *flow.Step `json:"step"`
}

// sseData returns the event name and the data of a change: a delta when
// one step changed, the whole workflow otherwise.
func sseData(c flow.Change) (string, any) {
	if c.Step != "" && (c.Kind == "step" || c.Kind == "progress") {
		if s := c.Workflow.Step(c.Step); s != nil {
			return c.Kind, StepDelta{Kind: c.Kind, ID: c.Workflow.ID, State: c.Workflow.State, Error: c.Workflow.Error,
				Updated: c.Workflow.Updated, Step: s}
		}
	}
	return "workflow", flow.Change{Kind: "workflow", Workflow: c.Workflow}
}
