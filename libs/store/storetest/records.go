package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/streamforge/streamforge/libs/store"
)

// workflows is the records collection the suite uses.
const workflows = "workflows"

// sameJSON compares record bodies by meaning: an adapter may reformat them.
var sameJSON = gocmp.Comparer(jsonEqual)

func testRecordLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := store.Record{Key: "wf-001", Status: "pending", Symbol: "BTCUSDT", Body: json.RawMessage(`{"step": 1, "args": ["a"]}`)}
	created, err := s.CreateRecord(ctx, workflows, in)
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	if created.Rev != 1 {
		t.Errorf("created Rev = %d, want 1", created.Rev)
	}
	if created.Created.IsZero() || !created.Updated.Equal(created.Created) {
		t.Errorf("created timestamps Created %v, Updated %v: want both set and equal", created.Created, created.Updated)
	}
	want := in
	want.Rev, want.Created, want.Updated = 1, created.Created, created.Updated
	if diff := gocmp.Diff(want, created, sameJSON); diff != "" {
		t.Errorf("CreateRecord returned (-want +got):\n%s", diff)
	}
	checkGet(t, s, created)

	dup := in
	dup.Body = json.RawMessage(`{"step": 99}`)
	if _, err := s.CreateRecord(ctx, workflows, dup); !errors.Is(err, store.ErrExists) {
		t.Errorf("CreateRecord of a taken key: %v, want ErrExists", err)
	}
	checkGet(t, s, created)
	if _, err := s.CreateRecord(ctx, workflows, store.Record{Key: "bad key"}); err == nil {
		t.Error("CreateRecord with a key ArangoDB does not allow: no error")
	}
	if _, err := s.GetRecord(ctx, workflows, "wf-404"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecord of a missing key: %v, want ErrNotFound", err)
	}

	next := created
	next.Status, next.Body = "running", json.RawMessage(`{"step": 2}`)
	updated, err := s.UpdateRecord(ctx, workflows, next)
	if err != nil {
		t.Fatalf("UpdateRecord with the current Rev: %v", err)
	}
	if updated.Updated.Before(updated.Created) {
		t.Errorf("updated Updated %v is before Created %v", updated.Updated, updated.Created)
	}
	want = next
	want.Rev, want.Updated = 2, updated.Updated
	if diff := gocmp.Diff(want, updated, sameJSON); diff != "" {
		t.Errorf("UpdateRecord returned (-want +got):\n%s", diff)
	}
	checkGet(t, s, updated)

	stale := next
	stale.Status = "stale"
	if _, err := s.UpdateRecord(ctx, workflows, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("UpdateRecord with a stale Rev: %v, want ErrConflict", err)
	}
	missing := stale
	missing.Key = "wf-404"
	if _, err := s.UpdateRecord(ctx, workflows, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateRecord of a missing key: %v, want ErrNotFound", err)
	}
	checkGet(t, s, updated)

	if err := s.DeleteRecord(ctx, workflows, updated.Key, created.Rev); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeleteRecord with a stale Rev: %v, want ErrConflict", err)
	}
	checkGet(t, s, updated)
	if err := s.DeleteRecord(ctx, workflows, updated.Key, updated.Rev); err != nil {
		t.Fatalf("DeleteRecord with the current Rev: %v", err)
	}
	if _, err := s.GetRecord(ctx, workflows, updated.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRecord after DeleteRecord: %v, want ErrNotFound", err)
	}
	if err := s.DeleteRecord(ctx, workflows, updated.Key, updated.Rev); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteRecord of a deleted record: %v, want ErrNotFound", err)
	}
}

// checkGet fails the test unless GetRecord returns want.
func checkGet(t *testing.T, s store.Store, want store.Record) {
	t.Helper()
	got, err := s.GetRecord(t.Context(), workflows, want.Key)
	if err != nil {
		t.Fatalf("GetRecord(%s): %v", want.Key, err)
	}
	if diff := gocmp.Diff(want, got, sameJSON); diff != "" {
		t.Errorf("GetRecord(%s) (-want +got):\n%s", want.Key, diff)
	}
}

func testRecordRace(t *testing.T, s store.Store) {
	const racers = 8
	r, err := s.CreateRecord(t.Context(), workflows, store.Record{Key: "wf-race", Status: "pending", Body: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatalf("CreateRecord: %v", err)
	}
	start := make(chan struct{})
	results := make([]error, racers)
	bodies := make([]json.RawMessage, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			mine := r
			mine.Status = "running"
			mine.Body = json.RawMessage(fmt.Sprintf(`{"winner": %d}`, i))
			bodies[i] = mine.Body
			<-start
			_, results[i] = s.UpdateRecord(t.Context(), workflows, mine)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("updates %d and %d of the same Rev both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("update %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no update of the current Rev succeeded")
	}
	got, err := s.GetRecord(t.Context(), workflows, r.Key)
	if err != nil {
		t.Fatalf("GetRecord: %v", err)
	}
	if got.Rev != 2 || !jsonEqual(got.Body, bodies[winner]) {
		t.Errorf("stored Rev %d body %s, want Rev 2 and the winner's body %s", got.Rev, got.Body, bodies[winner])
	}
}

func testRecordList(t *testing.T, s store.Store) {
	statuses := []string{"pending", "running", "done"}
	symbols := []string{"BTCUSDT", "ETHUSDT"}
	var all []store.Record
	for i := range 12 {
		all = append(all, store.Record{
			Key:    fmt.Sprintf("wf-%02d", i),
			Status: statuses[i%len(statuses)],
			Symbol: symbols[i%len(symbols)],
			Body:   json.RawMessage(fmt.Sprintf(`{"n": %d}`, i)),
		})
	}
	order := rand.New(rand.NewPCG(5, 6)).Perm(len(all))
	for _, i := range order {
		created, err := s.CreateRecord(t.Context(), workflows, all[i])
		if err != nil {
			t.Fatalf("CreateRecord(%s): %v", all[i].Key, err)
		}
		all[i] = created
	}

	tests := []struct {
		name  string
		q     store.RecordQuery
		match func(store.Record) bool
	}{
		{name: "everything", match: func(store.Record) bool { return true }},
		{name: "one status", q: store.RecordQuery{Status: []string{"pending"}},
			match: func(r store.Record) bool { return r.Status == "pending" }},
		{name: "several statuses", q: store.RecordQuery{Status: []string{"pending", "done"}},
			match: func(r store.Record) bool { return r.Status == "pending" || r.Status == "done" }},
		{name: "symbol", q: store.RecordQuery{Symbol: "ETHUSDT"},
			match: func(r store.Record) bool { return r.Symbol == "ETHUSDT" }},
		{name: "status and symbol", q: store.RecordQuery{Status: []string{"running"}, Symbol: "BTCUSDT"},
			match: func(r store.Record) bool { return r.Status == "running" && r.Symbol == "BTCUSDT" }},
		{name: "unknown status", q: store.RecordQuery{Status: []string{"lost"}},
			match: func(store.Record) bool { return false }},
		{name: "after a key", q: store.RecordQuery{After: "wf-05"},
			match: func(r store.Record) bool { return r.Key > "wf-05" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.DeleteFunc(slices.Clone(all), func(r store.Record) bool { return !tt.match(r) })
			slices.SortFunc(want, func(a, b store.Record) int { return strings.Compare(a.Key, b.Key) })
			got, err := s.ListRecords(t.Context(), workflows, tt.q)
			if err != nil {
				t.Fatalf("ListRecords: %v", err)
			}
			if diff := gocmp.Diff(want, got, sameJSON, noneIsEmpty); diff != "" {
				t.Errorf("ListRecords(%+v) (-want +got):\n%s", tt.q, diff)
			}
			if len(want) == 0 {
				return
			}
			// The same, a page of two at a time.
			var paged []store.Record
			q := tt.q
			q.Limit = 2
			for range len(want) + 1 {
				page, err := s.ListRecords(t.Context(), workflows, q)
				if err != nil {
					t.Fatalf("ListRecords(%+v): %v", q, err)
				}
				if len(page) > q.Limit {
					t.Fatalf("ListRecords(%+v) returned %d records, more than the limit", q, len(page))
				}
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
				q.After = page[len(page)-1].Key
			}
			if diff := gocmp.Diff(want, paged, sameJSON); diff != "" {
				t.Errorf("ListRecords by pages of 2 (-want +got):\n%s", diff)
			}
		})
	}
}

func testRecordDefaultLimit(t *testing.T, s store.Store) {
	const n, defaultLimit = 105, 100
	for i := range n {
		if _, err := s.CreateRecord(t.Context(), workflows, store.Record{Key: fmt.Sprintf("wf-%03d", i), Status: "done"}); err != nil {
			t.Fatalf("CreateRecord: %v", err)
		}
	}
	first, err := s.ListRecords(t.Context(), workflows, store.RecordQuery{})
	if err != nil {
		t.Fatalf("ListRecords: %v", err)
	}
	if len(first) != defaultLimit {
		t.Fatalf("ListRecords with no Limit returned %d records, want %d", len(first), defaultLimit)
	}
	rest, err := s.ListRecords(t.Context(), workflows, store.RecordQuery{After: first[len(first)-1].Key, Limit: -1})
	if err != nil {
		t.Fatalf("ListRecords: %v", err)
	}
	if got := len(first) + len(rest); got != n {
		t.Errorf("two default pages hold %d records, want %d", got, n)
	}
}

func testRecordListMissing(t *testing.T, s store.Store) {
	got, err := s.ListRecords(t.Context(), "nosuchrecords", store.RecordQuery{Status: []string{"pending"}})
	if err != nil || len(got) != 0 {
		t.Errorf("ListRecords of a collection never written = %v, %v; want no records and no error", got, err)
	}
}
