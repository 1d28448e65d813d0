package scenario

import "testing"

// TestApplyChange: a step change replaces its step and the workflow's
// state in the snapshot, and leaves the other steps as they were.
func TestApplyChange(t *testing.T) {
	snap, err := applyChange(nil, "workflow",
		`{"kind":"workflow","workflow":{"id":"w","state":"running","steps":[{"id":"a","state":"running"},{"id":"b","state":"pending"}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := applyChange(snap, "step", `{"kind":"step","id":"w","state":"failed","error":"step a failed: SYMBOL: bad",`+
		`"step":{"id":"a","state":"failed","error":"SYMBOL: bad"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "failed" || got.Error != "step a failed: SYMBOL: bad" || got.Steps[0].Error != "SYMBOL: bad" || got.Steps[1].State != "pending" {
		t.Errorf("after the change: %+v %+v %+v", got, got.Steps[0], got.Steps[1])
	}
	if snap.Steps[0].State != "running" {
		t.Errorf("the snapshot was changed in place: %+v", snap.Steps[0])
	}
	if _, err := applyChange(snap, "progress", `{"kind":"progress"}`); err == nil {
		t.Error("a change without its step was applied")
	}
}
