package flow

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// TestSigning: with signing on, the engine signs its commands with the
// task's key and gives the run that key (MESSAGE_KEY), which the workflow
// — as stored and as the API shows it — never holds, and a request's
// options cannot replace; an event with no or a wrong signature changes
// nothing, the one signed with the task's key is applied.
func TestSigning(t *testing.T) {
	secret := []byte("queue-manager's signing secret, 32 bytes")
	r := newRig(t, "", nil, Options{Signing: Signing{Mode: protocol.SigningRequired, Secret: secret}})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	s := w.Steps[0]
	key := protocol.TaskKey(secret, s.QueueID)
	r.l.mu.Lock()
	spec := r.l.launched[0]
	r.l.mu.Unlock()
	if spec.Env["MESSAGE_SIGNING"] != "required" || spec.Secrets["MESSAGE_KEY"] != hex.EncodeToString(key) ||
		spec.Env["MESSAGE_KEY"] != "" {
		t.Errorf("run env MESSAGE_SIGNING=%q, secret MESSAGE_KEY=%q, env MESSAGE_KEY=%q; want required, the task's key as a secret only",
			spec.Env["MESSAGE_SIGNING"], spec.Secrets["MESSAGE_KEY"], spec.Env["MESSAGE_KEY"])
	}
	r.pub.mu.Lock()
	cmds := append([]protocol.Command(nil), r.pub.cmds...)
	r.pub.mu.Unlock()
	if len(cmds) == 0 || cmds[0].CheckSig(key) != protocol.SigValid {
		t.Errorf("start command %+v not signed with the task's key", cmds)
	}
	for _, got := range []*Workflow{r.get(w.ID), r.stored(w.ID)} {
		b, _ := json.Marshal(got)
		if strings.Contains(string(b), hex.EncodeToString(key)) || strings.Contains(string(b), "MESSAGE_KEY") {
			t.Errorf("the workflow holds the task's key: %s", b)
		}
	}

	r.event(s, protocol.StatusFinished, 999) // unsigned
	r.event(s, protocol.StatusFinished, 998, func(e *protocol.Event) { e.Sign([]byte("someone else's key, 32 bytes....")) })
	if got := r.get(w.ID); got.Steps[0].State != Running || got.Steps[0].Records != 0 {
		t.Fatalf("after forged finished events: step %s with %d records, want running with 0", got.Steps[0].State, got.Steps[0].Records)
	}
	r.event(s, protocol.StatusFinished, 42, func(e *protocol.Event) { e.Sign(key) })
	if got := r.get(w.ID); got.State != Finished || got.Steps[0].Records != 42 {
		t.Errorf("after the signed finished event: workflow %s, %d records, want finished with 42", got.State, got.Steps[0].Records)
	}
}

// TestSigningPermissive: during a rolling upgrade (permissive) an unsigned
// event of a worker that does not sign yet is applied, a wrongly signed one
// never is.
func TestSigningPermissive(t *testing.T) {
	secret := []byte("queue-manager's signing secret, 32 bytes")
	r := newRig(t, "", nil, Options{Signing: Signing{Mode: protocol.SigningPermissive, Secret: secret}})
	w, err := r.eng.Submit(context.Background(), oneLoad())
	if err != nil {
		t.Fatal(err)
	}
	s := w.Steps[0]
	r.event(s, protocol.StatusLoading, 7, func(e *protocol.Event) { e.Sign([]byte("someone else's key, 32 bytes....")) })
	if got := r.get(w.ID).Steps[0].Records; got != 0 {
		t.Errorf("a wrongly signed event was applied while permissive: %d records", got)
	}
	r.event(s, protocol.StatusLoading, 5) // unsigned: an older worker
	if got := r.get(w.ID).Steps[0].Records; got != 5 {
		t.Errorf("an unsigned event was not applied while permissive: %d records, want 5", got)
	}
}
