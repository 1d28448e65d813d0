package debugproducer

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
)

// pongWindow is how long, after the first pong, the other workers of a
// task (a loader and its connector share a queue_id) have to answer.
const pongWindow = 500 * time.Millisecond

// workflowIDError explains an id that names a whole workflow: commands go
// to a step's queue_id, which the workflow lists.
func workflowIDError(id string) error {
	q, err := protocol.ParseQueueID(id)
	if err != nil || q.Type != "workflow" {
		return nil
	}
	return fmt.Errorf("--queue-id %s is a workflow id, not a step's queue_id: commands go to one step; "+
		"its steps' queue ids are in GET /api/v1/workflows/%s (steps[].queue_id), e.g. with devstack status", id, id)
}

// run is one worker of a task, as its pong names it.
type run struct{ producer, runID string }

// stopRuns stops the task's workers one run at a time: it pings the task,
// and sends each worker that answers a stop addressed to it and carrying
// its run_id, so that the stop cannot reach a later run of the same task (a
// relaunch reads queue-control from before its start). With ExpectFinish it
// waits for each of them to end. Nobody answering is an error: there is
// nothing to stop, and a stop without a run would stop every later run.
func stopRuns(ctx context.Context, cfg bus.Config, prod *bus.Producer, o Options) (string, error) {
	runs, err := pingRuns(ctx, cfg, prod, o)
	if err != nil {
		return "", err
	}
	var events *bus.Tail
	if o.ExpectFinish {
		if events, err = bus.NewTail(ctx, cfg, protocol.TopicEvents, time.Now().Add(-time.Second), nil); err != nil {
			return "", fmt.Errorf("watch %s: %w", protocol.TopicEvents, err)
		}
		defer events.Close()
	}
	sent := time.Now()
	var lines []string
	for _, r := range runs {
		cmd, err := newCommand(protocol.CommandStop, o.QueueID, r.producer)
		if err != nil {
			return "", err
		}
		cmd.RunID = r.runID
		if err := publish(ctx, prod, cmd, o.Key); err != nil {
			return "", err
		}
		line := fmt.Sprintf("sent stop to %s of %s", r.producer, o.QueueID)
		if r.runID != "" {
			line += " (run " + r.runID + ")"
		}
		lines = append(lines, line)
	}
	if !o.ExpectFinish {
		return strings.Join(lines, "\n"), nil
	}
	ended, err := awaitEnds(ctx, events, o.QueueID, runs)
	if err != nil {
		return "", err
	}
	took := time.Since(sent).Round(time.Millisecond)
	lines = lines[:0]
	for _, ev := range ended {
		who := ev.Producer
		if ev.RunID != "" {
			who += " (run " + ev.RunID + ")"
		}
		lines = append(lines, fmt.Sprintf("%s: %s %s after %d records in %s", ev.QueueID, who, ev.Status, ev.RecordsWritten, took))
	}
	return strings.Join(lines, "\n"), nil
}

// pingRuns pings the task and returns the workers that answer, each with
// its run.
func pingRuns(ctx context.Context, cfg bus.Config, prod *bus.Producer, o Options) ([]run, error) {
	events, err := bus.NewTail(ctx, cfg, protocol.TopicEvents, time.Now().Add(-time.Second), nil)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", protocol.TopicEvents, err)
	}
	defer events.Close()
	ping, err := newCommand(protocol.CommandPing, o.QueueID, o.Target)
	if err != nil {
		return nil, err
	}
	if err := publish(ctx, prod, ping, o.Key); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		once sync.Once
		runs []run
		seen = map[string]bool{}
	)
	err = events.Run(wctx, func(_ context.Context, m bus.Message) error {
		ev, err := protocol.DecodeEvent(m.Value)
		if err != nil || ev.QueueID != o.QueueID || ev.Status != protocol.StatusPong || ev.ReplyTo != ping.CommandID || seen[ev.Producer] {
			return nil
		}
		seen[ev.Producer] = true
		runs = append(runs, run{producer: ev.Producer, runID: ev.RunID})
		once.Do(func() { time.AfterFunc(pongWindow, cancel) })
		return nil
	})
	if err != nil && ctx.Err() == nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("no worker of queue_id %s answered a ping within the timeout: nothing to stop "+
			"(is a worker for it running and connected to the same Kafka? a step's queue_id is in GET /api/v1/workflows/<id>)", o.QueueID)
	}
	return runs, nil
}

// awaitEnds waits for the terminal event of every run.
func awaitEnds(ctx context.Context, events *bus.Tail, queueID string, runs []run) ([]protocol.Event, error) {
	want := map[string]bool{}
	for _, r := range runs {
		want[r.producer] = true
	}
	var got []protocol.Event
	err := events.Run(ctx, func(_ context.Context, m bus.Message) error {
		ev, err := protocol.DecodeEvent(m.Value)
		if err != nil || ev.QueueID != queueID || !ev.Finished || !want[ev.Producer] {
			return nil
		}
		delete(want, ev.Producer)
		got = append(got, ev)
		if len(want) == 0 {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return got, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no interrupted or finished event for queue_id %s from %d of its workers within the timeout", queueID, len(want))
}

func newCommand(kind protocol.CommandKind, queueID, target string) (protocol.Command, error) {
	id, err := protocol.NewSuffix(rand.Reader)
	if err != nil {
		return protocol.Command{}, err
	}
	cmd := protocol.Command{Command: kind, QueueID: queueID, Target: target,
		Timestamp: protocol.Timestamp(time.Now()), CommandID: Name + "-" + id}
	return cmd, cmd.Validate()
}

// publish sends cmd, signed with key when there is one.
func publish(ctx context.Context, prod *bus.Producer, cmd protocol.Command, key []byte) error {
	cmd.Sign(key)
	payload, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	return prod.Publish(ctx, protocol.TopicControl, []byte(cmd.QueueID), payload)
}
