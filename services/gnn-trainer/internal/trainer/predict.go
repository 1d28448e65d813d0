package trainer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"

	"github.com/kelseyhightower/envconfig"

	"github.com/streamforge/streamforge/libs/objstore/objstoreopen"
	"github.com/streamforge/streamforge/libs/store/storeopen"
	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
)

// predictEnv is what predict reads from the environment: where the store and
// the object store are.
type predictEnv struct {
	StoreConfig
	ObjectConfig
}

// PredictMain runs `gnn-trainer predict`: it loads a saved model, scores
// every node of a graph and writes one JSON line per node to stdout
// ({"_key","time","p_up","predicted","label"}), then a summary to stderr. It
// returns the exit code: 0, 1 on an error (one line on stderr), 2 on bad
// usage.
func PredictMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gnn-trainer predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelKey := fs.String("model", "", "object-store key of a model.json, e.g. models/<queue_id>/model.json")
	modelFile := fs.String("model-file", "", "a model.json on the local disk instead")
	graphName := fs.String("graph", "", "the graph to score (default: the one the model was trained on)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gnn-trainer predict (-model KEY | -model-file PATH) [-graph NAME]")
		fmt.Fprintln(stderr, "The store and object store come from the environment as for the service (STORE_PATH or ARANGO_*, ARTIFACT_DIR or MINIO_*).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*modelKey == "") == (*modelFile == "") {
		fmt.Fprintln(stderr, "gnn-trainer predict: give exactly one of -model and -model-file")
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := predict(ctx, *modelKey, *modelFile, *graphName, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "gnn-trainer predict:", err)
		return 1
	}
	return 0
}

func predict(ctx context.Context, modelKey, modelFile, graphName string, stdout, stderr io.Writer) error {
	var env predictEnv
	if err := envconfig.Process("", &env); err != nil {
		return err
	}
	var body ModelFileBody
	var raw []byte
	var err error
	if modelFile != "" {
		raw, err = os.ReadFile(modelFile)
	} else {
		raw, err = readObject(ctx, env.ObjectConfig, modelKey)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("model file: %w", err)
	}
	if body.Format != ModelFormat {
		return fmt.Errorf("model file: format %q, want %q", body.Format, ModelFormat)
	}
	model, err := gnn.LoadModel(bytes.NewReader(body.Model))
	if err != nil {
		return fmt.Errorf("model file: %w", err)
	}
	if graphName == "" {
		graphName = body.Provenance.Graph
	}
	st, err := storeopen.Open(ctx, env.StoreConfig)
	if err != nil {
		return err
	}
	defer st.Close()
	ds, err := ReadDataset(ctx, st, graphName, body.Causal)
	if err != nil {
		return err
	}
	if !slices.Equal(ds.Meta.Features, body.Features) {
		return fmt.Errorf("graph %s has features %v; the model was trained on %v", graphName, ds.Meta.Features, body.Features)
	}
	probs, err := model.Predict(ds.Graph)
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	out := bufio.NewWriter(stdout)
	right, labelled := 0, 0
	var line []byte
	for i, p := range probs {
		pred := 0
		if len(p) > 1 && p[1] > p[0] {
			pred = 1
		}
		up := 0.0
		if len(p) > 1 {
			up = p[1]
		}
		line = append(line[:0], `{"_key":`...)
		line = strconv.AppendQuote(line, ds.Keys[i])
		line = append(line, `,"time":`...)
		line = strconv.AppendInt(line, ds.Graph.Time[i], 10)
		line = append(line, `,"p_up":`...)
		line = strconv.AppendFloat(line, up, 'g', 6, 64)
		line = append(line, `,"predicted":`...)
		line = strconv.AppendInt(line, int64(pred), 10)
		line = append(line, `,"label":`...)
		line = strconv.AppendInt(line, int64(ds.Graph.Y[i]), 10)
		line = append(line, "}\n"...)
		if _, err := out.Write(line); err != nil {
			return err
		}
		if y := ds.Graph.Y[i]; y >= 0 {
			labelled++
			if y == pred {
				right++
			}
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	acc := 0.0
	if labelled > 0 {
		acc = float64(right) / float64(labelled)
	}
	fmt.Fprintf(stderr, "scored %d nodes of graph %s; accuracy %.4f on its %d labelled nodes (this includes the nodes the model was trained on when it is the training graph)\n",
		len(probs), graphName, acc, labelled)
	return nil
}

func readObject(ctx context.Context, cfg ObjectConfig, key string) ([]byte, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	obj, err := objstoreopen.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	r, err := obj.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", obj.Location(key), err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", obj.Location(key), err)
	}
	return b, nil
}
