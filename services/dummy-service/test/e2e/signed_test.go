package e2e

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// testSignedCommands: a worker launched with signing required (as
// queue-manager launches them) ignores debug-producer's unsigned ping, and
// answers and stops when debug-producer is given queue-manager's secret.
func testSignedCommands(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	const secret = "a-test-secret-of-at-least-32-characters"
	key := hex.EncodeToString(protocol.TaskKey([]byte(secret), q))
	ev := testkit.WatchEvents(t, cfg, q)
	w := startDummy(t, cfg, q, []string{"RUN_ID=" + q + ".load.1", "MESSAGE_SIGNING=required", "MESSAGE_KEY=" + key})
	defer func() { _ = w.Cmd.Process.Kill() }()
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)

	if code, out, errOut := debugProducer(t, cfg, "--queue-id", q, "--command", "ping", "--expect-pong", "--timeout", "5s"); code == 0 {
		t.Fatalf("an unsigned ping was answered: %s%s", out, errOut)
	}
	if code, _, errOut := debugProducerEnv(t, cfg, []string{"MESSAGE_SIGNING_SECRET=short"}, "--queue-id", q); code != 2 ||
		!strings.Contains(errOut, "MESSAGE_SIGNING_SECRET") {
		t.Errorf("a short secret: exit %d %q, want 2 naming MESSAGE_SIGNING_SECRET", code, errOut)
	}
	signed := []string{"MESSAGE_SIGNING_SECRET=" + secret}
	code, out, errOut := debugProducerEnv(t, cfg, signed, "--queue-id", q, "--command", "stop", "--expect-finish", "--timeout", "20s")
	if code != 0 || !strings.Contains(out, "interrupted") {
		t.Fatalf("signed stop: exit %d: %s%s", code, out, errOut)
	}
	if c := w.Wait(t, 20*time.Second); c != 0 {
		t.Fatalf("worker exit %d after the signed stop, want 0", c)
	}
}
