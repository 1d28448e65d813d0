// Package trainer is gnn-trainer: it reads a named graph that graph-builder
// wrote, splits its labelled nodes chronologically, trains a GCN or a
// GraphSAGE model on them beside two baselines (majority class, logistic
// regression on the same features without the graph), and stores the model,
// its metrics and a training-curve plot in the object store.
package trainer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/worker"
	"github.com/streamforge/streamforge/services/gnn-trainer/internal/gnn"
)

// Name is the service name: the default target and telemetry_id prefix.
const Name = "gnn-trainer"

// StoreConfig and ObjectConfig name the two storage settings so they embed
// beside bus.Config.
type (
	StoreConfig  = store.Config
	ObjectConfig = objstore.Config
)

// Training holds the training settings, shared by the service and predict.
type Training struct {
	GraphName   string  `envconfig:"GRAPH_NAME" desc:"the named graph to train on, as graph-builder wrote it"`
	Model       string  `envconfig:"GNN_MODEL" default:"gcn" desc:"gcn (Kipf & Welling) or sage (GraphSAGE-mean)"`
	Hidden      int     `envconfig:"GNN_HIDDEN" default:"16" desc:"hidden layer width"`
	Dropout     float64 `envconfig:"GNN_DROPOUT" default:"0.5" desc:"dropout probability of each layer's input"`
	LR          float64 `envconfig:"GNN_LR" default:"0.01" desc:"Adam learning rate"`
	WeightDecay float64 `envconfig:"GNN_WEIGHT_DECAY" default:"5e-4" desc:"L2 on the first layer's weights"`
	Epochs      int     `envconfig:"GNN_EPOCHS" default:"200" desc:"most epochs"`
	Patience    int     `envconfig:"GNN_PATIENCE" default:"20" desc:"epochs without a better validation loss before stopping (0: never stop early)"`
	Seed        uint64  `envconfig:"GNN_SEED" default:"1" desc:"seed of initialisation and dropout: the same seed gives the same model"`
	TrainFrac   float64 `envconfig:"GNN_TRAIN_FRACTION" default:"0.7" desc:"share of labelled nodes, earliest first, to train on"`
	ValFrac     float64 `envconfig:"GNN_VAL_FRACTION" default:"0.15" desc:"share of labelled nodes after those to validate on (the rest, latest, are the test set)"`
	Causal      bool    `envconfig:"GNN_CAUSAL" default:"true" desc:"pass messages only from earlier nodes to later ones, so no node sees the future (false: edges are undirected)"`
}

// gnnConfig returns the model's settings.
func (s *Training) gnnConfig() gnn.Config {
	return gnn.Config{Model: s.Model, Hidden: s.Hidden, Dropout: s.Dropout, LR: s.LR, WeightDecay: s.WeightDecay,
		Epochs: s.Epochs, Patience: s.Patience, Seed: s.Seed}
}

// Validate checks the settings and reports every problem (errors.Join),
// each naming its variable.
func (s *Training) Validate() error {
	var errs []error
	if s.GraphName != "" {
		if err := protocol.ValidateCollection(s.GraphName); err != nil {
			errs = append(errs, fmt.Errorf("GRAPH_NAME: %w", err))
		}
	}
	if s.Model != gnn.ArchGCN && s.Model != gnn.ArchSAGE {
		errs = append(errs, fmt.Errorf("GNN_MODEL: %q is not gcn or sage", s.Model))
	}
	if err := s.gnnConfig().Validate(); err != nil {
		problems := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			problems = j.Unwrap()
		}
		for _, p := range problems {
			var fe *gnn.FieldError
			switch {
			case !errors.As(p, &fe):
				errs = append(errs, p)
			case fe.Field != "Model": // GNN_MODEL is checked above
				errs = append(errs, fmt.Errorf("%s: %s", envName(fe.Field), fe.Reason))
			}
		}
	}
	if s.TrainFrac <= 0 || s.ValFrac < 0 || s.TrainFrac+s.ValFrac >= 1 {
		errs = append(errs, fmt.Errorf("GNN_TRAIN_FRACTION, GNN_VAL_FRACTION: want train > 0, validation >= 0 and their sum < 1 (a test set remains), got %g and %g", s.TrainFrac, s.ValFrac))
	}
	return errors.Join(errs...)
}

// envName maps a gnn.Config field to its variable.
func envName(field string) string {
	switch strings.ToLower(field) {
	case "model":
		return "GNN_MODEL"
	case "hidden":
		return "GNN_HIDDEN"
	case "dropout":
		return "GNN_DROPOUT"
	case "lr":
		return "GNN_LR"
	case "weightdecay", "weight_decay":
		return "GNN_WEIGHT_DECAY"
	case "epochs":
		return "GNN_EPOCHS"
	case "patience":
		return "GNN_PATIENCE"
	}
	return "GNN_" + strings.ToUpper(field)
}

// Config is gnn-trainer's environment.
type Config struct {
	service.Common
	bus.Config
	protocol.Task
	StoreConfig
	ObjectConfig
	worker.Settings
	Training

	Prefix string `envconfig:"ARTIFACT_PREFIX" desc:"where the artifacts go in the object store (default models/<queue_id>/)"`
}

// Validate checks the settings and reports every problem (errors.Join),
// each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if c.QueueID == "" {
		errs = append(errs, errors.New("QUEUE_ID: is required"))
	}
	if c.GraphName == "" {
		errs = append(errs, errors.New("GRAPH_NAME: is required: the graph graph-builder wrote"))
	}
	if c.QueueID == "" {
		return errors.Join(errs...) // ARTIFACT_PREFIX derives from it
	}
	if c.Prefix == "" {
		c.Prefix = "models/" + c.QueueID + "/"
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if err := objstore.ValidatePrefix(c.Prefix); err != nil {
		errs = append(errs, fmt.Errorf("ARTIFACT_PREFIX: %w", err))
	}
	return errors.Join(errs...)
}
