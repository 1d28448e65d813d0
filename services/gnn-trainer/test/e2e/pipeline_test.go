// Package e2e runs graph-builder and gnn-trainer, as built binaries, over a
// Kafka broker (the embedded one in the unit tier, real Apache Kafka 4.x and
// a real S3 server with -tags integration) on the recorded real Binance
// candles in the embedded store: the graph, the model, its baselines and its
// artifacts, and predict on the saved model.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/objstore/objstoreopen"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/testkit"
)

var binDir string

func TestMain(m *testing.M) {
	os.Exit(testkit.Main(m, &binDir,
		testkit.Cmd{ModuleDir: filepath.Join("..", ".."), Pkg: "./cmd/gnn-trainer"},
		testkit.Cmd{ModuleDir: filepath.Join("..", "..", "..", "graph-builder"), Pkg: "./cmd/graph-builder"}))
}

// rig is one pipeline run's places: the broker, the store file and the
// object store.
type rig struct {
	kafka  bus.Config
	dbPath string
	obj    objstore.Config
	env    []string
}

func newRig(t *testing.T, kafka bus.Config, obj objstore.Config) *rig {
	t.Helper()
	bustest.Topics(t, kafka, 3, protocol.TopicControl, protocol.TopicEvents)
	r := &rig{kafka: kafka, dbPath: filepath.Join(t.TempDir(), "streamforge.db"), obj: obj}
	r.env = append(testkit.KafkaEnv(kafka), "STORE_PATH="+r.dbPath, "HTTP_ADDR=127.0.0.1:0", "PROGRESS_INTERVAL=100ms",
		"ARTIFACT_DIR="+obj.ArtifactDir, "MINIO_ENDPOINT="+obj.Endpoint, "MINIO_ACCESS_KEY="+obj.AccessKey,
		"MINIO_SECRET_KEY="+obj.SecretKey, "MINIO_BUCKET="+obj.Bucket)
	return r
}

func localObjects(t *testing.T) objstore.Config {
	return objstore.Config{ArtifactDir: t.TempDir(), Bucket: "streamforge", OpenTimeout: 10 * time.Second}
}

// putCandles stores candles the way arango-connector does.
func (r *rig) putCandles(t *testing.T, coll string, cs []binance.Candle) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, r.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.EnsureCollection(ctx, store.MarketData(coll)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(cs); i += 5000 {
		docs := make([]json.RawMessage, 0, 5000)
		for j := i; j < min(i+5000, len(cs)); j++ {
			docs = append(docs, cs[j].AppendJSON(nil))
		}
		if _, err := st.Upsert(ctx, coll, docs); err != nil {
			t.Fatal(err)
		}
	}
}

// step runs one worker to its end and returns its terminal event.
func (r *rig) step(t *testing.T, binary, queueID string, env ...string) protocol.Event {
	t.Helper()
	ev := testkit.WatchEvents(t, r.kafka, queueID)
	p := testkit.Start(t, filepath.Join(binDir, binary), append(append([]string{"QUEUE_ID=" + queueID}, r.env...), env...))
	if code := p.Wait(t, 5*time.Minute); code != 0 {
		t.Fatalf("%s exited %d: %s", binary, code, testkit.LastLine(p.Stderr()))
	}
	return ev.WaitFor(t, protocol.StatusFinished, 10*time.Second)
}

// graphResult is the part of graph-builder's finished event checked here.
type graphResult struct {
	Graph    string   `json:"graph"`
	Kind     string   `json:"kind"`
	Nodes    int      `json:"nodes"`
	Edges    int      `json:"edges"`
	Labelled int      `json:"labelled"`
	Features []string `json:"features"`
	Degree   struct {
		Mean float64 `json:"mean"`
	} `json:"degree"`
}

// trainResult is the part of gnn-trainer's finished event checked here.
type trainResult struct {
	Model     string `json:"model"`
	Epochs    int    `json:"epochs"`
	BestEpoch int    `json:"best_epoch"`
	Split     struct {
		Train    int    `json:"train"`
		Val      int    `json:"val"`
		Test     int    `json:"test"`
		ValFrom  string `json:"val_from"`
		TestFrom string `json:"test_from"`
	} `json:"split"`
	Test struct {
		N        int      `json:"n"`
		Accuracy *float64 `json:"accuracy"`
	} `json:"test"`
	Baselines map[string]struct {
		N        int      `json:"n"`
		Accuracy *float64 `json:"accuracy"`
	} `json:"baselines"`
	Verdict   string            `json:"verdict"`
	Artifacts map[string]string `json:"artifacts"`
}

// pipeline builds the graph of symbols' candle collections and trains on
// it, checking each step's result; it returns the trainer's.
func (r *rig) pipeline(t *testing.T, symbols []string, inputs []string, trainEnv ...string) (graphResult, trainResult, string) {
	t.Helper()
	first := strings.ToLower(symbols[0])
	gq := testkit.QueueID(t, symbols[0], "graph")
	parsed, _ := protocol.ParseQueueID(gq)
	graphName := protocol.CollectionName(first, "graph", parsed.Day)
	fin := r.step(t, "graph-builder", gq, "SYMBOL="+strings.Join(symbols, ","), "TYPE=graph", "COLLECTION_NAME="+graphName,
		"INPUT_COLLECTIONS="+strings.Join(inputs, ","))
	var gr graphResult
	if err := json.Unmarshal(fin.Result, &gr); err != nil {
		t.Fatalf("graph-builder result %s: %v", fin.Result, err)
	}
	if gr.Graph != graphName || gr.Nodes == 0 || gr.Edges == 0 || len(gr.Features) == 0 || fin.RecordsWritten != int64(gr.Nodes+gr.Edges) {
		t.Fatalf("graph-builder finished with %+v, records %d", gr, fin.RecordsWritten)
	}

	tq := strings.Replace(gq, "-graph-", "-train-", 1)
	fin = r.step(t, "gnn-trainer", tq, append([]string{"SYMBOL=" + strings.Join(symbols, ","), "TYPE=train", "GRAPH_NAME=" + graphName}, trainEnv...)...)
	var tr trainResult
	if err := json.Unmarshal(fin.Result, &tr); err != nil {
		t.Fatalf("gnn-trainer result %s: %v", fin.Result, err)
	}
	if tr.Test.N == 0 || tr.Test.Accuracy == nil || tr.Split.Train == 0 || tr.Split.Val == 0 || tr.Split.TestFrom <= tr.Split.ValFrom {
		t.Fatalf("gnn-trainer finished with %+v", tr)
	}
	for _, b := range []string{"majority", "logistic_regression"} {
		if s, ok := tr.Baselines[b]; !ok || s.N != tr.Test.N || s.Accuracy == nil {
			t.Fatalf("baseline %s missing or on another test set: %+v", b, tr.Baselines)
		}
	}
	if !strings.Contains(fin.Message, tr.Verdict) {
		t.Errorf("finished message %q does not carry the verdict %q", fin.Message, tr.Verdict)
	}
	return gr, tr, tq
}

// checkArtifacts reads the three artifacts back from the object store.
func (r *rig) checkArtifacts(t *testing.T, queueID string, gr graphResult) {
	t.Helper()
	ctx := context.Background()
	obj, err := objstoreopen.Open(ctx, r.obj)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	read := func(key string) []byte {
		rc, err := obj.Get(ctx, key)
		if err != nil {
			t.Fatalf("artifact %s: %v", key, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	prefix := "models/" + queueID + "/"
	var model struct {
		Format     string          `json:"format"`
		Features   []string        `json:"features"`
		Model      json.RawMessage `json:"model"`
		Provenance struct {
			QueueID string `json:"queue_id"`
			Graph   string `json:"graph"`
			Nodes   int    `json:"nodes"`
		} `json:"provenance"`
	}
	if err := json.Unmarshal(read(prefix+"model.json"), &model); err != nil {
		t.Fatal(err)
	}
	if model.Format != "streamforge-gnn/1" || model.Provenance.QueueID != queueID || model.Provenance.Graph != gr.Graph ||
		model.Provenance.Nodes != gr.Nodes || strings.Join(model.Features, ",") != strings.Join(gr.Features, ",") || len(model.Model) < 100 {
		t.Fatalf("model.json: %+v", model)
	}
	var metrics struct {
		Epochs    []json.RawMessage `json:"epochs"`
		Baselines map[string]any    `json:"baselines"`
	}
	if err := json.Unmarshal(read(prefix+"metrics.json"), &metrics); err != nil || len(metrics.Epochs) == 0 || len(metrics.Baselines) != 2 {
		t.Fatalf("metrics.json: %v %+v", err, metrics)
	}
	img, err := png.Decode(bytes.NewReader(read(prefix + "training-curve.png")))
	if err != nil || img.Bounds().Dx() < 400 {
		t.Fatalf("training-curve.png: %v", err)
	}
}

// predict scores the graph with the saved model through the CLI: one line
// per node, each a probability.
func (r *rig) predict(t *testing.T, queueID string, gr graphResult) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "gnn-trainer"), "predict", "-model", "models/"+queueID+"/model.json")
	cmd.Env = append(os.Environ(), r.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("predict: %v: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != gr.Nodes {
		t.Fatalf("predict wrote %d lines for %d nodes", len(lines), gr.Nodes)
	}
	for _, l := range []string{lines[0], lines[len(lines)-1]} {
		var p struct {
			Key  string   `json:"_key"`
			PUp  *float64 `json:"p_up"`
			Pred *int     `json:"predicted"`
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil || p.Key == "" || p.PUp == nil || *p.PUp < 0 || *p.PUp > 1 || p.Pred == nil {
			t.Fatalf("predict line %q: %v", l, err)
		}
	}
	if !strings.Contains(stderr.String(), "scored ") {
		t.Errorf("predict summary missing: %s", stderr.String())
	}
}
