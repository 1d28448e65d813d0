package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"
)

var (
	symbolRe      = regexp.MustCompile(`^[A-Z0-9]{2,20}$`)
	typeRe        = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	queueIDRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)
	wfQueueIDRe   = regexp.MustCompile(`^wf-([a-z0-9]{2,20})-([a-z][a-z0-9_]{0,63})-(\d{8})-([0-9a-f]{6})$`)
	topicRe       = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
	collectionRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,255}$`)
	telemetryIDRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?)__([0-9a-f]{6})$`)
	suffixRe      = regexp.MustCompile(`^[0-9a-f]{6}$`)
)

// ValidateSymbol checks an exchange symbol such as BTCUSDT (upper case letters
// and digits, 2 to 20 characters).
func ValidateSymbol(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	if !symbolRe.MatchString(s) {
		return fmt.Errorf("%q is not a symbol (want 2-20 upper-case letters and digits, e.g. BTCUSDT)", s)
	}
	return nil
}

// ValidateSymbols checks a comma-separated list of one or more distinct
// symbols, as SYMBOL carries for the steps that span several (graph, train)
// and for a loader of several symbols.
func ValidateSymbols(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	seen := map[string]bool{}
	for sym := range strings.SplitSeq(s, ",") {
		if err := ValidateSymbol(sym); err != nil {
			return err
		}
		if seen[sym] {
			return fmt.Errorf("%s is listed twice", sym)
		}
		seen[sym] = true
	}
	return nil
}

// ValidateType checks a data type such as api_candles_5m (lower case letters,
// digits and underscores, starting with a letter).
func ValidateType(t string) error {
	if t == "" {
		return errors.New("is required")
	}
	if !typeRe.MatchString(t) {
		return fmt.Errorf("%q is not a data type (want lower-case letters, digits and underscores, e.g. api_candles_5m)", t)
	}
	return nil
}

// ValidateTopic checks a Kafka topic name.
func ValidateTopic(t string) error {
	if !topicRe.MatchString(t) || t == "." || t == ".." {
		return fmt.Errorf("%q is not a Kafka topic name (want 1-249 of [A-Za-z0-9._-])", t)
	}
	return nil
}

// ValidateCollection checks an ArangoDB collection name (the embedded store
// uses the same rule so that data moves between them unchanged).
func ValidateCollection(c string) error {
	if !collectionRe.MatchString(c) {
		return fmt.Errorf("%q is not a collection name (want a letter then up to 255 of [A-Za-z0-9_-])", c)
	}
	return nil
}

// ValidateTelemetryID checks a telemetry id of the form <service>__<6 hex>.
func ValidateTelemetryID(id string) error {
	if !telemetryIDRe.MatchString(id) {
		return fmt.Errorf("%q is not a telemetry id (want <service>__<6 hex>, e.g. loader-producer__a1b2c3)", id)
	}
	return nil
}

func validateQueueID(name, id string) error {
	if id == "" {
		return &FieldError{Field: name, Problem: "is required"}
	}
	if !queueIDRe.MatchString(id) {
		return &FieldError{Field: name, Problem: fmt.Sprintf("%q is not a queue id (want up to 200 of [A-Za-z0-9._-], e.g. wf-btcusdt-api_candles_5m-20240801-a1b2c3)", id)}
	}
	return nil
}

// NewSuffix returns six random lower-case hex digits read from r (use
// crypto/rand.Reader in production, a seeded source in tests).
func NewSuffix(r io.Reader) (string, error) {
	var b [3]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("read random suffix: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// QueueID is a parsed workflow queue id: wf-<symbol>-<type>-<yyyymmdd>-<suffix>.
type QueueID struct {
	Symbol string    // upper case, as on the exchange
	Type   string    // e.g. api_candles_5m
	Day    time.Time // UTC midnight of the id's day (queue-manager: the day the workflow was created; collections take the data's day, DataDay)
	Suffix string    // six lower-case hex digits that make the id unique
}

// String formats the id: wf-btcusdt-api_candles_5m-20240801-a1b2c3.
func (q QueueID) String() string {
	return "wf-" + strings.ToLower(q.Symbol) + "-" + q.Type + "-" + q.Day.UTC().Format("20060102") + "-" + q.Suffix
}

// NewQueueID validates the parts and returns the formatted queue id.
func NewQueueID(symbol, typ string, day time.Time, suffix string) (string, error) {
	if err := ValidateSymbol(symbol); err != nil {
		return "", fmt.Errorf("symbol %w", err)
	}
	if err := ValidateType(typ); err != nil {
		return "", fmt.Errorf("type %w", err)
	}
	if !suffixRe.MatchString(suffix) {
		return "", fmt.Errorf("suffix %q is not six lower-case hex digits", suffix)
	}
	return QueueID{Symbol: symbol, Type: typ, Day: day, Suffix: suffix}.String(), nil
}

// ParseQueueID splits a workflow queue id into its parts.
func ParseQueueID(id string) (QueueID, error) {
	m := wfQueueIDRe.FindStringSubmatch(id)
	if m == nil {
		return QueueID{}, fmt.Errorf("%q is not a workflow queue id (want wf-<symbol>-<type>-<yyyymmdd>-<6 hex>)", id)
	}
	day, err := time.Parse("20060102", m[3])
	if err != nil {
		return QueueID{}, fmt.Errorf("queue id %q: bad date %q", id, m[3])
	}
	return QueueID{Symbol: strings.ToUpper(m[1]), Type: m[2], Day: day, Suffix: m[4]}, nil
}

// DataTopic is the Kafka topic that carries a task's records.
func DataTopic(queueID string) string { return queueID + "-data" }

// DLQTopic is where messages from topic that could not be processed go.
func DLQTopic(topic string) string { return topic + "-dlq" }

// CollectionName is the store collection of a task's records:
// <symbol>_<type>_<yyyy_mm_dd>, all lower case, where day is the first day
// of the data (DataDay), never the day a workflow was created: time range
// 2024-08-01:2024-09-01 of BTCUSDT 5m candles is btcusdt_api_candles_5m_2024_08_01.
// Market data is shared: every workflow whose range starts on that day writes
// the same collection (keys are deterministic, so a re-load overwrites), and
// every reader takes its own symbol and range from it with ordered range
// reads.
func CollectionName(symbol, typ string, day time.Time) string {
	return strings.ToLower(symbol) + "_" + typ + "_" + day.UTC().Format("2006_01_02")
}

// DataDay is the first day of a task's data: the UTC day its time range
// starts, or the day of created when it has none (a live stream starts when
// its workflow is created). It returns an error when timeRange is set and
// does not parse.
func DataDay(timeRange string, created time.Time) (time.Time, error) {
	if timeRange == "" {
		return created.UTC().Truncate(24 * time.Hour), nil
	}
	r, err := ParseTimeRange(timeRange)
	if err != nil {
		return time.Time{}, err
	}
	return r.Start.Truncate(24 * time.Hour), nil
}

// GraphName names a workflow's graph: <symbol>_graph_<yyyy_mm_dd>_<suffix>,
// with the workflow's first symbol, the first day of its data and its
// queue-id suffix. The suffix makes a graph (and its collections
// <name>_nodes and <name>_edges) belong to one workflow: two workflows never
// write the same graph, whatever their symbols and ranges.
func GraphName(symbol string, day time.Time, suffix string) string {
	return CollectionName(symbol, "graph", day) + "_" + suffix
}

// TelemetryID names one worker of a task in events: <service>__<suffix>.
func TelemetryID(service, suffix string) string { return service + "__" + suffix }

// TelemetryService returns the service part of a telemetry id.
func TelemetryService(id string) string {
	if m := telemetryIDRe.FindStringSubmatch(id); m != nil {
		return m[1]
	}
	return ""
}

const maxKubeName = 63

// KubeName derives a DNS-1123 label (lower-case alphanumerics and '-', at most
// 63 characters, starting and ending with an alphanumeric) from the given
// parts joined by '-'. Characters that are not allowed become '-'. Whenever
// the result differs from the joined input (a character was replaced or the
// name was cut) a hash of the input is appended, so two different inputs never
// map to the same name.
func KubeName(parts ...string) string {
	in := strings.Join(parts, "-")
	var b strings.Builder
	b.Grow(len(in))
	dash := false
	for _, r := range strings.ToLower(in) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == in && len(out) <= maxKubeName && out != "" {
		return out
	}
	sum := sha256.Sum256([]byte(in))
	h := hex.EncodeToString(sum[:])[:8]
	if max := maxKubeName - len(h) - 1; len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	if out == "" {
		return "x-" + h
	}
	return out + "-" + h
}

var labelValueRe = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)

// IsLabelValue reports whether s can be a Kubernetes label value as it is.
// Where it cannot, keep it in an annotation instead.
func IsLabelValue(s string) bool { return len(s) <= 63 && labelValueRe.MatchString(s) }

// TimeRange is a half-open interval [Start, End) in UTC.
type TimeRange struct {
	Start, End time.Time
}

// String formats r the way ParseTimeRange reads it: whole days as
// YYYY-MM-DD:YYYY-MM-DD, anything else as RFC 3339 start/end.
func (r TimeRange) String() string {
	if isMidnight(r.Start) && isMidnight(r.End) {
		return r.Start.UTC().Format(time.DateOnly) + ":" + r.End.UTC().Format(time.DateOnly)
	}
	return r.Start.UTC().Format(time.RFC3339Nano) + "/" + r.End.UTC().Format(time.RFC3339Nano)
}

func isMidnight(t time.Time) bool { return t.UTC().Truncate(24 * time.Hour).Equal(t) }

// TimeRangeForms names the time range's accepted forms, with an example
// of each: what every error of ParseTimeRange ends with.
const TimeRangeForms = "want START:END as dates, end day excluded (2024-08-01:2024-09-01), " +
	"or START/END as RFC 3339 times (2024-08-01T00:00:00Z/2024-08-01T12:00:00Z)"

// ParseTimeRange reads YYYY-MM-DD:YYYY-MM-DD (end day exclusive) or two RFC 3339
// instants separated by '/'. The end must be after the start. Its errors
// name the part that is wrong and end with TimeRangeForms.
func ParseTimeRange(s string) (TimeRange, error) {
	r, err := parseTimeRange(s)
	if err != nil {
		return TimeRange{}, fmt.Errorf("%w; %s", err, TimeRangeForms)
	}
	return r, nil
}

func parseTimeRange(s string) (TimeRange, error) {
	var r TimeRange
	var err error
	switch {
	case strings.Contains(s, "/"):
		a, b, _ := strings.Cut(s, "/")
		if isDate(a) && isDate(b) {
			return TimeRange{}, fmt.Errorf("%q: two dates are separated by ':' (%s:%s)", s, a, b)
		}
		if r.Start, err = time.Parse(time.RFC3339Nano, a); err != nil {
			return TimeRange{}, fmt.Errorf("start %q is not an RFC 3339 time", a)
		}
		if r.End, err = time.Parse(time.RFC3339Nano, b); err != nil {
			return TimeRange{}, fmt.Errorf("end %q is not an RFC 3339 time", b)
		}
	case len(s) == 21 && s[10] == ':':
		if r.Start, err = time.Parse(time.DateOnly, s[:10]); err != nil {
			return TimeRange{}, fmt.Errorf("start %q is not a date YYYY-MM-DD", s[:10])
		}
		if r.End, err = time.Parse(time.DateOnly, s[11:]); err != nil {
			return TimeRange{}, fmt.Errorf("end %q is not a date YYYY-MM-DD", s[11:])
		}
	default:
		return TimeRange{}, fmt.Errorf("%q is not a time range", s)
	}
	r.Start, r.End = r.Start.UTC(), r.End.UTC()
	if !r.End.After(r.Start) {
		return TimeRange{}, fmt.Errorf("%q ends before it starts", s)
	}
	return r, nil
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Timestamp converts t to the protocol's timestamp: Unix seconds with
// millisecond precision.
func Timestamp(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// TimeOf converts a protocol timestamp back to a time, rounded to the millisecond.
func TimeOf(ts float64) time.Time {
	return time.UnixMilli(int64(math.Round(ts * 1000))).UTC()
}
