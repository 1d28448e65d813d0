// Package e2e runs the arango-connector binary over a Kafka broker (the
// embedded one in the unit tier, real Apache Kafka 4.x with -tags
// integration) into the embedded SQLite store, and checks the store against
// the source: every record exactly once, whatever happens in between.
package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/testkit"
)

var binDir string

func TestMain(m *testing.M) {
	os.Exit(testkit.Main(m, &binDir, testkit.Cmd{ModuleDir: filepath.Join("..", ".."), Pkg: "./cmd/arango-connector"}))
}

const symbol = "BTCUSDT"

// task is one connector run's names.
type task struct {
	queueID, topic, collection, dbPath string
}

func newTask(t testing.TB, cfg bus.Config) task {
	t.Helper()
	q := testkit.QueueID(t, symbol, "api_candles_1m")
	parsed, err := protocol.ParseQueueID(q)
	if err != nil {
		t.Fatal(err)
	}
	tk := task{queueID: q, topic: protocol.DataTopic(q), collection: protocol.CollectionName(symbol, parsed.Type, parsed.Day),
		dbPath: filepath.Join(t.TempDir(), "streamforge.db")}
	bustest.Topics(t, cfg, 3, protocol.TopicControl, protocol.TopicEvents)
	bustest.Topics(t, cfg, 3, tk.topic, protocol.DLQTopic(tk.topic))
	return tk
}

// candles returns n one-minute candles with deterministic keys and content.
func candles(n int) [][]byte {
	docs := make([][]byte, n)
	open := int64(1722470400000)
	for i := range docs {
		t := open + int64(i)*60_000
		p := 60000 + float64(i%5000)*0.5
		docs[i] = []byte(`{"_key":"` + symbol + `_1m_` + strconv.FormatInt(t, 10) + `","symbol":"` + symbol +
			`","interval":"1m","time":` + strconv.FormatInt(t, 10) + `,"open":` + strconv.FormatFloat(p, 'f', -1, 64) +
			`,"high":` + strconv.FormatFloat(p+12.5, 'f', -1, 64) + `,"low":` + strconv.FormatFloat(p-7.25, 'f', -1, 64) +
			`,"close":` + strconv.FormatFloat(p+3, 'f', -1, 64) + `,"volume":` + strconv.Itoa(i%997) + `.125,"trades":` + strconv.Itoa(i%313) + `}`)
	}
	return docs
}

// produce writes docs to topic keyed by symbol, as a loader does.
func produce(t testing.TB, cfg bus.Config, topic string, docs [][]byte) {
	t.Helper()
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msgs := make([]bus.Message, 0, 10_000)
	for i, d := range docs {
		msgs = append(msgs, bus.Message{Topic: topic, Key: []byte(symbol), Value: d})
		if len(msgs) == cap(msgs) || i == len(docs)-1 {
			if err := p.Send(context.Background(), msgs...); err != nil {
				t.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
}

// publish sends one protocol message (an event or a command) keyed by queue id.
func publish(t testing.TB, cfg bus.Config, topic, queueID string, v any) {
	t.Helper()
	testkit.Publish(t, cfg, topic, queueID, v)
}

// loaderFinished announces that the task's loader wrote n records.
func loaderFinished(t testing.TB, cfg bus.Config, tk task, n int) {
	publish(t, cfg, protocol.TopicEvents, tk.queueID, protocol.Event{
		QueueID: tk.queueID, Producer: "loader-producer__abcdef", Symbol: symbol, Type: "api_candles_1m",
		Status: protocol.StatusFinished, RecordsWritten: int64(n), Finished: true, Timestamp: protocol.Timestamp(time.Now()),
	})
}

func startConnector(t testing.TB, cfg bus.Config, tk task, extraEnv ...string) *testkit.Proc {
	t.Helper()
	env := append(testkit.KafkaEnv(cfg), "QUEUE_ID="+tk.queueID, "STORE_PATH="+tk.dbPath, "HTTP_ADDR=127.0.0.1:0",
		"HEARTBEAT_INTERVAL=1s", "PROGRESS_INTERVAL=100ms", "CONNECTOR_BATCH_SIZE=2000", "CONNECTOR_BATCH_WAIT=50ms", "STORE_RETRY_MAX=500ms")
	return testkit.Start(t, filepath.Join(binDir, "arango-connector"), append(env, extraEnv...))
}

// digest is a content checksum of documents, independent of member order and
// number spelling: SHA-256 over the canonical JSON of each, in the order given.
func digest(t *testing.T, docs [][]byte) string {
	t.Helper()
	h := sha256.New()
	for _, d := range docs {
		var v any
		if err := json.Unmarshal(d, &v); err != nil {
			t.Fatalf("not JSON: %s", d)
		}
		c, _ := json.Marshal(v) // maps marshal with sorted keys
		h.Write(c)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// stored reads the task's collection in (time, _key) order.
func stored(t *testing.T, tk task) [][]byte {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, tk.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out [][]byte
	err = st.Range(ctx, tk.collection, symbol, 0, 1<<62, func(doc json.RawMessage) error {
		out = append(out, append([]byte(nil), doc...))
		return nil
	})
	if err != nil {
		t.Fatalf("read the store: %v", err)
	}
	return out
}

// count returns the documents in the task's collection, 0 while it is missing.
func count(t *testing.T, tk task) int64 {
	t.Helper()
	if _, err := os.Stat(tk.dbPath); err != nil {
		return 0
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, tk.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.Count(ctx, tk.collection)
	if err != nil {
		return 0
	}
	return n
}

// checkExact fails the test unless the store holds exactly docs.
func checkExact(t *testing.T, tk task, docs [][]byte) {
	t.Helper()
	got := stored(t, tk)
	if len(got) != len(docs) {
		t.Fatalf("store holds %d documents, want %d", len(got), len(docs))
	}
	if g, w := digest(t, got), digest(t, docs); g != w {
		t.Fatalf("store content checksum %s, want %s", g, w)
	}
}
