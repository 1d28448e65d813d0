package e2e

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// TestEmbeddedForgedLoaderFinished: with MESSAGE_SIGNING=required, a
// loader finished event that is unsigned or signed with another task's key
// — what anyone who can write queue-events could send — does not end the
// connector: it counts the forgery and keeps waiting; the finished event
// signed with the task's key does end it, with every record stored.
func TestEmbeddedForgedLoaderFinished(t *testing.T) {
	cfg := plain(t)
	tk := newTask(t, cfg)
	const n = 2000
	docs := candles(n)
	produce(t, cfg, tk.topic, docs)
	secret := []byte("a secret of queue-manager's, 32+ bytes")
	key := protocol.TaskKey(secret, tk.queueID)
	p := startConnector(t, cfg, tk, "MESSAGE_SIGNING=required", "MESSAGE_KEY="+hex.EncodeToString(key))
	ev := testkit.WatchEvents(t, cfg, tk.queueID)
	waitCount(t, tk, p, n) // the records are stored; only the loader's finished is missing

	finished := func() protocol.Event {
		return protocol.Event{QueueID: tk.queueID, Producer: "loader-producer__abcdef", Symbol: symbol, Type: "api_candles_1m",
			Status: protocol.StatusFinished, RecordsWritten: n, Finished: true, Timestamp: protocol.Timestamp(time.Now())}
	}
	unsigned := finished()
	publish(t, cfg, protocol.TopicEvents, tk.queueID, unsigned)
	wrongKey := finished()
	wrongKey.Sign(protocol.TaskKey(secret, "wf-ethusdt-api_candles_1m-20240801-ffffff"))
	publish(t, cfg, protocol.TopicEvents, tk.queueID, wrongKey)

	deadline := time.Now().Add(30 * time.Second)
	for {
		m := p.Metrics(t)
		if strings.Contains(m, `streamforge_connector_events_unverified_total{check="unsigned",outcome="refused"} 1`) &&
			strings.Contains(m, `streamforge_connector_events_unverified_total{check="bad_signature",outcome="refused"} 1`) {
			break
		}
		select {
		case <-p.Done():
			t.Fatalf("the connector ended on a forged finished event (exit %d)", p.Cmd.ProcessState.ExitCode())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("forgeries not counted:\n%s", testkit.Grep(m, "unverified"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, e := range ev.All() {
		if e.Status == protocol.StatusFinished && strings.HasPrefix(e.Producer, "arango-connector__") {
			t.Fatalf("the connector reported finished after forged events: %+v", e)
		}
	}

	genuine := finished()
	genuine.Sign(key)
	publish(t, cfg, protocol.TopicEvents, tk.queueID, genuine)
	if code := p.Wait(t, time.Minute); code != 0 {
		t.Fatalf("connector exit %d after its loader's signed finished, want 0", code)
	}
	fin := ev.WaitForFrom(t, "arango-connector", protocol.StatusFinished, 10*time.Second)
	if fin.RecordsWritten != n {
		t.Errorf("finished with %d records, want %d", fin.RecordsWritten, n)
	}
	if fin.CheckSig(key) != protocol.SigValid {
		t.Errorf("the connector's own finished event is not signed with the task's key: %+v", fin)
	}
	checkExact(t, tk, docs)
}
