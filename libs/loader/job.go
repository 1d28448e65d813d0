package loader

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/protocol"
)

// Job is a validated task: what one loader run fetches and where it goes.
type Job struct {
	QueueID string
	Symbols []string // upper case, unique, in the order given
	Type    DataType
	// Start and End bound the records' times, [Start, End). For a live job
	// without TIME_RANGE, End is zero: it runs until stopped.
	Start, End time.Time
	Topic      string
	// Clamped is set when a historical range reached into the future and was
	// cut at the time of the run.
	Clamped bool
}

// ParseJob checks a task before anything is downloaded. Errors name the
// environment variable (or start-command field) at fault, so the loader
// can report them on queue-events and exit. allowed restricts the kinds a
// service accepts; now is the time of the run.
func ParseJob(t protocol.Task, allowed []Kind, now time.Time) (Job, error) {
	j := Job{QueueID: t.QueueID, Topic: t.KafkaTopic}
	if j.Topic == "" {
		j.Topic = protocol.DataTopic(t.QueueID)
	} else if err := protocol.ValidateTopic(j.Topic); err != nil {
		return Job{}, fmt.Errorf("KAFKA_TOPIC: %w", err)
	}
	var err error
	if j.Symbols, err = parseSymbols(t.Symbol); err != nil {
		return Job{}, fmt.Errorf("SYMBOL: %w", err)
	}
	if t.Type == "" {
		return Job{}, errors.New("TYPE: is required")
	}
	if j.Type, err = ParseDataType(t.Type); err != nil {
		return Job{}, fmt.Errorf("TYPE: %w", err)
	}
	if !slices.Contains(allowed, j.Type.Kind) {
		names := make([]string, len(allowed))
		for i, k := range allowed {
			names[i] = k.String()
		}
		return Job{}, fmt.Errorf("TYPE: %s is not loaded by this service (it loads %s)", t.Type, strings.Join(names, ", "))
	}
	now = now.UTC()
	if t.TimeRange == "" {
		if !j.Type.Kind.Live() {
			return Job{}, fmt.Errorf("TIME_RANGE: is required for %s", j.Type)
		}
		return j, nil
	}
	r, err := protocol.ParseTimeRange(t.TimeRange)
	if err != nil {
		return Job{}, fmt.Errorf("TIME_RANGE: %w", err)
	}
	j.Start, j.End = r.Start, r.End
	if j.Type.Kind.Live() {
		if !j.End.After(now) {
			return Job{}, fmt.Errorf("TIME_RANGE: %s ends in the past; a live stream needs an end after now (%s) or no TIME_RANGE",
				t.TimeRange, now.Format(time.RFC3339))
		}
		return j, nil
	}
	if !j.Start.Before(now) {
		return Job{}, fmt.Errorf("TIME_RANGE: %s starts in the future (now is %s)", t.TimeRange, now.Format(time.RFC3339))
	}
	j.ClampTo(now)
	return j, nil
}

// ClampTo cuts a historical range that reaches past now (the exchange's
// clock) to what is final at now: trades up to now, candles up to the open
// time of the candle still open, which the API returns with the values it
// has so far and which a loader must not store as final. The range may end
// up empty (the day's own daily candle).
func (j *Job) ClampTo(now time.Time) {
	if j.Type.Kind.Live() || !j.End.After(now) {
		return
	}
	end := now.Truncate(time.Millisecond)
	if j.Type.Kind == APICandles {
		end = time.UnixMilli(j.Type.Interval.Floor(end.UnixMilli())).UTC()
	}
	if end.Before(j.Start) {
		end = j.Start
	}
	j.End, j.Clamped = end, true
}

// parseSymbols reads a comma-separated symbol list.
func parseSymbols(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("is required")
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		sym := strings.ToUpper(strings.TrimSpace(part))
		if err := protocol.ValidateSymbol(sym); err != nil {
			return nil, err
		}
		if !slices.Contains(out, sym) {
			out = append(out, sym)
		}
	}
	return out, nil
}
