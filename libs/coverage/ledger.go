package coverage

// Ledger is one symbol's and data type's ledger as a loader reports it in
// its finished event's result (or a stopped live stream's interrupted
// event's): consecutive hours from From, run-length encoded into spans of
// the same verdict.
type Ledger struct {
	Symbol string `json:"symbol"`
	Type   string `json:"type"`
	From   int64  `json:"from"` // the first hour's start, epoch ms
	Spans  []Span `json:"spans"`
}

// Span is a run of consecutive hours with the same verdict.
type Span struct {
	State    State  `json:"state"`
	Source   string `json:"source,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Backfill string `json:"backfill,omitempty"`
	// Records holds one count per hour of the span; Expected, when the
	// data type has an expected count, one per hour too.
	Records  []int64 `json:"records"`
	Expected []int64 `json:"expected,omitempty"`
}

// Hours expands the ledger into one Hour per hour, in time order.
func (l Ledger) Hours() []Hour {
	var out []Hour
	t := l.From
	for _, s := range l.Spans {
		for i, n := range s.Records {
			h := Hour{Symbol: l.Symbol, Type: l.Type, Time: t, State: s.State, Source: s.Source, Reason: s.Reason,
				Backfill: s.Backfill, Records: n}
			if i < len(s.Expected) {
				h.Expected = s.Expected[i]
			}
			out = append(out, h)
			t += HourMs
		}
	}
	return out
}

// Result is the part of a loader's finished (or interrupted) event's result
// that carries its ledgers.
type Result struct {
	Coverage []Ledger `json:"coverage,omitempty"`
}

// Expect returns how many records the window [from, to) of one hour should
// hold, for data types where that is known (candles); nil means unknown.
type Expect func(from, to int64) int64

// Tracker builds one symbol's ledger while a loader publishes. It is not
// safe for concurrent use: the loader calls it where it publishes the
// symbol's records, under the same lock.
type Tracker struct {
	symbol, typ string
	from, to    int64 // the range, epoch ms; to 0 while unknown (a live stream without an end)
	first       int64 // the first hour's start
	last        int64 // the latest record counted, epoch ms
	hours       []acc
	expect      Expect
}

type acc struct {
	n        int64
	src      uint8
	state    State // set by a note of a hole
	reason   string
	backfill string
	info     string // a present hour's remark (an absent archive)
}

// NewTracker returns the tracker of symbol's typ over [from, to) (epoch
// ms; to 0 when the end is not known yet: call End). expect may be nil.
func NewTracker(symbol, typ string, from, to int64, expect Expect) *Tracker {
	t := &Tracker{symbol: symbol, typ: typ, from: from, first: Floor(from), expect: expect}
	t.End(to)
	return t
}

// End sets the range's end (epoch ms): the hours up to it are in the
// ledger even when nothing arrived for them.
func (t *Tracker) End(to int64) {
	if to <= t.from {
		return
	}
	t.to = to
	t.grow(to - 1)
}

// Stop ends the range at ms (epoch ms): a stream stopped before its range's
// end, or one without an end, covers the hours up to the stop, the stop's
// own hour partial (an expected count counts up to ms), and none after it,
// whatever End had set. A record counted at or after ms (an exchange clock
// ahead of the local one) moves the stop just after it.
func (t *Tracker) Stop(ms int64) {
	if t.last >= ms {
		ms = t.last + 1
	}
	if t.to > 0 && ms >= t.to {
		return
	}
	if ms <= t.from {
		t.to, t.hours = t.from, nil // stopped before the range began: no hour
		return
	}
	t.to = ms
	if keep := int((Floor(ms-1)-t.first)/HourMs) + 1; len(t.hours) > keep {
		t.hours = t.hours[:keep]
	}
	t.grow(ms - 1)
}

func (t *Tracker) grow(ms int64) int {
	if ms < t.from || (t.to > 0 && ms >= t.to) {
		return -1
	}
	i := int((Floor(ms) - t.first) / HourMs)
	for len(t.hours) <= i {
		t.hours = append(t.hours, acc{})
	}
	return i
}

// Count counts one record at ms from src. Records outside the range are not
// counted.
func (t *Tracker) Count(ms int64, src Source) {
	if i := t.grow(ms); i >= 0 {
		t.last = max(t.last, ms)
		t.hours[i].n++
		t.hours[i].src |= sourceBit(src)
	}
}

// Note records a hole in the hour holding ms: st Degraded or Missing with
// its reason and, for a WebSocket gap, the backfill's outcome (a failed
// backfill outweighs a closed one). st Present only remarks on the hour
// (an absent archive replaced by REST); its verdict still comes from its
// records.
func (t *Tracker) Note(ms int64, st State, reason, backfill string) {
	i := t.grow(ms)
	if i < 0 {
		return
	}
	h := &t.hours[i]
	switch {
	case st == Present:
		if h.info == "" {
			h.info = reason
		}
	case h.state == "" || (h.backfill == BackfillClosed && backfill == BackfillFailed) || (h.state == Degraded && st == Missing):
		h.state, h.reason, h.backfill = st, reason, backfill
	}
}

// Ledger returns the ledger so far.
func (t *Tracker) Ledger() Ledger {
	l := Ledger{Symbol: t.symbol, Type: t.typ, From: t.first, Spans: []Span{}}
	for i, h := range t.hours {
		start := t.first + int64(i)*HourMs
		var want int64
		if t.expect != nil {
			a, b := max(start, t.from), start+HourMs
			if t.to > 0 {
				b = min(b, t.to)
			}
			want = t.expect(a, b)
		}
		s := Span{State: Present, Source: joinSources(h.src), Reason: h.info}
		switch {
		case h.state != "":
			s.State, s.Reason, s.Backfill = h.state, h.reason, h.backfill
		case h.n == 0 && (t.expect == nil || want > 0):
			s.State, s.Reason = Missing, ReasonNoRecords
		case t.expect != nil && h.n < want:
			s.State, s.Reason = Degraded, ReasonShort(h.n, want)
		}
		n := len(l.Spans)
		if n > 0 {
			p := &l.Spans[n-1]
			if p.State == s.State && p.Source == s.Source && p.Reason == s.Reason && p.Backfill == s.Backfill {
				p.Records = append(p.Records, h.n)
				if t.expect != nil {
					p.Expected = append(p.Expected, want)
				}
				continue
			}
		}
		s.Records = []int64{h.n}
		if t.expect != nil {
			s.Expected = []int64{want}
		}
		l.Spans = append(l.Spans, s)
	}
	return l
}
