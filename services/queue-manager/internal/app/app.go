// Package app wires queue-manager: configuration, the store, Kafka, the
// launcher, the engine and the API.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/storeopen"
	"github.com/streamforge/streamforge/services/queue-manager/internal/api"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/local"
)

// Name is the service name.
const Name = "queue-manager"

// StoreConfig names the store settings so they embed beside bus.Config.
type StoreConfig = store.Config

// KubeConfig names the Kubernetes launcher's settings (read always, used
// with LAUNCHER=kubernetes).
type KubeConfig = kube.Config

// Config is queue-manager's environment.
type Config struct {
	service.Common
	bus.Config
	StoreConfig
	KubeConfig

	Launcher  string `envconfig:"LAUNCHER" default:"local" desc:"local (child processes) or kubernetes (one Job per step)"`
	LocalBins string `envconfig:"LOCAL_BIN_DIR" default:"bin" desc:"local launcher: the directory holding the worker binaries"`

	Services         string        `envconfig:"STEP_SERVICES" desc:"binary or image per step kind, e.g. load=loader-producer,store=arango-connector (default: the kind's own service)"`
	Args             string        `envconfig:"STEP_ARGS" desc:"extra arguments per step kind, e.g. load=--simulate-loading (space-separated within a kind)"`
	Limits           string        `envconfig:"STEP_LIMITS" default:"load=8,store=8,graph=2,train=1" desc:"most steps of a kind running at once"`
	MaxAttempts      int           `envconfig:"STEP_MAX_ATTEMPTS" default:"3" desc:"launches of a step before it fails for good"`
	RetryBase        time.Duration `envconfig:"STEP_RETRY_BASE" default:"2s" desc:"first delay before relaunching a failed step (doubles each time)"`
	RetryMax         time.Duration `envconfig:"STEP_RETRY_MAX" default:"1m" desc:"largest delay before a relaunch"`
	HeartbeatTimeout time.Duration `envconfig:"STEP_HEARTBEAT_TIMEOUT" default:"45s" desc:"a running step silent on queue-events this long is relaunched"`
	StopGrace        time.Duration `envconfig:"STOP_GRACE" default:"30s" desc:"time a stopped step has to end before its run is removed"`
	Tick             time.Duration `envconfig:"ENGINE_TICK" default:"1s" desc:"how often timeouts and delayed relaunches are checked"`
	EventsGroup      string        `envconfig:"EVENTS_GROUP" default:"queue-manager" desc:"consumer group on queue-events"`
	CreateTopics     bool          `envconfig:"KAFKA_CREATE_TOPICS" default:"false" desc:"create queue-control and queue-events when missing"`
}

// Validate checks the settings that envconfig cannot.
func (c *Config) Validate() error {
	switch c.Launcher {
	case "local", "kubernetes":
	default:
		return fmt.Errorf("LAUNCHER: %q is not local or kubernetes", c.Launcher)
	}
	for name, v := range map[string]string{"STEP_SERVICES": c.Services, "STEP_ARGS": c.Args, "STEP_LIMITS": c.Limits} {
		if _, err := kindMap(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if c.MaxAttempts < 1 {
		return fmt.Errorf("STEP_MAX_ATTEMPTS: must be at least 1, got %d", c.MaxAttempts)
	}
	return nil
}

// kindMap parses "load=a,store=b" into a map keyed by step kind.
func kindMap(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !validKind(k) {
			return nil, fmt.Errorf("%q: want <kind>=<value> with kind one of %s", part, strings.Join(flow.Kinds, ", "))
		}
		out[k] = v
	}
	return out, nil
}

func validKind(k string) bool {
	for _, x := range flow.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Run serves queue-manager until ctx ends.
func Run(ctx context.Context, rt *service.Runtime, cfg *Config) error {
	st, err := storeopen.Open(ctx, cfg.StoreConfig)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	admin, err := bus.NewAdmin(cfg.Config)
	if err != nil {
		return err
	}
	if err := admin.Check(ctx); err != nil {
		return err
	}
	if cfg.CreateTopics {
		if err := admin.EnsureTopics(ctx, bus.TopicSpec{Name: protocol.TopicControl}, bus.TopicSpec{Name: protocol.TopicEvents}); err != nil {
			return err
		}
	}
	m := bus.NewMetrics(rt.Registry)
	prod, err := bus.NewProducer(cfg.Config, bus.ProducerOptions{Metrics: m})
	if err != nil {
		return err
	}
	defer func() { _ = prod.Close() }()

	var l launch.Launcher
	switch cfg.Launcher {
	case "local":
		ll := local.New(local.Options{BinDir: cfg.LocalBins, Output: os.Stderr})
		defer ll.Close()
		l = ll
	default:
		if l, err = kubeLauncher(rt, cfg.KubeConfig); err != nil {
			return err
		}
	}
	services, _ := kindMap(cfg.Services)
	argStrs, _ := kindMap(cfg.Args)
	args := map[string][]string{}
	for k, v := range argStrs {
		args[k] = strings.Fields(v)
	}
	limitStrs, _ := kindMap(cfg.Limits)
	limits := map[string]int{}
	for k, v := range limitStrs {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 0 {
			return fmt.Errorf("STEP_LIMITS: %s=%q is not a whole number", k, v)
		}
		limits[k] = n
	}
	// The committed offsets carry the events sent while queue-manager was
	// down (a new group reads what the topic keeps: events of unknown
	// workflows are only counted). Events are applied in batches, one commit
	// each, and only once the state they produced is stored: while the store
	// refuses writes the batch is retried, however long that takes.
	// A Kafka outage does not end the consumer: it waits it out and tells
	// the engine, which holds neither silence nor launches against the
	// steps meanwhile.
	var eng *flow.Engine
	cons, err := bus.NewConsumer(cfg.Config, bus.ConsumerOptions{Group: cfg.EventsGroup, Topics: []string{protocol.TopicEvents},
		BatchSize: 500, BatchWait: 20 * time.Millisecond, RetryForever: true, Metrics: m,
		OnOutage: func(err error) { eng.EventsHealth(ctx, err) }})
	if err != nil {
		return err
	}
	defer func() { _ = cons.Close() }()
	repo := flow.NewRepo(st)
	eng = flow.NewEngine(repo, l, prod, flow.Options{
		Services: services, Args: args, Limits: limits, MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase,
		RetryMax: cfg.RetryMax, HeartbeatTimeout: cfg.HeartbeatTimeout, StopGrace: cfg.StopGrace,
		Events: eventLog{admin: admin, cons: cons}, Log: rt.Log, Metrics: flow.NewMetrics(rt.Registry),
	})
	if err := eng.Start(ctx); err != nil {
		return err
	}
	api.New(eng, repo, nil, rt.Log).Mount(rt.Router)
	rt.SetReadyCheck(eng.StoreErr)
	rt.SetReady(true)
	rt.Log.Info().Str("launcher", cfg.Launcher).Msg("queue-manager ready")

	// The consumer and the engine run until ctx ends or one of them fails
	// (then the other is stopped too); both are waited for before the
	// deferred closes run, so the engine's last store write never races the
	// store's close.
	run, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() {
		defer stop()
		errs[0] = cons.Run(run, func(ctx context.Context, batch []bus.Message) error {
			eng.Flowing()
			var unstored error
			for _, msg := range batch {
				ev, err := protocol.DecodeEvent(msg.Value)
				if err != nil {
					rt.Log.Warn().Err(err).Int("partition", msg.Partition).Int64("offset", msg.Offset).Msg("malformed event skipped")
					continue
				}
				unstored = eng.OnEvent(ctx, ev)
			}
			return unstored
		})
	})
	wg.Go(func() {
		defer stop()
		errs[1] = eng.Run(run, cfg.Tick)
	})
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

// eventLog is queue-events for the engine: its end offsets from the
// broker, how far it was applied from the consumer.
type eventLog struct {
	admin *bus.Admin
	cons  *bus.Consumer
}

func (l eventLog) EndOffsets(ctx context.Context) (map[int]int64, error) {
	return l.admin.EndOffsets(ctx, protocol.TopicEvents)
}

func (l eventLog) CaughtUp(ctx context.Context, offsets map[int]int64) (bool, error) {
	return l.cons.CaughtUp(ctx, protocol.TopicEvents, offsets)
}
