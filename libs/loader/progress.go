package loader

import (
	"fmt"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/telemetry"
)

// progress follows how far each symbol got, for progress events.
type progress struct {
	mu      sync.Mutex
	start   int64 // the task's range, epoch ms
	end     int64
	base    int64 // records in the topic before this run
	records int64 // records acknowledged in this run
	syms    map[string]*symProgress

	lastAt      time.Time
	lastRecords int64
	rate        float64 // records/s, smoothed
}

type symProgress struct {
	from, upTo int64
}

func newProgress(start, end time.Time, base int64) *progress {
	return &progress{start: start.UnixMilli(), end: end.UnixMilli(), base: base, syms: map[string]*symProgress{}, lastAt: time.Now()}
}

func (p *progress) begin(sym string, from int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.syms[sym] = &symProgress{from: from, upTo: from}
}

func (p *progress) acked(sym string, n int, upTo int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records += int64(n)
	if s := p.syms[sym]; s != nil && upTo > s.upTo {
		s.upTo = upTo
	}
}

// total returns the records the topic holds: those before this run and
// those acknowledged since.
func (p *progress) total() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.base + p.records
}

// report computes a progress event at now. Percent is the share of the
// symbols' time range covered; the ETA extrapolates this run's pace.
func (p *progress) report(now time.Time, nsyms int) telemetry.ProgressInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	if dt := now.Sub(p.lastAt).Seconds(); dt > 0 {
		inst := float64(p.records-p.lastRecords) / dt
		if p.lastRecords == 0 && p.rate == 0 {
			p.rate = inst
		} else {
			p.rate = 0.5*p.rate + 0.5*inst
		}
	}
	p.lastAt, p.lastRecords = now, p.records
	whole := float64(p.end-p.start) * float64(nsyms)
	var covered, thisRun, leftRun float64
	for _, s := range p.syms {
		covered += float64(s.upTo - p.start)
		thisRun += float64(s.upTo - s.from)
		leftRun += float64(p.end - s.upTo)
	}
	info := telemetry.ProgressInfo{Records: p.base + p.records, Rate: p.rate}
	if whole > 0 {
		info.Percent = min(100, max(0, 100*covered/whole))
	}
	if thisRun > 0 && p.records > 0 && p.rate > 0 {
		// records still to come at this run's records-per-millisecond density
		info.ETASeconds = leftRun * float64(p.records) / thisRun / p.rate
	}
	info.Message = fmt.Sprintf("%d records, %.1f%% of the time range", info.Records, info.Percent)
	return info
}
