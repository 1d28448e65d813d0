package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/streamforge/streamforge/libs/retry"
)

// start waits until every topic exists, then creates the group reader. It
// reports false, with no error, when ctx ends (or Close is called) first,
// and the outage's error when Kafka does not answer for longer than
// RideOut.
//
// kafka-go's group reader does not wait for a missing topic: its partition
// watcher ends the generation at once and the group rejoins in a tight loop
// (JoinGroup, SyncGroup and Metadata without pause, most of a core on both
// sides). So the reader is created only when the topics are there.
func (c *Consumer) start(ctx context.Context) (bool, error) {
	c.mu.Lock()
	started := c.r != nil
	c.mu.Unlock()
	if started {
		return true, nil
	}
	var down error
	for checks := 1; ; checks++ {
		missing, err := c.missingTopics(ctx)
		if ctx.Err() != nil {
			return false, nil
		}
		if err == nil && len(missing) == 0 {
			c.outage(nil, down)
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.closed {
				return false, nil
			}
			c.r = kafka.NewReader(c.rcfg)
			return true, nil
		}
		wait := c.backoff.Delay(checks - 1)
		if err != nil {
			down = c.outage(fmt.Errorf("look up %v: %w", c.opts.Topics, err), down)
			if c.outlasted() {
				return false, down
			}
		} else {
			down = c.outage(nil, down)
			if c.opts.OnTopicsMissing != nil {
				c.opts.OnTopicsMissing(missing, checks, wait)
			}
		}
		if !retry.Sleep(ctx, wait) {
			return false, nil
		}
	}
}

// missingTopics returns the topics that do not exist, asking the broker
// (Admin.metadata looks past its transport's cache for a topic it does not
// know).
func (c *Consumer) missingTopics(ctx context.Context) ([]string, error) {
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, err := c.admin.metadata(mctx, c.opts.Topics)
	if err != nil {
		return nil, c.admin.explain(err)
	}
	found := map[string]bool{}
	for _, t := range md.Topics {
		switch {
		case t.Error == nil && len(t.Partitions) > 0:
			found[t.Name] = true
		case t.Error != nil && !errors.Is(t.Error, kafka.UnknownTopicOrPartition):
			return nil, fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
	}
	var missing []string
	for _, t := range c.opts.Topics {
		if !found[t] {
			missing = append(missing, t)
		}
	}
	return missing, nil
}

// Close leaves the group and releases connections. A Run still waiting for
// its topics returns without joining.
func (c *Consumer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.admin.Close()
	if c.r == nil {
		return nil
	}
	return c.r.Close()
}
