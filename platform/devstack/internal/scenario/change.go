package scenario

import (
	"encoding/json"
	"fmt"
)

// applyChange returns the workflow after one Server-Sent Event of
// queue-manager: a `workflow` event carries the whole workflow; a `step` or
// `progress` event carries the changed step and the workflow's state, which
// replace those of last (the snapshot the stream began with).
func applyChange(last *Workflow, event, data string) (*Workflow, error) {
	if event == "workflow" || last == nil {
		var ch struct {
			Workflow *Workflow `json:"workflow"`
		}
		if err := json.Unmarshal([]byte(data), &ch); err != nil || ch.Workflow == nil {
			return last, fmt.Errorf("event %s: %q is not a workflow", event, data)
		}
		return ch.Workflow, nil
	}
	var d struct {
		State string `json:"state"`
		Error string `json:"error"`
		Step  *Step  `json:"step"`
	}
	if err := json.Unmarshal([]byte(data), &d); err != nil || d.Step == nil {
		return last, fmt.Errorf("event %s: %q is not a step change", event, data)
	}
	next := *last
	next.State, next.Error = d.State, d.Error
	next.Steps = make([]*Step, len(last.Steps))
	copy(next.Steps, last.Steps)
	for i, s := range next.Steps {
		if s.ID == d.Step.ID {
			next.Steps[i] = d.Step
			return &next, nil
		}
	}
	next.Steps = append(next.Steps, d.Step)
	return &next, nil
}
