package live

import (
	"context"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
)

// Watch feeds the records of one or more data topics into a Model; View
// may be called from any goroutine.
type Watch struct {
	now func() time.Time

	mu sync.Mutex
	m  *Model
}

// NewWatch returns a Watch keeping the last keep trades, reading the time
// from now (time.Now when nil).
func NewWatch(keep int, now func() time.Time) *Watch {
	if now == nil {
		now = time.Now
	}
	return &Watch{now: now, m: NewModel(keep)}
}

// View returns what the records so far show.
func (w *Watch) View() View {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.m.View(w.now())
}

// Add applies one message value of stream s.
func (w *Watch) Add(s Stream, value []byte) {
	r, err := Decode(s, value)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.m.Malformed()
		return
	}
	w.m.Apply(r, w.now())
}

// Tail reads topic from its beginning into the model until ctx ends, then
// returns nil. A loader creates its data topic when it starts, so until the
// topic exists Tail tries again every retry. A read error is returned.
func (w *Watch) Tail(ctx context.Context, cfg bus.Config, s Stream, topic string, retry time.Duration) error {
	var t *bus.Tail
	for {
		var err error
		if t, err = bus.NewTail(ctx, cfg, topic, time.Time{}, nil); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
	}
	defer func() { _ = t.Close() }() // a reader's close error changes nothing for the view
	return t.Run(ctx, func(_ context.Context, m bus.Message) error {
		w.Add(s, m.Value)
		return nil
	})
}
