package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/testkit"
)

// pingWithin is the longest a pong may take from sending ping, when checked.
const pingWithin = time.Second

// testPingPong: debug-producer ping gets dummy-service's pong.
func testPingPong(t *testing.T, cfg bus.Config, checkLatency bool) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	ev := testkit.WatchEvents(t, cfg, q)
	p := startDummy(t, cfg, q, nil)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)

	code, out, errOut := debugProducer(t, cfg, "--queue-id", q, "--command", "ping", "--expect-pong", "--timeout", "10s")
	if code != 0 {
		t.Fatalf("debug-producer exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "pong from dummy-service__") {
		t.Errorf("debug-producer said %q, want the pong's producer", out)
	}
	took := pongLatency(t, out)
	t.Logf("pong after %s", took)
	if checkLatency && took > pingWithin {
		t.Errorf("pong took %s, want under %s", took, pingWithin)
	}
	pong := ev.WaitFor(t, protocol.StatusPong, 5*time.Second)
	if !strings.HasPrefix(pong.ReplyTo, "debug-producer-") {
		t.Errorf("pong reply_to = %q, want the ping's command_id", pong.ReplyTo)
	}
	if metrics := p.Metrics(t); !strings.Contains(metrics, `streamforge_control_commands_total{command="ping"} 1`) {
		t.Errorf("ping not counted in metrics:\n%s", testkit.Grep(metrics, "streamforge_control"))
	}
}

// testStop: stop produces an interrupted event and dummy-service exits 0.
func testStop(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	ev := testkit.WatchEvents(t, cfg, q)
	p := startDummy(t, cfg, q, nil)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)

	code, out, errOut := debugProducer(t, cfg, "--queue-id", q, "--command", "stop", "--expect-finish", "--timeout", "15s")
	if code != 0 {
		t.Fatalf("debug-producer exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "interrupted") {
		t.Errorf("debug-producer said %q, want interrupted", out)
	}
	if c := p.Wait(t, 20*time.Second); c != 0 {
		t.Fatalf("dummy-service exit %d after stop, want 0", c)
	}
	last := ev.All()[len(ev.All())-1]
	if last.Status != protocol.StatusInterrupted || !last.Finished {
		t.Errorf("last event = %+v, want interrupted with finished=true", last)
	}
}

// testStopDuringLoad: a stop during a simulated load ends it after the
// current batch, with the records done so far.
func testStopDuringLoad(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	ev := testkit.WatchEvents(t, cfg, q)
	p := startDummy(t, cfg, q, []string{"DUMMY_RECORDS=1000000", "DUMMY_RATE=2000", "DUMMY_BATCH_SIZE=100"}, "--simulate-loading")
	ev.WaitFor(t, protocol.StatusLoading, 30*time.Second)
	code, out, errOut := debugProducer(t, cfg, "--queue-id", q, "--command", "stop", "--expect-finish", "--timeout", "15s")
	if code != 0 {
		t.Fatalf("debug-producer exit %d: %s%s", code, out, errOut)
	}
	if c := p.Wait(t, 20*time.Second); c != 0 {
		t.Fatalf("dummy-service exit %d after stop, want 0", c)
	}
	in := ev.WaitFor(t, protocol.StatusInterrupted, 5*time.Second)
	if in.RecordsWritten <= 0 || in.RecordsWritten%100 != 0 || in.RecordsWritten >= 1000000 {
		t.Errorf("interrupted after %d records, want a positive whole number of batches of 100, short of the total", in.RecordsWritten)
	}
}

// testSigterm: SIGTERM (a deleted pod) ends the worker with interrupted, exit 0.
func testSigterm(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	ev := testkit.WatchEvents(t, cfg, q)
	p := startDummy(t, cfg, q, nil)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := p.Wait(t, 20*time.Second); c != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0", c)
	}
	in := ev.WaitFor(t, protocol.StatusInterrupted, 5*time.Second)
	if in.Message != "stopped by signal" {
		t.Errorf("interrupted message = %q", in.Message)
	}
}

// testFailAfter: --fail-after 100 sends an error event with
// records_written=100 and exits non-zero.
func testFailAfter(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	ev := testkit.WatchEvents(t, cfg, q)
	p := startDummy(t, cfg, q, []string{"DUMMY_RATE=0", "DUMMY_BATCH_SIZE=30"}, "--fail-after", "100")
	if c := p.Wait(t, 30*time.Second); c == 0 {
		t.Fatal("dummy-service exited 0 with --fail-after")
	}
	e := ev.WaitFor(t, protocol.StatusError, 5*time.Second)
	if e.RecordsWritten != 100 || !e.Finished || !strings.Contains(e.Error, "fail-after") {
		t.Errorf("error event = %+v, want records_written=100, finished, a reason", e)
	}
	if !strings.Contains(p.Stderr(), "dummy-service: simulated failure after 100 records") {
		t.Errorf("stderr lacks the one-line reason:\n%s", p.Stderr())
	}
}

// testSimulateLoading: the load writes its records to the data topic and
// reports progress, then finished with the exact count.
func testSimulateLoading(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	topic := protocol.DataTopic(q)
	ev := testkit.WatchEvents(t, cfg, q)
	p := startDummy(t, cfg, q, []string{"DUMMY_RECORDS=2500", "DUMMY_RATE=0", "DUMMY_BATCH_SIZE=1000", "KAFKA_TOPIC=" + topic, "KAFKA_CREATE_TOPICS=true", "SYMBOL=ETHUSDT"}, "--simulate-loading")
	if c := p.Wait(t, 60*time.Second); c != 0 {
		t.Fatalf("exit %d, want 0", c)
	}
	fin := ev.WaitFor(t, protocol.StatusFinished, 5*time.Second)
	if fin.RecordsWritten != 2500 || !fin.Finished {
		t.Errorf("finished event = %+v, want 2500 records", fin)
	}
	var progress []int64
	for _, e := range ev.All() {
		if e.Status == protocol.StatusLoading {
			progress = append(progress, e.RecordsWritten)
		}
	}
	if len(progress) != 3 || progress[0] != 1000 || progress[1] != 2000 || progress[2] != 2500 {
		t.Errorf("progress = %v, want [1000 2000 2500]", progress)
	}
	// Every record is on the data topic once, keyed by symbol.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tail, err := bus.NewTail(ctx, cfg, topic, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tail.Close()
	keys := map[string]bool{}
	re := regexp.MustCompile(`"_key":"(ETHUSDT_dummy_\d+)"`)
	_ = tail.Run(ctx, func(_ context.Context, m bus.Message) error {
		if string(m.Key) != "ETHUSDT" {
			t.Errorf("record keyed %q, want the symbol", m.Key)
		}
		k := re.FindSubmatch(m.Value)
		if k == nil {
			t.Errorf("record without a _key: %s", m.Value)
		} else if keys[string(k[1])] {
			t.Errorf("duplicate record %s", k[1])
		} else {
			keys[string(k[1])] = true
		}
		if len(keys) == 2500 {
			cancel()
		}
		return nil
	})
	if len(keys) != 2500 {
		t.Errorf("data topic holds %d distinct records, want 2500", len(keys))
	}
}

// testMalformedControl: garbage on queue-control is skipped and counted;
// the service keeps answering.
func testMalformedControl(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	q := newQueueID(t)
	ev := testkit.WatchEvents(t, cfg, q)
	p := startDummy(t, cfg, q, nil)
	ev.WaitFor(t, protocol.StatusStarted, 30*time.Second)
	prod, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	bad := []string{`not json`, `{"command":42,"queue_id":"` + q + `","timestamp":1}`, `{"command":"explode","queue_id":"` + q + `","timestamp":1}`, `{"queue_id":"` + q + `"}`, `[]`}
	for _, b := range bad {
		if err := prod.Publish(context.Background(), protocol.TopicControl, []byte(q), []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := debugProducer(t, cfg, "--queue-id", q, "--command", "ping", "--expect-pong")
	if code != 0 {
		t.Fatalf("ping after malformed messages: exit %d: %s%s", code, out, errOut)
	}
	// The pong came after the garbage (same partition, same key), so all
	// five were read by now.
	metrics := p.Metrics(t)
	m := regexp.MustCompile(`(?m)^streamforge_control_messages_malformed_total (\d+)`).FindStringSubmatch(metrics)
	if m == nil {
		t.Fatalf("no malformed counter in metrics:\n%s", testkit.Grep(metrics, "streamforge_control"))
	}
	if n, _ := strconv.Atoi(m[1]); n < len(bad) {
		t.Errorf("malformed counter = %d, want at least %d", n, len(bad))
	}
	if !strings.Contains(p.Stderr(), "malformed control message skipped") {
		t.Error("malformed messages were not logged")
	}
}

// testWrongPassword: bad credentials fail fast with a readable line, for the
// service and the tool.
func testWrongPassword(t *testing.T, cfg bus.Config) {
	cfg.Password = "wrong-password"
	q := newQueueID(t)
	start := time.Now()
	p := startDummy(t, cfg, q, nil)
	code := p.Wait(t, 15*time.Second)
	took := time.Since(start)
	if code == 0 {
		t.Fatal("dummy-service exited 0 with a wrong password")
	}
	t.Logf("dummy-service gave up after %s", took)
	if took > 10*time.Second {
		t.Errorf("dummy-service took %s to fail, want under 10s", took)
	}
	lastLine := testkit.LastLine(p.Stderr())
	if !strings.HasPrefix(lastLine, "dummy-service: ") || !strings.Contains(lastLine, "KAFKA_PASSWORD") {
		t.Errorf("last stderr line %q does not name the problem", lastLine)
	}
	start = time.Now()
	c, _, errOut := debugProducer(t, cfg, "--queue-id", q, "--command", "ping", "--expect-pong")
	if c == 0 || !strings.Contains(errOut, "KAFKA_PASSWORD") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("debug-producer exit %d, stderr %q: want non-zero and one line naming KAFKA_PASSWORD", c, errOut)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("debug-producer took %s to fail", took)
	}
}

// testNoPong: a ping nobody answers fails with one clear line.
func testNoPong(t *testing.T, cfg bus.Config) {
	serviceTopics(t, cfg)
	code, out, errOut := debugProducer(t, cfg, "--queue-id", newQueueID(t), "--command", "ping", "--expect-pong", "--timeout", "2s")
	if code == 0 {
		t.Fatalf("debug-producer exit 0 without a worker: %s", out)
	}
	if !strings.Contains(errOut, "no pong for queue_id") {
		t.Errorf("stderr %q does not explain", errOut)
	}
}
