package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/sqlite"
)

// BenchmarkEngineEvents applies progress events to 1,000 workflows in
// flight (two running steps each), each event stored before the next, as
// the queue-events consumer does. The baseline writes the same workflow
// documents to the same store with plain UpdateRecord calls: the engine's
// overhead over its storage.
func BenchmarkEngineEvents(b *testing.B) {
	const inFlight = 1000
	b.Run("engine/workflows=1000", func(b *testing.B) {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "qm.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		eng := NewEngine(NewRepo(st), &fakeLauncher{}, &fakePub{}, Options{})
		if err := eng.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		eng.Flowing()
		var steps []*Step
		for i := range inFlight {
			w, err := eng.Submit(context.Background(), Request{Symbols: []string{fmt.Sprintf("S%03dUSDT", i)}, Types: []string{"api_trades"},
				TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load", "store"}})
			if err != nil {
				b.Fatal(err)
			}
			steps = append(steps, w.Steps...)
		}
		now := protocol.Timestamp(time.Now())
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			s := steps[i%len(steps)]
			if err := eng.OnEvent(context.Background(), protocol.Event{QueueID: s.QueueID, Producer: s.TelemetryID, Status: protocol.StatusLoading,
				RecordsWritten: int64(i), Percent: 50, Rate: 1000, Timestamp: now}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("baseline=store-update/workflows=1000", func(b *testing.B) {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "qm.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		var recs []store.Record
		for i := range inFlight {
			w, err := New(Request{Symbols: []string{fmt.Sprintf("S%03dUSDT", i)}, Types: []string{"api_trades"},
				TimeRange: "2024-08-01:2024-08-02", Steps: []string{"load", "store"}}, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			body, _ := json.Marshal(w)
			r, err := st.CreateRecord(context.Background(), Collection, store.Record{Key: w.ID, Status: Running, Body: body})
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, r)
		}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			r := &recs[i%len(recs)]
			got, err := st.UpdateRecord(context.Background(), Collection, *r)
			if err != nil {
				b.Fatal(err)
			}
			*r = got
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
