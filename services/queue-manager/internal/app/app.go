// Package app wires queue-manager: configuration, the store, Kafka, the
// launcher, the engine and the API.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/objstore"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/storeopen"
	"github.com/streamforge/streamforge/services/queue-manager/internal/api"
	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
	"github.com/streamforge/streamforge/services/queue-manager/internal/console"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/kube"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch/local"
	"github.com/streamforge/streamforge/services/queue-manager/internal/lead"
	"github.com/streamforge/streamforge/services/queue-manager/internal/market"
)

// Name is the service name.
const Name = "queue-manager"

// StoreConfig names the store settings so they embed beside bus.Config.
type StoreConfig = store.Config

// KubeConfig names the Kubernetes launcher's settings (read always, used
// with LAUNCHER=kubernetes).
type KubeConfig = kube.Config

// AuthConfig names the API's authentication settings.
type AuthConfig = auth.Config

// APILimits names what one API client may cost.
type APILimits = api.Limits

// ArtifactConfig names the object store settings (where gnn-trainer writes
// models: DELETE ?purge=true removes a workflow's) so they embed too.
type ArtifactConfig = objstore.Config

// Config is queue-manager's environment.
type Config struct {
	service.Common
	bus.Config
	StoreConfig
	KubeConfig
	AuthConfig
	APILimits
	ArtifactConfig

	Launcher  string `envconfig:"LAUNCHER" default:"local" desc:"local (child processes) or kubernetes (one Job per step)"`
	LocalBins string `envconfig:"LOCAL_BIN_DIR" default:"bin" desc:"local launcher: the directory holding the worker binaries"`
	LocalDir  string `envconfig:"LOCAL_SERVICE_ENV_DIR" desc:"local launcher: a directory of <service>.env files (NAME=value lines) added to that service's workers, e.g. each service's own KAFKA_USERNAME and KAFKA_PASSWORD; none when empty"`
	LocalPass string `envconfig:"LOCAL_WORKER_ENV" default:"PATH,HOME,TMPDIR,TZ,LANG,LC_ALL,LOG_LEVEL,KAFKA_*,ARANGO_*,STORE_*,MINIO_*,ARTIFACT_DIR,BINANCE_*,LOADER_*,CONNECTOR_BATCH_*,GRAPH_*,FEATURE_*,GNN_*,DUMMY_*,PROGRESS_INTERVAL,HEARTBEAT_INTERVAL" desc:"local launcher: the variables of queue-manager's environment a worker inherits, comma-separated names or prefixes ending in * (nothing else reaches it: the task's variables come from the step)"`
	StepLogs  string `envconfig:"STEP_LOG_DIR" default:"data/logs/steps" desc:"local launcher: where each run's output is kept, <run id>.log, served by GET /api/v1/workflows/{id}/steps/{step}/logs; empty: not kept"`

	Services         string        `envconfig:"STEP_SERVICES" desc:"binary or image per step kind, e.g. load=loader-producer,store=arango-connector (default: the kind's own service)"`
	Args             string        `envconfig:"STEP_ARGS" desc:"extra arguments per step kind, e.g. load=--simulate-loading (space-separated within a kind)"`
	Limits           string        `envconfig:"STEP_LIMITS" default:"load=8,store=8,graph=2,train=1" desc:"most steps of a kind running at once"`
	ExchangeLoaders  int           `envconfig:"EXCHANGE_LOADERS" default:"0" desc:"most history load steps (api_* types) running at once across all workflows: they share the exchange's request-weight budget, which Binance counts per IP, and each keeps BINANCE_WEIGHT_MARGIN_PERCENT of it free for the others; 0: no cap"`
	Deadlines        string        `envconfig:"STEP_DEADLINES" desc:"longest one run of a step kind may take before it ends as a failed attempt (Kubernetes activeDeadlineSeconds; local: the process is stopped), e.g. load=6h,train=12h; 0: none; kinds not named: load=6h, store=6h, graph=2h, train=12h; a live stream's steps: none"`
	MaxAttempts      int           `envconfig:"STEP_MAX_ATTEMPTS" default:"3" desc:"launches of a step before it fails for good"`
	RetryBase        time.Duration `envconfig:"STEP_RETRY_BASE" default:"2s" desc:"first delay before relaunching a failed step (doubles each time)"`
	RetryMax         time.Duration `envconfig:"STEP_RETRY_MAX" default:"1m" desc:"largest delay before a relaunch"`
	HeartbeatTimeout time.Duration `envconfig:"STEP_HEARTBEAT_TIMEOUT" default:"45s" desc:"a running step silent on queue-events this long is relaunched"`
	StopGrace        time.Duration `envconfig:"STOP_GRACE" default:"30s" desc:"time a stopped step has to end before its run is removed"`
	Tick             time.Duration `envconfig:"ENGINE_TICK" default:"1s" desc:"how often timeouts and delayed relaunches are checked"`
	EventsGroup      string        `envconfig:"EVENTS_GROUP" default:"queue-manager" desc:"consumer group on queue-events"`
	CreateTopics     bool          `envconfig:"KAFKA_CREATE_TOPICS" default:"false" desc:"create queue-control and queue-events when missing"`
	MaxSteps         int           `envconfig:"WORKFLOW_MAX_STEPS" default:"200" desc:"most steps one workflow may have (symbols x types loaders and connectors, graph, train); more is a 400"`
	MaxSpan          time.Duration `envconfig:"WORKFLOW_MAX_SPAN" default:"8784h" desc:"longest time range one workflow may cover (8784h: a leap year); longer is a 400"`
	MaxActive        int           `envconfig:"WORKFLOW_MAX_ACTIVE" default:"20" desc:"most workflows one owner may have that have not ended (without authentication every client is the owner anonymous); more is a 429; 0: no limit"`
	Signing          string        `envconfig:"MESSAGE_SIGNING" default:"required" desc:"off, permissive or required: sign commands with each task's key, give each worker its task's key (MESSAGE_KEY), and act only on events signed with it (permissive: unsigned ones too, for a rolling upgrade)"`
	SigningSecret    string        `envconfig:"MESSAGE_SIGNING_SECRET" desc:"the secret every task's key is derived from (at least 32 characters, not the deploy placeholder REPLACE-ME...); empty: MESSAGE_SIGNING_SECRET_FILE, else a random one per process (running workers are then not trusted after a restart)"`
	SigningFile      string        `envconfig:"MESSAGE_SIGNING_SECRET_FILE" desc:"file holding MESSAGE_SIGNING_SECRET (deploy: the Secret streamforge-signing, which only queue-manager mounts; never the workers' JOB_SECRET)"`
	ExchangeURL      string        `envconfig:"BINANCE_REST_URL" default:"https://api.binance.com" desc:"the exchange whose /api/v3/exchangeInfo lists the symbols a workflow may name (the loaders' BINANCE_REST_URL); unreachable: symbols are not checked at POST, and a bad one fails its step once"`
	SymbolsTTL       time.Duration `envconfig:"SYMBOLS_TTL" default:"1h" desc:"how long the exchange's symbol list is kept before it is fetched again; 0: symbols are not checked at POST"`
	ConsoleClient    string        `envconfig:"CONSOLE_CLIENT_ID" default:"streamforge-console" desc:"AUTH_MODE=oidc: the public OIDC client the web console (/ui/) logs in with (authorization code + PKCE; its redirect URI: <queue-manager URL>/ui/)"`
	LeaseTTL         time.Duration `envconfig:"ENGINE_LEASE_TTL" default:"15s" desc:"the engine lease in the store: one queue-manager runs the engine, the others serve reads; a leader that cannot renew it stops, another takes it once it lapsed"`

	// STEP_SERVICES, STEP_ARGS, STEP_LIMITS and STEP_DEADLINES as Validate
	// parsed them.
	services  map[string]string
	args      map[string][]string
	limits    map[string]int
	deadlines map[string]time.Duration
	// authWarning is what Validate found worth a warning in the
	// authentication settings.
	authWarning string
	signing     protocol.SigningMode
}

// Validate checks the settings that envconfig cannot and reports every
// problem (errors.Join), each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	switch c.Launcher {
	case "local", "kubernetes":
	default:
		errs = append(errs, fmt.Errorf("LAUNCHER: %q is not local or kubernetes", c.Launcher))
	}
	var err error
	if c.services, err = kindMap(c.Services); err != nil {
		errs = append(errs, fmt.Errorf("STEP_SERVICES: %w", err))
	}
	argStrs, err := kindMap(c.Args)
	if err != nil {
		errs = append(errs, fmt.Errorf("STEP_ARGS: %w", err))
	}
	c.args = map[string][]string{}
	for k, v := range argStrs {
		c.args[k] = strings.Fields(v)
	}
	limitStrs, err := kindMap(c.Limits)
	if err != nil {
		errs = append(errs, fmt.Errorf("STEP_LIMITS: %w", err))
	}
	c.limits = map[string]int{}
	for _, k := range protocol.StepKindNames() { // in a stable order
		v, ok := limitStrs[k]
		if !ok {
			continue
		}
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("STEP_LIMITS: %s=%q is not a whole number", k, v))
			continue
		}
		c.limits[k] = n
	}
	deadlineStrs, err := kindMap(c.Deadlines)
	if err != nil {
		errs = append(errs, fmt.Errorf("STEP_DEADLINES: %w", err))
	}
	c.deadlines = map[string]time.Duration{}
	for _, k := range protocol.StepKinds { // in a stable order
		c.deadlines[k.Name] = k.DefaultDeadline
		v, ok := deadlineStrs[k.Name]
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("STEP_DEADLINES: %s=%q is not a duration such as 6h (0: none)", k.Name, v))
			continue
		}
		c.deadlines[k.Name] = d
	}
	if c.ExchangeLoaders < 0 {
		errs = append(errs, fmt.Errorf("EXCHANGE_LOADERS: must not be negative, got %d", c.ExchangeLoaders))
	}
	if c.authWarning, err = c.AuthConfig.Resolve(c.HTTPAddr); err != nil {
		errs = append(errs, err)
	}
	if c.Mode == auth.ModeOIDC && (c.MetricsAddr == "" || c.MetricsAddr == c.HTTPAddr) {
		errs = append(errs, errors.New("METRICS_ADDR: with AUTH_MODE=oidc /metrics needs its own listener (the API's asks for tokens; Prometheus scrapes without), e.g. :9090"))
	}
	if c.signing, err = protocol.ParseSigningMode(c.Signing); err != nil {
		errs = append(errs, fmt.Errorf("MESSAGE_SIGNING: %w", err))
	}
	if c.SigningSecret != "" {
		if err := protocol.CheckSigningSecret(c.SigningSecret); err != nil {
			errs = append(errs, fmt.Errorf("MESSAGE_SIGNING_SECRET: %w", err))
		}
	}
	if c.MaxSteps < 0 || c.MaxActive < 0 || c.MaxSpan < 0 {
		errs = append(errs, fmt.Errorf("WORKFLOW_MAX_STEPS, WORKFLOW_MAX_SPAN, WORKFLOW_MAX_ACTIVE: must not be negative, got %d, %s, %d",
			c.MaxSteps, c.MaxSpan, c.MaxActive))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("STEP_MAX_ATTEMPTS: must be at least 1, got %d", c.MaxAttempts))
	}
	return errors.Join(errs...)
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// kindMap parses "load=a,store=b" into a map keyed by step kind.
func kindMap(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if _, known := protocol.LookupStepKind(k); !ok || !known {
			return nil, fmt.Errorf("%q: want <kind>=<value> with kind one of %s", part, strings.Join(protocol.StepKindNames(), ", "))
		}
		out[k] = v
	}
	return out, nil
}

// Run serves queue-manager until ctx ends.
func Run(ctx context.Context, rt *service.Runtime, cfg *Config) error {
	st, err := storeopen.Open(ctx, cfg.StoreConfig, storeopen.LogWaits(rt.Log))
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	admin, err := bus.NewAdmin(cfg.Config)
	if err != nil {
		return err
	}
	// queue-manager waits for Kafka as long as it takes: it is the one
	// that waits out outages for everything else.
	if err := bus.UntilReachable(ctx, admin.Check, func(err error) { rt.Log.Warn().Err(err).Msg("kafka unreachable; waiting") }); err != nil {
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
	var kc kubernetes.Interface
	var targets targetLister
	switch cfg.Launcher {
	case "local":
		ll := local.New(local.Options{BinDir: cfg.LocalBins, Pass: splitList(cfg.LocalPass), ServiceEnvDir: cfg.LocalDir, Output: os.Stderr, LogDir: cfg.StepLogs})
		defer ll.Close()
		l, targets = ll, ll
	default:
		if l, kc, err = kubeLauncher(rt, cfg.KubeConfig); err != nil {
			return err
		}
	}
	opts := engineOptions(cfg)
	opts.Log, opts.Metrics = rt.Log, flow.NewMetrics(rt.Registry)
	if opts.Signing, err = signing(cfg, rt.Log); err != nil {
		return err
	}
	repo := flow.NewRepo(st)
	// A standby (another queue-manager holds the engine lease) serves reads
	// from the store and answers changes with 503; it is ready as soon as
	// it knows it is one, the leader once its engine runs.
	gate := &engineGate{repo: repo}
	verifier, err := tokenVerifier(ctx, rt, cfg)
	if err != nil {
		return err
	}
	a := api.New(gate, repo, nil, rt.Log).Protect(verifier, cfg.APILimits)
	if cfg.SymbolsTTL > 0 {
		a.SetSymbols(api.NewSymbolList(cfg.ExchangeURL, cfg.SymbolsTTL, nil))
	}
	a.SetPurger(&purger{st: st, art: cfg.ArtifactConfig})
	a.SetCoverage(coverageReader{st: st})
	a.SetCounter(st)
	a.SetGraphs(st)
	if lg, ok := l.(launch.Logs); ok {
		a.SetLogs(lg)
	}
	feed := &market.Feed{Bus: cfg.Config, Find: a.LiveStreams, Metrics: market.NewMetrics(rt.Registry), Log: rt.Log}
	defer feed.Close()
	a.SetMarket(feed)
	a.Mount(rt.Router)
	console.Mount(rt.Router, console.Settings{Auth: cfg.Mode, Issuer: cfg.IssuerURL, ClientID: cfg.ConsoleClient})
	rt.Router.Get(SDPath, sdTargets(targets))
	rt.SetReadyCheck(gate.StoreErr)
	holder := holderID()
	rt.Log.Info().Str("launcher", cfg.Launcher).Str("holder", holder).Msg("queue-manager up; taking the engine lease")
	// With the Kubernetes launcher a Lease in the Jobs' namespace elects the
	// engine, else a lease record in the store.
	lo := lead.Options{TTL: cfg.LeaseTTL, Log: rt.Log, Standby: func() { rt.SetReady(true) }}
	var lock elector = lead.New(st, "queue-manager", holder, lo)
	if kc != nil {
		lock = lead.NewLease(kc, cfg.KubeConfig.Namespace, "queue-manager", holder, lo)
	}
	ld := &leader{rt: rt, cfg: cfg, admin: admin, prod: prod, metrics: m, launcher: l, repo: repo, opts: opts, gate: gate}
	return lock.Run(ctx, func(term context.Context) error {
		if err := ld.run(term); err != nil {
			return err
		}
		if ctx.Err() == nil {
			// Its in-memory state may be behind the new leader's: start
			// again, as a standby (the supervisor restarts it).
			return errLeaseLost
		}
		return nil
	})
}

// engineOptions returns the engine's options the configuration sets (after
// Validate, which parsed them).
func engineOptions(cfg *Config) flow.Options {
	return flow.Options{
		Services: cfg.services, Args: cfg.args, Limits: cfg.limits, ExchangeLoaders: cfg.ExchangeLoaders, Deadlines: cfg.deadlines, MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase,
		RetryMax: cfg.RetryMax, HeartbeatTimeout: cfg.HeartbeatTimeout, StopGrace: cfg.StopGrace,
		Bounds: flow.Bounds{MaxSteps: cfg.MaxSteps, MaxSpan: cfg.MaxSpan, MaxActive: cfg.MaxActive},
	}
}

// elector runs the engine while this queue-manager leads: lead.Lock or
// lead.Lease.
type elector interface {
	Run(ctx context.Context, lead func(ctx context.Context) error) error
}

// errLeaseLost ends a queue-manager whose engine lease another one took.
var errLeaseLost = errors.New("engine lease lost to another queue-manager: exiting to start again as a standby")

// leader is what runs the engine once this queue-manager leads.
type leader struct {
	rt       *service.Runtime
	cfg      *Config
	admin    *bus.Admin
	prod     *bus.Producer
	metrics  *bus.Metrics
	launcher launch.Launcher
	repo     *flow.Repo
	opts     flow.Options
	gate     *engineGate
}

// run runs the engine while this queue-manager leads (until term ends): it
// resumes the stored workflows, consumes queue-events and drives the
// launcher. The consumer and the engine are waited for before it returns,
// so the engine's last store write never races the store's close.
func (ld *leader) run(term context.Context) error {
	rt, cfg := ld.rt, ld.cfg
	// The committed offsets carry the events sent while queue-manager was
	// down (a new group reads what the topic keeps: events of unknown
	// workflows are only counted). Events are applied in batches, one commit
	// each, and only once the state they produced is stored: while the store
	// refuses writes the batch is retried, however long that takes. A Kafka
	// outage does not end the consumer: it waits it out and tells the
	// engine, which holds neither silence nor launches against the steps
	// meanwhile.
	var eng *flow.Engine
	cons, err := bus.NewConsumer(cfg.Config, bus.ConsumerOptions{Group: cfg.EventsGroup, Topics: []string{protocol.TopicEvents},
		BatchSize: 500, BatchWait: 20 * time.Millisecond, RetryForever: true, Metrics: ld.metrics,
		OnOutage: func(err error) { eng.EventsHealth(term, err) }})
	if err != nil {
		return err
	}
	defer func() { _ = cons.Close() }()
	opts := ld.opts
	opts.Events = eventLog{admin: ld.admin, cons: cons}
	eng = flow.NewEngine(ld.repo, ld.launcher, ld.prod, opts)
	if err := eng.Start(term); err != nil {
		return err
	}
	ld.gate.lead(eng)
	defer ld.gate.lead(nil)
	rt.SetReady(true)
	rt.Log.Info().Msg("queue-manager ready: engine running")

	run, stop := context.WithCancel(term)
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
	return errors.Join(errs...)
}

// holderID names this process among the queue-managers sharing a store:
// the host (a pod's name) and the process id.
func holderID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return host + "/" + strconv.Itoa(os.Getpid())
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
