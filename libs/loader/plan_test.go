package loader

import (
	"math/rand/v2"
	"testing"
	"time"
)

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func TestPlanSources(t *testing.T) {
	now := time.Date(2024, 10, 15, 12, 0, 0, 0, time.UTC)
	hour := int64(time.Hour / time.Millisecond)
	got := plan("BTCUSDT", ms("2024-07-30T21:00:00Z"), ms("2024-07-30T21:00:00Z"), ms("2024-10-15T06:00:00Z"), now, true, hour)
	type want struct {
		src      source
		from, to string
	}
	exp := []want{
		{fromDayArchive, "2024-07-30T21:00:00Z", "2024-07-31T00:00:00Z"}, // the end of a past day: its archive
		{fromDayArchive, "2024-07-31T00:00:00Z", "2024-08-01T00:00:00Z"},
		{fromMonthArchive, "2024-08-01T00:00:00Z", "2024-09-01T00:00:00Z"},
		{fromMonthArchive, "2024-09-01T00:00:00Z", "2024-10-01T00:00:00Z"},
	}
	// October is not over: its first 14 days come from daily archives, the
	// 15th (today, not archived yet) from REST.
	for d := 1; d <= 14; d++ {
		day := time.Date(2024, 10, d, 0, 0, 0, 0, time.UTC)
		exp = append(exp, want{fromDayArchive, day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339)})
	}
	for h := range 6 {
		at := time.Date(2024, 10, 15, h, 0, 0, 0, time.UTC)
		exp = append(exp, want{fromREST, at.Format(time.RFC3339), at.Add(time.Hour).Format(time.RFC3339)})
	}
	if len(got) != len(exp) {
		t.Fatalf("%d chunks, want %d: %+v", len(got), len(exp), got)
	}
	for i, e := range exp {
		c := got[i]
		if c.src != e.src || c.from != ms(e.from) || c.to != ms(e.to) {
			t.Errorf("chunk %d: %s %s, want %s %s/%s", i, c.src, span(c.from, c.to), e.src, e.from, e.to)
		}
		if c.src != fromREST && (c.from < c.period.UnixMilli() || c.from >= c.period.UnixMilli()+msPerDay*31) {
			t.Errorf("chunk %d: archive period %s does not hold the chunk", i, c.period)
		}
	}
}

// TestPlanCovers checks on random ranges that the chunks tile [from, to)
// exactly, in order, and that a resumed plan is the tail of the full plan.
func TestPlanCovers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := ms("2024-01-01T00:00:00Z")
	for i := range 2000 {
		start := base + r.Int64N(400*msPerDay)
		end := start + 1 + r.Int64N(90*msPerDay)
		now := time.UnixMilli(start + r.Int64N(120*msPerDay))
		span := 1 + r.Int64N(3*msPerDay)
		archives := r.IntN(4) > 0
		full := plan("X", start, start, end, now, archives, span)
		at := start
		for _, c := range full {
			if c.from != at || c.to <= c.from {
				t.Fatalf("case %d: chunk %s does not continue at %d", i, fmtChunk(c), at)
			}
			if c.src == fromREST && c.to-c.from > span {
				t.Fatalf("case %d: REST chunk %s longer than %d ms", i, fmtChunk(c), span)
			}
			if c.src != fromREST && (!archives || c.to > now.UnixMilli()) {
				t.Fatalf("case %d: archive chunk %s (archives %v, now %s)", i, fmtChunk(c), archives, now)
			}
			at = c.to
		}
		if at != end {
			t.Fatalf("case %d: chunks end at %d, want %d", i, at, end)
		}
		resume := start + r.Int64N(end-start)
		tail := plan("X", start, resume, end, now, archives, span)
		if len(tail) == 0 || tail[0].from != resume {
			t.Fatalf("case %d: resumed plan does not start at %d: %v", i, resume, tail)
		}
		off := len(full) - len(tail)
		for j, c := range tail {
			f := full[off+j]
			if c.src != f.src || c.to != f.to || (j > 0 && c.from != f.from) {
				t.Fatalf("case %d: resumed chunk %d %s differs from %s", i, j, fmtChunk(c), fmtChunk(f))
			}
		}
	}
}

func fmtChunk(c chunk) string { return c.src.String() + " " + span(c.from, c.to) }

// TestRESTSpanNeverZero: a zero span made plan loop forever for monthly
// candles, whose interval has no fixed length.
func TestRESTSpanNeverZero(t *testing.T) {
	for _, typ := range []string{"api_candles_1s", "api_candles_1w", "api_candles_1M", "api_trades"} {
		d, err := ParseDataType(typ)
		if err != nil {
			t.Fatal(err)
		}
		if restSpan(d) <= 0 {
			t.Errorf("%s: span %d", typ, restSpan(d))
		}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	d, _ := ParseDataType("api_candles_1M")
	done := make(chan []chunk, 1)
	go func() { done <- plan("BTCUSDT", start, start, end, time.UnixMilli(end), false, restSpan(d)) }()
	select {
	case chunks := <-done:
		if len(chunks) == 0 || chunks[0].from != start || chunks[len(chunks)-1].to != end {
			t.Errorf("chunks %+v", chunks)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("plan did not return for api_candles_1M over REST")
	}
}
