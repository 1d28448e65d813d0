package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/launch"
)

// Publisher sends queue-control commands; *bus.Producer is one.
type Publisher interface {
	Publish(ctx context.Context, topic string, key, value []byte) error
}

// Options tune the engine.
type Options struct {
	// Services names the binary (local) or image (Kubernetes) that runs
	// each step kind; default its Role.
	Services map[string]string
	// Args are extra command-line arguments per step kind.
	Args map[string][]string
	// Limits caps the steps of a kind running at once (0: no cap).
	Limits map[string]int
	// ExchangeLoaders caps the history load steps running at once, of
	// every workflow (0: no cap): they share the exchange's request-weight
	// budget of one egress IP (see exchange.go).
	ExchangeLoaders int
	// Deadlines bound one run of a step kind (0 or absent: none); a live
	// stream's steps have none.
	Deadlines map[string]time.Duration
	// MaxAttempts is how many times a step is launched before it fails for
	// good (default 3).
	MaxAttempts int
	// RetryBase and RetryMax bound the exponential delay before a relaunch
	// (defaults 2 s and 1 min).
	RetryBase, RetryMax time.Duration
	// HeartbeatTimeout is how long a running step may stay silent on
	// queue-events before it is treated as dead (default 45 s).
	HeartbeatTimeout time.Duration
	// StopGrace is how long a stopped step's worker has to end by itself
	// before its run is removed (default 30 s).
	StopGrace time.Duration
	// Events tells how far queue-events is written and read: a run that
	// exited without a terminal event is judged once the events sent
	// before it ended have been applied. Nil means every event is applied
	// as soon as it is sent (tests without Kafka).
	Events EventLog
	// StoreTimeout bounds one store call (default 10 s).
	StoreTimeout time.Duration
	// Bounds limit a workflow's size and an owner's workflows in flight.
	Bounds Bounds
	// Signing signs commands and checks events (zero: off).
	Signing Signing
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log zerolog.Logger
	// Metrics receives the engine's series; nil keeps them unregistered.
	Metrics *Metrics
}

func (o *Options) defaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 2 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Minute
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 45 * time.Second
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 30 * time.Second
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = 10 * time.Second
	}
	if o.Events == nil {
		o.Events = appliedLog{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
}

// Change is what a watcher of a workflow is told: the workflow after a
// change, and what changed.
type Change struct {
	Kind     string    `json:"kind"` // workflow, step, progress
	Step     string    `json:"step,omitempty"`
	Workflow *Workflow `json:"workflow"`
}

// Engine runs workflows: it launches each step when its turn comes, follows
// queue-events and the launcher, relaunches what dies, and keeps every
// change in the store. Its state is guarded by one mutex; the store write
// of a change happens under it, so the stored workflow is never behind what
// a client was told. A change the store refused is kept and written again
// on every tick until it is stored; until then OnEvent returns an error, so
// that the events behind it are not committed, and StoreErr says why.
type Engine struct {
	o        Options
	repo     *Repo
	launcher launch.Launcher
	pub      Publisher

	admit    sync.Mutex // one Submit at a time: counting an owner's workflows and creating one are one step
	mu       sync.Mutex
	active   map[string]*Workflow // not final, by id
	byQueue  map[string][]*stepRef
	runs     map[string]*stepRef // current run id -> step
	lastSeen map[string]time.Time
	exited   map[string]map[int]int64 // run ended, no terminal event: queue-events end offsets after it ended (nil: not taken yet)
	subs     map[string]map[chan Change]struct{}
	dirty    map[string]*Workflow  // progress not stored yet (Tick stores it)
	unsaved  map[string]*Workflow  // changes the store refused (Tick writes them again)
	storeErr atomic.Pointer[error] // why the last write failed while some are unsaved
	// lastSilences is the last reading of the running steps' silences,
	// for a scrape that finds the engine's lock taken.
	lastSilences atomic.Pointer[[]seenStep]
	flowing      time.Time // when queue-events first delivered (or again after an outage); zero before
	blind        error     // why queue-manager cannot read queue-events now; nil when it can
	fx           []effect  // effects decided under mu, performed by unlock

	qmu      sync.Mutex // guards queue, draining and stops; never held across I/O
	queue    []effect   // effects decided, in order, not performed yet
	draining bool       // a goroutine is performing the queue
	// stops are the stop commands that could not be published (Kafka
	// unreachable), by run id: Tick publishes them again while their step
	// is still stopping.
	stops map[string]*unsentStop
	// ended are the workflows that ended lately, by queue id: the worker's
	// error event may come after the process exit that ended them.
	ended map[string][]*stepRef
	// unsent are the runs whose start command could not be published, by
	// the goroutine performing the queue (only it reads and writes them).
	unsent map[string]error
}

type stepRef struct {
	w *Workflow
	s *Step
}

// NewEngine returns an engine; call Start to resume stored work.
func NewEngine(repo *Repo, l launch.Launcher, pub Publisher, o Options) *Engine {
	o.defaults()
	e := &Engine{
		o: o, repo: repo, launcher: l, pub: pub,
		active: map[string]*Workflow{}, byQueue: map[string][]*stepRef{}, runs: map[string]*stepRef{},
		lastSeen: map[string]time.Time{}, exited: map[string]map[int]int64{}, subs: map[string]map[chan Change]struct{}{},
		dirty: map[string]*Workflow{}, unsaved: map[string]*Workflow{}, unsent: map[string]error{},
		stops: map[string]*unsentStop{}, ended: map[string][]*stepRef{},
	}
	e.o.Metrics.silence.watch(e.silences)
	return e
}

// Start reloads unfinished workflows and reconciles their running steps
// with what the launcher still runs: a run that is gone is a failed
// attempt, relaunched like any other.
func (e *Engine) Start(ctx context.Context) error {
	wfs, err := e.repo.Unfinished(ctx)
	if err != nil {
		return fmt.Errorf("load unfinished workflows: %w", err)
	}
	runs, err := e.launcher.Runs(ctx)
	if err != nil {
		return fmt.Errorf("list launched runs: %w", err)
	}
	alive := map[string]launch.Status{}
	for _, r := range runs {
		alive[r.ID] = r
	}
	e.mu.Lock()
	defer e.unlock(ctx)
	now := e.o.Now()
	for _, w := range wfs {
		e.adopt(w)
		for _, s := range w.Steps {
			if s.State != Running && s.State != Stopping {
				continue
			}
			a := s.Current()
			st, ok := alive[a.RunID]
			switch {
			case ok && !st.Phase.Terminal():
				e.runs[a.RunID] = &stepRef{w, s}
				e.lastSeen[s.ID] = now
				e.o.Log.Info().Str("workflow", w.ID).Str("step", s.ID).Str("run", a.RunID).Msg("re-adopted a running step")
			case ok && st.Phase == launch.Succeeded:
				e.runs[a.RunID] = &stepRef{w, s}
				e.exited[a.RunID] = nil
			default:
				e.attemptFailed(ctx, w, s, "its run was lost while queue-manager was down")
			}
		}
		// A workflow left stopping whose runs are all gone ends now; one
		// whose steps all ended before the restart too.
		e.settleLocked(ctx, w)
		e.saveLocked(ctx, w, "workflow", "")
	}
	e.scheduleLocked(ctx)
	return nil
}

// adopt puts a workflow in the active set.
func (e *Engine) adopt(w *Workflow) {
	e.active[w.ID] = w
	for _, s := range w.Steps {
		e.byQueue[s.QueueID] = append(e.byQueue[s.QueueID], &stepRef{w, s})
	}
}

func (e *Engine) forget(w *Workflow) {
	e.rememberEnded(w)
	delete(e.active, w.ID)
	for _, s := range w.Steps {
		delete(e.byQueue, s.QueueID)
		delete(e.lastSeen, s.ID)
		if a := s.Current(); a != nil {
			delete(e.runs, a.RunID)
			delete(e.exited, a.RunID)
		}
	}
}

// Submit creates a workflow from a validated request and starts it.
func (e *Engine) Submit(ctx context.Context, r Request) (*Workflow, error) {
	w, err := New(r, e.o.Now().UTC())
	if err != nil {
		return nil, err
	}
	if err := e.o.Bounds.checkShape(w); err != nil {
		return nil, err
	}
	if a, ok := ActorOf(ctx); ok {
		w.Owner = &a
	}
	e.admit.Lock()
	defer e.admit.Unlock()
	e.mu.Lock()
	err = e.checkActiveLocked(ownerKey(w))
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if w.Owner != nil {
		e.audit(ctx, w, AuditCreated)
	}
	if err := e.repo.Create(ctx, w); err != nil {
		return nil, fmt.Errorf("store workflow: %w", err)
	}
	e.o.Metrics.submitted.Inc()
	e.mu.Lock()
	defer e.unlock(ctx)
	e.adopt(w)
	e.scheduleLocked(ctx)
	return clone(w), nil
}

// Get returns a workflow: the live one when active or not stored yet, else
// the stored one.
func (e *Engine) Get(ctx context.Context, id string) (*Workflow, error) {
	e.mu.Lock()
	if w, ok := e.active[id]; ok {
		defer e.mu.Unlock()
		return clone(w), nil
	}
	if w, ok := e.unsaved[id]; ok {
		defer e.mu.Unlock()
		return clone(w), nil
	}
	e.mu.Unlock()
	return e.repo.Get(ctx, id)
}

// Stop stops a workflow gracefully: pending steps will not start, running
// ones get a stop command and StopGrace to end before their runs are
// removed. Stopping a stopping workflow sends the stop commands of its
// stopping steps again (the first ones may have been lost); stopping a
// final workflow changes nothing.
func (e *Engine) Stop(ctx context.Context, id string) (*Workflow, error) {
	e.mu.Lock()
	defer e.unlock(ctx)
	w, ok := e.active[id]
	if !ok {
		return e.repo.Get(ctx, id)
	}
	if w.State == Stopping {
		for _, s := range w.Steps {
			if s.State == Stopping {
				e.command(s, protocol.CommandStop)
			}
		}
		e.settleLocked(ctx, w)
		e.saveLocked(ctx, w, "workflow", "")
		return clone(w), nil
	}
	// Settling a stopping workflow cancels its pending steps and stops
	// the running ones.
	w.State, w.StopAfter = Stopping, e.o.Now().Add(e.o.StopGrace)
	e.audit(ctx, w, AuditStopped)
	e.settleLocked(ctx, w)
	e.saveLocked(ctx, w, "workflow", "")
	return clone(w), nil
}

// Delete removes a final workflow; ErrActive when it is not final.
func (e *Engine) Delete(ctx context.Context, id string) error {
	e.mu.Lock()
	_, active := e.active[id]
	e.mu.Unlock()
	if active {
		return ErrActive
	}
	w, err := e.repo.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := e.repo.Delete(ctx, w); err != nil {
		return err
	}
	// The record is gone: the log keeps who deleted it.
	e.audit(ctx, w, AuditDeleted)
	return nil
}

// ErrActive is returned when deleting a workflow that has not ended.
var ErrActive = errors.New("workflow has not ended: stop it first")

// Subscribe returns a channel of the workflow's changes and a function that
// ends the subscription. The channel is closed when the workflow ends.
func (e *Engine) Subscribe(id string) (<-chan Change, func(), bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.active[id]; !ok {
		return nil, func() {}, false
	}
	ch := make(chan Change, 64)
	if e.subs[id] == nil {
		e.subs[id] = map[chan Change]struct{}{}
	}
	e.subs[id][ch] = struct{}{}
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, ok := e.subs[id][ch]; ok {
			delete(e.subs[id], ch)
			close(ch)
		}
	}, true
}

// saveLocked stores w and tells its watchers. State changes are stored at
// once; progress alone is stored by the next Tick (clients read the live
// state, and a lost progress write is redone by the worker's next event). A
// store failure is logged and the workflow kept among the unsaved, written
// again by every Tick.
func (e *Engine) saveLocked(ctx context.Context, w *Workflow, kind, step string) {
	w.Updated = e.o.Now().UTC()
	if kind == "progress" {
		e.dirty[w.ID] = w
	} else {
		delete(e.dirty, w.ID)
		e.store(ctx, w)
	}
	if len(e.subs[w.ID]) > 0 {
		c := Change{Kind: kind, Step: step, Workflow: clone(w)}
		for ch := range e.subs[w.ID] {
			select {
			case ch <- c:
			default: // a slow watcher misses intermediate changes, never the state
			}
		}
	}
	if Terminal(w.State) {
		for ch := range e.subs[w.ID] {
			close(ch)
		}
		delete(e.subs, w.ID)
		e.forget(w)
	}
}

func clone(w *Workflow) *Workflow {
	b, _ := json.Marshal(w)
	var c Workflow
	_ = json.Unmarshal(b, &c)
	c.Rev = w.Rev
	return &c
}

// command has a command for a step published on queue-control.
func (e *Engine) command(s *Step, kind protocol.CommandKind) {
	cmd := e.task(s).StartCommand(s.TelemetryID, protocol.Timestamp(e.o.Now()))
	cmd.Command = kind
	if kind != protocol.CommandStart {
		cmd = protocol.Command{Command: kind, QueueID: s.QueueID, Target: s.TelemetryID, Timestamp: cmd.Timestamp, RunID: cmd.RunID}
	}
	cmd.Sign(e.o.Signing.key(s.QueueID))
	e.fx = append(e.fx, effect{cmd: &cmd})
}

func (e *Engine) task(s *Step) protocol.Task {
	t := protocol.Task{QueueID: s.QueueID, Symbol: s.Symbol, Type: s.Type, TimeRange: s.TimeRange,
		KafkaTopic: s.Topic, CollectionName: s.Collection, TelemetryID: s.TelemetryID}
	if a := s.Current(); a != nil {
		t.RunID = a.RunID
	}
	return t
}

// scheduleLocked launches every step whose turn has come, within the
// limits, and numbers the ones waiting for a slot.
func (e *Engine) scheduleLocked(ctx context.Context) {
	if e.blind != nil {
		return // a worker launched now could not report: wait for Kafka
	}
	now := e.o.Now()
	running := map[string]int{}
	var ready []*stepRef
	for _, w := range e.active {
		for _, s := range w.Steps {
			switch s.State {
			case Running, Stopping:
				running[s.Kind]++
				if usesExchangeBudget(s) {
					running[exchangeSlot]++
				}
			case Pending:
				if w.State != Stopping && !now.Before(s.RetryAt) && e.depsDone(w, s) {
					ready = append(ready, &stepRef{w, s})
				}
			}
		}
	}
	sort.SliceStable(ready, func(i, j int) bool {
		if !ready[i].w.Created.Equal(ready[j].w.Created) {
			return ready[i].w.Created.Before(ready[j].w.Created)
		}
		return ready[i].w.ID < ready[j].w.ID
	})
	waiting := map[string]int{}
	changed := map[*Workflow]bool{}
	for _, r := range ready {
		if limit := e.o.Limits[r.s.Kind]; (limit > 0 && running[r.s.Kind] >= limit) || e.exchangeFull(r.s, running) {
			waiting[r.s.Kind]++
			if r.s.QueuePosition != waiting[r.s.Kind] {
				r.s.QueuePosition = waiting[r.s.Kind]
				changed[r.w] = true
			}
			continue
		}
		running[r.s.Kind]++
		if usesExchangeBudget(r.s) {
			running[exchangeSlot]++
		}
		e.launchLocked(ctx, r.w, r.s)
		changed[r.w] = true
	}
	for w := range changed {
		e.settleLocked(ctx, w)
		e.saveLocked(ctx, w, "workflow", "")
	}
}

func (e *Engine) depsDone(w *Workflow, s *Step) bool {
	for _, id := range s.After {
		if d := w.Step(id); d == nil || d.State != Finished {
			return false
		}
	}
	return true
}

// launchLocked starts the next attempt of s: the start command first (a
// worker reads it from queue-control), then the run.
func (e *Engine) launchLocked(ctx context.Context, w *Workflow, s *Step) {
	now := e.o.Now().UTC()
	n := len(s.Attempts) + 1
	run := protocol.RunID(s.QueueID, s.Kind, n)
	s.Attempts = append(s.Attempts, Attempt{N: n, RunID: run, Started: now})
	s.State, s.QueuePosition, s.RetryAt, s.Error = Running, 0, time.Time{}, ""
	if w.State == Pending {
		w.State = Running
	}
	e.runs[run] = &stepRef{w, s}
	e.lastSeen[s.ID] = now
	e.command(s, protocol.CommandStart)
	env := map[string]string{
		"QUEUE_ID": s.QueueID, "SYMBOL": s.Symbol, "TYPE": s.Type, "TIME_RANGE": s.TimeRange,
		"KAFKA_TOPIC": s.Topic, "COLLECTION_NAME": s.Collection, "TELEMETRY_ID": s.TelemetryID, "RUN_ID": run,
	}
	if k, _ := protocol.LookupStepKind(s.Kind); k.Inputs != "" && len(s.Inputs) > 0 {
		env[k.Inputs] = strings.Join(s.Inputs, ",")
	}
	for k, v := range s.Env {
		env[k] = v
	}
	signEnv, secrets := e.o.Signing.env(s.QueueID)
	for k, v := range signEnv { // after the options: the platform's, not the request's
		env[k] = v
	}
	svc := e.o.Services[s.Kind]
	if svc == "" {
		svc = Role(s.Kind)
	}
	spec := launch.Spec{ID: run, Service: svc, Args: e.o.Args[s.Kind], Env: env, Secrets: secrets,
		Labels: map[string]string{"queue_id": s.QueueID, "step": s.Kind, "attempt": strconv.Itoa(n), "workflow": w.ID}}
	if dt, _, err := protocol.LookupDataType(s.Type); err != nil || !dt.Live {
		// A live stream runs until it is stopped or its time range ends.
		spec.Deadline = e.o.Deadlines[s.Kind]
	}
	e.o.Metrics.launches.WithLabelValues(s.Kind).Inc()
	e.o.Log.Info().Str("workflow", w.ID).Str("step", s.ID).Int("attempt", n).Str("service", svc).Msg("launching")
	e.fx = append(e.fx, effect{run: &spec})
}

// Lost is the outcome of an attempt that failed while queue-manager could
// not read queue-events: the outage, not the step, is the likely cause
// (its worker could not reach Kafka either), so it does not count against
// MaxAttempts.
const Lost = "lost"

// counted returns how many of s's attempts count against MaxAttempts.
func counted(s *Step) int {
	n := 0
	for _, a := range s.Attempts[min(s.RetryFrom, len(s.Attempts)):] {
		if a.Outcome != Lost {
			n++
		}
	}
	return n
}

// attemptFailed ends the current attempt as failed (lost, during an outage
// of queue-events) and schedules the next one after a capped exponential
// delay, or fails the step (and with it the workflow) when the attempts
// are used up.
func (e *Engine) attemptFailed(ctx context.Context, w *Workflow, s *Step, why string) {
	e.attemptFailedFor(ctx, w, s, why, false)
}

// attemptFailedFor is attemptFailed; a permanent failure (the worker said
// a retry cannot fix it) fails the step at once.
func (e *Engine) attemptFailedFor(ctx context.Context, w *Workflow, s *Step, why string, permanent bool) {
	now := e.o.Now().UTC()
	a := s.Current()
	if a != nil && a.Ended.IsZero() {
		a.Ended, a.Outcome, a.Message = now, Failed, why
		if e.blind != nil && !permanent {
			a.Outcome, a.Message = Lost, why+" (during a queue-events outage: not counted)"
		}
		delete(e.runs, a.RunID)
		delete(e.exited, a.RunID)
		e.fx = append(e.fx, effect{stop: a.RunID})
	}
	e.o.Metrics.failures.WithLabelValues(s.Kind).Inc()
	s.Error = why
	switch {
	case w.State == Stopping || s.State == Stopping:
		s.State = Stopped
	case permanent:
		s.State = Failed
		e.o.Log.Error().Str("workflow", w.ID).Str("step", s.ID).Str("why", why).Msg("step failed: a retry cannot fix it")
		if w.Error == "" {
			w.Error = fmt.Sprintf("step %s failed: %s (not retried: the worker marked it permanent)", s.ID, why)
		}
	case counted(s) < e.o.MaxAttempts:
		delay := e.o.RetryBase << min(max(counted(s), 1)-1, 20)
		if delay > e.o.RetryMax || delay <= 0 {
			delay = e.o.RetryMax
		}
		s.State, s.RetryAt = Pending, now.Add(delay)
		e.o.Log.Warn().Str("workflow", w.ID).Str("step", s.ID).Str("why", why).Dur("retry_in", delay).Msg("attempt failed; relaunching")
	default:
		s.State = Failed
		e.o.Metrics.stepsEnded.WithLabelValues(s.Kind, Failed).Inc()
		e.o.Log.Error().Str("workflow", w.ID).Str("step", s.ID).Str("why", why).Msg("step failed for good")
		if w.Error == "" {
			w.Error = fmt.Sprintf("step %s failed after %d attempts: %s", s.ID, counted(s), why)
		}
	}
}

// settleLocked applies what settle decides for w: cancelled steps stop,
// running ones get a stop command and the stop grace, and an ended
// workflow is counted.
func (e *Engine) settleLocked(ctx context.Context, w *Workflow) {
	d := settle(w)
	for _, s := range d.Cancel {
		s.State, s.QueuePosition, s.RetryAt = Stopped, 0, time.Time{}
	}
	for _, s := range d.Stop {
		s.State = Stopping
		e.command(s, protocol.CommandStop)
	}
	if len(d.Stop) > 0 && w.StopAfter.IsZero() {
		w.StopAfter = e.o.Now().Add(e.o.StopGrace)
	}
	if d.State == w.State {
		return
	}
	w.State = d.State
	if Terminal(w.State) {
		e.o.Metrics.ended.WithLabelValues(w.State).Inc()
		e.o.Log.Info().Str("workflow", w.ID).Str("state", w.State).Msg("workflow ended")
	}
}
