package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/platform/devstack/internal/scenario"
)

// Options configure Run. Client, Kafka, Symbol and Screen are required.
type Options struct {
	Client *scenario.Client
	Kafka  bus.Config
	Symbol string
	// Store adds the store steps (the records also go to the store).
	Store bool
	// Duration is how long to stream before stopping; 0 streams until ctx
	// ends (Ctrl-C).
	Duration time.Duration
	// StopTimeout is how long the stop may take (default 60 s: the loaders'
	// stop plus queue-manager's grace period).
	StopTimeout time.Duration
	// Keep is how many trades the view lists (default 10).
	Keep   int
	Screen *Screen
	// Every is the redraw interval (default 500 ms on a terminal, 1 s
	// otherwise).
	Every time.Duration
}

// Result is how a live stream went.
type Result struct {
	Workflow *scenario.Workflow // the final state
	View     View               // the last view, the records up to the stop included
}

// statePoll is how often the workflow's state is read while streaming;
// statePollTries failed reads in a row end the stream.
const (
	statePoll      = 2 * time.Second
	statePollTries = 3
)

// Run submits Scenario 2's live workflow, tails its load steps' data topics
// into a view drawn every Every, and when Duration has passed or ctx ends,
// stops the workflow through the API and waits for it to end. It returns
// the result with an error when the workflow fails while streaming, when
// the stop does not end it within StopTimeout (scenario.ErrStopTimeout), or
// when it does not end cleanly stopped (scenario.CheckStopped).
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.StopTimeout <= 0 {
		o.StopTimeout = time.Minute
	}
	if o.Every <= 0 {
		o.Every = time.Second
		if o.Screen.TTY {
			o.Every = 500 * time.Millisecond
		}
	}
	out := o.Screen.Out
	w, err := o.Client.Submit(ctx, scenario.LiveRequest(o.Symbol, o.Store))
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	fmt.Fprintf(out, "submitted %s: live %s, steps %s; ", w.ID, o.Symbol, strings.Join(LiveSteps(o.Store), " -> "))
	if o.Duration > 0 {
		fmt.Fprintf(out, "stopping after %s\n", o.Duration)
	} else {
		fmt.Fprintf(out, "Ctrl-C stops it\n")
	}
	watch := NewWatch(o.Keep, nil)
	tctx, stopTails := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTails()
	var wg sync.WaitGroup
	var tailErr error
	var errMu sync.Mutex
	for _, s := range w.Steps {
		stream, ok := StreamOf(s.Type)
		if s.Kind != protocol.StepLoad || !ok {
			continue
		}
		topic := s.Topic
		if topic == "" {
			topic = protocol.DataTopic(s.QueueID)
		}
		fmt.Fprintf(out, "  %s %s -> %s\n", s.Type, s.Symbol, topic)
		wg.Go(func() {
			if err := watch.Tail(tctx, o.Kafka, stream, topic, 250*time.Millisecond); err != nil {
				errMu.Lock()
				tailErr = errors.Join(tailErr, err)
				errMu.Unlock()
			}
		})
	}
	fmt.Fprintln(out)

	cur, streamErr := follow(ctx, o, w, watch)
	res := &Result{Workflow: cur}
	if streamErr == nil {
		fmt.Fprintf(out, "\nstopping workflow %s through the API (Ctrl-C again quits at once)\n", w.ID)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.StopTimeout)
		final, err := o.Client.StopAndWait(sctx, w.ID, 250*time.Millisecond)
		cancel()
		if final != nil {
			res.Workflow = final
		}
		if err == nil {
			err = scenario.CheckStopped(final)
		}
		streamErr = err
	}
	stopTails()
	wg.Wait()
	res.View = watch.View()
	if streamErr == nil {
		streamErr = tailErr
	}
	return res, streamErr
}

// LiveSteps are the step kinds of a live request.
func LiveSteps(store bool) []string { return scenario.LiveRequest("", store).Steps }

// follow draws the view until the duration passes or ctx ends (nil), or
// the workflow ends by itself (its failure). It returns the workflow's last
// state.
func follow(ctx context.Context, o Options, w *scenario.Workflow, watch *Watch) (*scenario.Workflow, error) {
	start := time.Now()
	var deadline <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		deadline = t.C
	}
	draw := time.NewTicker(o.Every)
	defer draw.Stop()
	poll := time.NewTicker(statePoll)
	defer poll.Stop()
	states := stepStates(w)
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return w, nil
		case <-deadline:
			o.Screen.Draw(watch.View(), header(w, start))
			return w, nil
		case <-draw.C:
			o.Screen.Draw(watch.View(), header(w, start))
		case <-poll.C:
			cur, err := o.Client.Get(ctx, w.ID)
			if err != nil && ctx.Err() == nil {
				// Busy or restarting is one failed poll; gone is several.
				if failed++; failed >= statePollTries {
					return w, fmt.Errorf("queue-manager does not answer: %w", err)
				}
				continue
			}
			if err != nil {
				continue
			}
			failed, w = 0, cur
			if s := stepStates(w); s != states && !o.Screen.TTY {
				states = s
				fmt.Fprintf(o.Screen.Out, "workflow %s %s: %s\n", w.ID, w.State, s)
			}
			if scenario.Ended(w.State) {
				return w, scenario.Failure(w)
			}
		}
	}
}

func header(w *scenario.Workflow, start time.Time) string {
	return fmt.Sprintf("workflow %s %s (%s): %s   %s", w.ID, w.State, stepStates(w),
		time.Since(start).Round(time.Second), "Ctrl-C stops it")
}

func stepStates(w *scenario.Workflow) string {
	var parts []string
	for _, s := range w.Steps {
		parts = append(parts, s.Kind+" "+s.Type+" "+s.State)
	}
	return strings.Join(parts, ", ")
}

// Report writes how each load step ended: its state, its last attempt's
// outcome and message, and the records it published.
func Report(out io.Writer, w *scenario.Workflow) {
	fmt.Fprintf(out, "workflow %s %s\n", w.ID, w.State)
	for _, s := range w.Steps {
		line := fmt.Sprintf("  %-5s %-13s %-8s %-8s %8d records", s.Kind, s.Type, s.Symbol, s.State, s.Records)
		if n := len(s.Attempts); n > 0 {
			a := s.Attempts[n-1]
			line += fmt.Sprintf("  attempt %d: %s (%s)", a.N, a.Outcome, a.Message)
		}
		fmt.Fprintln(out, line)
	}
}
