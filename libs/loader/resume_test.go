package loader

import (
	"context"
	"strconv"
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// TestResumePoints writes what a crashed loader leaves behind — symbols
// sharing partitions, each one's last send only partly there — and checks
// that resuming starts no later than the first record that may be missing,
// and not much earlier.
func TestResumePoints(t *testing.T) {
	cfg := bustest.Embedded(t, embedded.Options{})
	const topic, batch = "wf-resume-test-data", 50
	bustest.Topics(t, cfg, 2, topic)
	p, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rec := func(sym string, tm int64) bus.Message {
		return bus.Message{Topic: topic, Key: []byte(sym), Value: []byte(`{"_key":"` + sym + `_` + strconv.FormatInt(tm, 10) +
			`","symbol":"` + sym + `","time":` + strconv.FormatInt(tm, 10) + `}`)}
	}
	// Full sends of 50 records, interleaved between symbols, then a last
	// send per symbol with a hole in it.
	type plan struct {
		sym         string
		full        int   // complete sends
		lastFrom    int64 // first time of the broken last send
		lost        int64 // the lost record's time
		lastRecords int
	}
	plans := []plan{
		{"BTCUSDT", 40, 40 * batch, 40*batch + 3, 30},
		{"ETHUSDT", 25, 25 * batch, 25 * batch, 50}, // its first record lost
		{"SOLUSDT", 0, 0, 7, 20},                    // never completed a send
		{"BNBUSDT", 60, 60 * batch, 60*batch + 49, 50},
	}
	ctx := context.Background()
	for round := 0; round <= 60; round++ {
		for _, pl := range plans {
			var msgs []bus.Message
			switch {
			case round < pl.full:
				for i := range int64(batch) {
					msgs = append(msgs, rec(pl.sym, int64(round)*batch+i))
				}
			case round == pl.full:
				for i := range int64(pl.lastRecords) {
					if tm := pl.lastFrom + i; tm != pl.lost {
						msgs = append(msgs, rec(pl.sym, tm))
					}
				}
			}
			if len(msgs) > 0 {
				if err := p.Send(ctx, msgs...); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	syms := []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"}
	st, err := resumePoints(ctx, cfg, a, topic, syms, batch)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, pl := range plans {
		total += int64(pl.full*batch + pl.lastRecords - 1)
		got, ok := st.from[pl.sym]
		if !ok {
			t.Errorf("%s: no resume point", pl.sym)
			continue
		}
		if got > pl.lost {
			t.Errorf("%s: resumes at %d, after the lost record %d", pl.sym, got, pl.lost)
		}
		if got < pl.lastFrom-batch {
			t.Errorf("%s: resumes at %d, more than a send before %d", pl.sym, got, pl.lastFrom)
		}
	}
	if _, ok := st.from["XRPUSDT"]; ok {
		t.Error("XRPUSDT has no records but got a resume point")
	}
	if st.records != total {
		t.Errorf("records %d, want %d", st.records, total)
	}

	empty, err := resumePoints(ctx, cfg, a, topic+"-none", syms, batch)
	if err == nil && len(empty.from) != 0 {
		t.Errorf("resume points on a missing topic: %+v", empty)
	}
}
