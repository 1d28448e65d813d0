package connector_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store/sqlite"
	"github.com/streamforge/streamforge/libs/testkit"
	"github.com/streamforge/streamforge/services/arango-connector/internal/connector"
)

// TestRunWritesTheLoadersCoverage: the loader's finished event carries its
// ledger; the connector, once everything is stored, checks each hour
// against the store and writes the ledger into the coverage collection. An
// hour the loader says it published records for and the store lacks is
// degraded with both counts; the connector's finished event sums it up.
func TestRunWritesTheLoadersCoverage(t *testing.T) {
	for _, resumed := range []bool{false, true} {
		t.Run(map[bool]string{false: "from the start", true: "resumed after the first hour"}[resumed], func(t *testing.T) {
			testRunWritesCoverage(t, resumed)
		})
	}
}

// testRunWritesCoverage: a loader that resumed after an earlier attempt
// reports its ledger from where it resumed; the connector fills the hours
// before from the store's counts.
func testRunWritesCoverage(t *testing.T, resumed bool) {
	const records = 120 // all in the day's first hour (newFixture)
	f := newFixture(t, records, 0)
	day := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	from := day
	if resumed {
		from = day + coverage.HourMs
	}
	tr := coverage.NewTracker("BTCUSDT", "api_trades", from, day+3*coverage.HourMs, nil)
	for i := range int64(records) {
		tr.Count(day+i, coverage.Archive) // not counted when resumed: before the tracker's range
	}
	for i := range int64(5) {
		tr.Count(day+coverage.HourMs+i, coverage.REST) // the store never got these
	}
	result, err := json.Marshal(coverage.Result{Coverage: []coverage.Ledger{tr.Ledger()}})
	if err != nil {
		t.Fatal(err)
	}
	ev := testkit.WatchEvents(t, f.kafka, f.cfg.QueueID)
	errc := f.run(t, context.Background())
	testkit.Publish(t, f.kafka, protocol.TopicEvents, f.cfg.QueueID, protocol.Event{QueueID: f.cfg.QueueID,
		Producer: "loader-producer__a1b2c3", Status: protocol.StatusFinished, Finished: true, RecordsWritten: records + 5,
		Timestamp: protocol.Timestamp(time.Now()), Result: result})
	if err := wait(t, errc); err != nil {
		t.Fatalf("Run = %v", err)
	}
	fin := ev.WaitForFrom(t, connector.Name, protocol.StatusFinished, 10*time.Second)
	var got struct {
		Coverage coverage.Summary `json:"coverage"`
		Holes    []string         `json:"holes"`
	}
	if err := json.Unmarshal(fin.Result, &got); err != nil {
		t.Fatalf("connector's result %s: %v", fin.Result, err)
	}
	wantSum := coverage.Summary{Hours: 3, Present: 1, Degraded: 1, Missing: 1}
	if got.Coverage != wantSum {
		t.Errorf("coverage %+v, want %+v", got.Coverage, wantSum)
	}
	wantHoles := []string{
		"BTCUSDT api_trades 2024-08-01T01:00Z degraded: " + coverage.ReasonStoreMismatch(0, 5),
		"BTCUSDT api_trades 2024-08-01T02:00Z missing: " + coverage.ReasonNoRecords,
	}
	if !slices.Equal(got.Holes, wantHoles) {
		t.Errorf("holes\n got %q\nwant %q", got.Holes, wantHoles)
	}

	st, err := sqlite.Open(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	hs, err := coverage.Read(context.Background(), st, "BTCUSDT", "api_trades", day, day+3*coverage.HourMs)
	if err != nil {
		t.Fatal(err)
	}
	source, reason := "archive", ""
	if resumed {
		source, reason = "", coverage.ReasonEarlierRun
	}
	if len(hs) != 3 || hs[0].State != coverage.Present || hs[0].Source != source || hs[0].Reason != reason || hs[0].Stored == nil ||
		*hs[0].Stored != records || hs[0].Records != records || hs[0].QueueID != f.cfg.QueueID {
		t.Errorf("stored ledger %+v, want 3 hours, the first present (source %q, reason %q) with %d stored by %s",
			hs, source, reason, records, f.cfg.QueueID)
	}
}
