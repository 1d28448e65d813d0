package connector_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector"
)

// refusingStore fails EnsureCollection with err.
type refusingStore struct {
	store.Store
	err error
}

func (s *refusingStore) EnsureCollection(context.Context, store.Collection) error { return s.err }

// TestRunEndsForGoodOnWhatARetryCannotFix: a collection the store refuses
// and a batch it rejects (not an outage) end the run in an error event
// marked permanent, so queue-manager does not relaunch the step three times;
// a store outage at the start is an error a relaunch may outlive, not
// permanent.
func TestRunEndsForGoodOnWhatARetryCannotFix(t *testing.T) {
	tests := []struct {
		name      string
		prepare   error // EnsureCollection's error
		write     error // every Upsert's error
		permanent bool
	}{
		{name: "collection refused", prepare: errors.New(`collection name "x": reserved`), permanent: true},
		{name: "batch rejected", write: errors.New("document too large"), permanent: true},
		{name: "store down at the start", prepare: fmt.Errorf("%w: connection refused", store.ErrUnavailable), permanent: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 10, 0)
			f.st.broken = tt.write
			ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
			var st store.Store = f.st
			if tt.prepare != nil {
				st = &refusingStore{Store: f.st, err: tt.prepare}
			}
			rt := &service.Runtime{Name: connector.Name, Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}
			errc := make(chan error, 1)
			go func() { errc <- connector.Run(context.Background(), rt, f.cfg, st) }()
			err := wait(t, errc)
			want := tt.prepare
			if want == nil {
				want = tt.write
			}
			if !errors.Is(err, want) {
				t.Fatalf("Run = %v, want the store's error", err)
			}
			e := ev.WaitForFrom(t, connector.Name, protocol.StatusError, 10*time.Second)
			if !e.Finished || e.Permanent != tt.permanent {
				t.Errorf("error event finished %v permanent %v (%q), want finished, permanent %v", e.Finished, e.Permanent, e.Error, tt.permanent)
			}
			if err := f.st.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}
