package binance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
	"github.com/streamforge/streamforge/libs/retry"
)

// DefaultRESTURL is Binance's spot REST API.
const DefaultRESTURL = "https://api.binance.com"

// RESTURLFromEnv returns BINANCE_REST_URL, or DefaultRESTURL when it is unset
// or empty.
func RESTURLFromEnv() string {
	if v := os.Getenv("BINANCE_REST_URL"); v != "" {
		return v
	}
	return DefaultRESTURL
}

// Request weights of the endpoints (binance-spot-api-docs, rest-api.md).
const (
	weightKlines       = 2
	weightAggTrades    = 4
	weightExchangeInfo = 20
	maxPageRows        = 1000
)

// DepthWeight returns the request weight of /api/v3/depth for limit:
// 5 up to 100 levels, 25 up to 500, 50 up to 1000 and 250 up to 5000.
func DepthWeight(limit int) int {
	switch {
	case limit <= 100:
		return 5
	case limit <= 500:
		return 25
	case limit <= 1000:
		return 50
	default:
		return 250
	}
}

// APIError is the error of a REST call that did not succeed, after the last
// attempt for retryable failures.
type APIError struct {
	Endpoint string // e.g. "/api/v3/klines"
	Status   int    // HTTP status; 0 when no response arrived
	Code     int    // Binance error code from the body, 0 if none
	Msg      string // Binance message or a description of the failure
	Attempts int
	Err      error // the transport error when Status is 0
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "binance %s: ", e.Endpoint)
	if e.Status != 0 {
		fmt.Fprintf(&b, "http status %d", e.Status)
	} else {
		b.WriteString("no response")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the transport error, if any.
func (e *APIError) Unwrap() error { return e.Err }

// Client calls the Binance spot REST API within the request-weight budget and
// retries what is worth retrying: 429 and 418 after Retry-After (stopping every
// request of the client meanwhile), 5xx and transport errors with capped,
// jittered exponential backoff. It is safe for concurrent use.
type Client struct {
	base        string
	hc          *http.Client
	lim         *Limiter
	now         func() time.Time
	sleep       SleepFunc
	rand        func() float64
	maxAttempts int
	backoffMin  time.Duration
	backoffMax  time.Duration
	observe     func(RequestInfo)
	onRetry     func(RetryInfo)
}

// RequestInfo describes one HTTP attempt, for metrics and logs.
type RequestInfo struct {
	Endpoint   string
	Status     int // 0 when no answer arrived
	UsedWeight int // X-MBX-USED-WEIGHT-1M of the answer, -1 when absent
	Duration   time.Duration
	Err        error // transport error
}

// ClientOptions configures a Client. Zero values take the documented
// defaults.
type ClientOptions struct {
	// HTTPClient makes the requests; nil means one with a 30 s timeout.
	HTTPClient *http.Client
	// Now and Sleep are the clock and the wait used for backoff and the
	// limiter; nil means the real ones.
	Now   func() time.Time
	Sleep SleepFunc
	// Rand is the source of backoff jitter, returning [0, 1); nil means
	// math/rand's.
	Rand func() float64
	// MaxAttempts is how many times a request is tried. Default 6.
	MaxAttempts int
	// BackoffFirst and BackoffMax are the first and the largest backoff
	// delay. Defaults 500 ms and 30 s.
	BackoffFirst, BackoffMax time.Duration
	// Limiter is the request-weight budget; share one between clients that
	// use the same IP. Nil means a new one of DefaultWeightPerMinute on Now
	// and Sleep.
	Limiter *Limiter
	// Observer, when set, is called after every HTTP attempt.
	Observer func(RequestInfo)
	// OnRetry, when set, is called before every retry with the failure and
	// the wait (a loader logs it).
	OnRetry func(RetryInfo)
}

// NewClient returns a client for baseURL (see RESTURLFromEnv).
func NewClient(baseURL string, o ClientOptions) *Client {
	c := &Client{
		base:        strings.TrimRight(baseURL, "/"),
		hc:          o.HTTPClient,
		lim:         o.Limiter,
		now:         o.Now,
		sleep:       o.Sleep,
		rand:        o.Rand,
		maxAttempts: o.MaxAttempts,
		backoffMin:  o.BackoffFirst,
		backoffMax:  o.BackoffMax,
		observe:     o.Observer,
		onRetry:     o.OnRetry,
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = Sleep
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 6
	}
	if c.backoffMin <= 0 {
		c.backoffMin = 500 * time.Millisecond
	}
	if c.backoffMax <= 0 {
		c.backoffMax = 30 * time.Second
	}
	if c.lim == nil {
		c.lim = NewLimiter(DefaultWeightPerMinute, c.now, c.sleep)
	}
	return c
}

// Limiter returns the client's weight limiter.
func (c *Client) Limiter() *Limiter { return c.lim }

// backoff returns the jittered delay before retry number attempt (1-based):
// half the exponential delay plus a random part of the other half.
func (c *Client) backoff(attempt int) time.Duration {
	return retry.Backoff{Base: c.backoffMin, Max: c.backoffMax, Rand: c.rand}.Delay(attempt - 1)
}

// retryAfter reads Retry-After in seconds; fallback when absent or invalid.
func retryAfter(h http.Header, fallback time.Duration) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || s < 0 {
		return fallback
	}
	return time.Duration(s) * time.Second
}

// get sends GET endpoint?q and returns the body of a 200 answer.
func (c *Client) get(ctx context.Context, endpoint string, q url.Values, weight int) ([]byte, error) {
	u := c.base + endpoint
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	for attempt := 1; ; attempt++ {
		release, err := c.lim.Reserve(ctx, weight)
		if err != nil {
			return nil, fmt.Errorf("binance %s: %w", endpoint, err)
		}
		began := c.now()
		status, hdr, body, err := c.send(ctx, u)
		release()
		used := -1
		if hdr != nil {
			if w, perr := strconv.Atoi(hdr.Get("X-MBX-USED-WEIGHT-1M")); perr == nil {
				used = w
				c.lim.Observe(used, c.now())
			}
		}
		if c.observe != nil {
			c.observe(RequestInfo{Endpoint: endpoint, Status: status, UsedWeight: used, Duration: c.now().Sub(began), Err: err})
		}
		if err == nil && status == http.StatusOK {
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("binance %s: %w", endpoint, ctx.Err())
		}
		apiErr := &APIError{Endpoint: endpoint, Status: status, Attempts: attempt, Err: err}
		if err == nil {
			apiErr.Code, apiErr.Msg = parseErrorBody(body)
		}
		var wait time.Duration
		switch {
		case err != nil && unresolvable(err):
			return nil, apiErr // the host does not exist: retrying changes nothing
		case err != nil || status >= 500:
			wait = c.backoff(attempt)
		case status == http.StatusTooManyRequests:
			// Binance counts requests past the limit towards a ban: everyone waits.
			c.lim.Block(c.now().Add(retryAfter(hdr, time.Minute)))
		case status == http.StatusTeapot:
			c.lim.Block(c.now().Add(retryAfter(hdr, 2*time.Minute)))
		default:
			return nil, apiErr // other 4xx: the request itself is wrong
		}
		if attempt >= c.maxAttempts {
			return nil, apiErr
		}
		if c.onRetry != nil {
			info := RetryInfo{Endpoint: endpoint, Attempt: attempt, Status: status, Err: err, Wait: wait}
			if info.Err == nil {
				info.Err = apiErr
			}
			if wait == 0 {
				info.Wait = max(0, c.lim.BlockedUntil().Sub(c.now()))
			}
			c.onRetry(info)
		}
		if wait > 0 { // after 429/418 the limiter does the waiting, for every caller
			if err := c.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("binance %s: %w", endpoint, err)
			}
		}
	}
}

func (c *Client) send(ctx context.Context, u string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, resp.Header, nil, fmt.Errorf("read body: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

func parseErrorBody(body []byte) (int, string) {
	var e struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	if exactjson.Unmarshal(body, &e) == nil && (e.Code != 0 || e.Msg != "") {
		return e.Code, e.Msg
	}
	const maxMsg = 200
	s := strings.TrimSpace(string(body))
	if len(s) > maxMsg {
		s = s[:maxMsg] + "…"
	}
	return 0, s
}

// Klines calls fn with every kline of symbol whose open time is in
// [startMs, endMs), paginating by the last open time plus the interval. It
// returns an *APIError when a request fails for good, or fn's error
// unwrapped.
func (c *Client) Klines(ctx context.Context, symbol string, iv Interval, startMs, endMs int64, fn func(Candle) error) error {
	for start := startMs; start < endMs; {
		q := url.Values{
			"symbol": {symbol}, "interval": {iv.name}, "limit": {strconv.Itoa(maxPageRows)},
			"startTime": {strconv.FormatInt(start, 10)}, "endTime": {strconv.FormatInt(endMs-1, 10)},
		}
		body, err := c.get(ctx, "/api/v3/klines", q, weightKlines)
		if err != nil {
			return err
		}
		var rows [][]json.RawMessage
		if err := exactjson.Unmarshal(body, &rows); err != nil {
			return fmt.Errorf("binance /api/v3/klines %s: decode: %w", symbol, err)
		}
		fields := make([][]byte, 0, 12)
		last := int64(-1)
		for i, row := range rows {
			fields = fields[:0]
			for _, f := range row {
				fields = append(fields, bytes.Trim(f, `"`))
			}
			candle, err := parseKlineFields(symbol, iv, fields)
			if err != nil {
				return fmt.Errorf("binance /api/v3/klines %s: row %d: %w", symbol, i, err)
			}
			if candle.OpenTime < start || candle.OpenTime >= endMs {
				continue
			}
			if err := fn(candle); err != nil {
				return err
			}
			last = candle.OpenTime
		}
		if len(rows) < maxPageRows || last < 0 {
			return nil
		}
		start = iv.NextOpen(last)
	}
	return nil
}

// restAggTrade is one object of /api/v3/aggTrades, every member named: m
// is whether the buyer was the maker, M whether the trade was the best price
// match (see UnmarshalExact for why both must be told apart).
type restAggTrade struct {
	AggID      int64  `json:"a"`
	Price      string `json:"p"`
	Qty        string `json:"q"`
	FirstID    int64  `json:"f"`
	LastID     int64  `json:"l"`
	Time       int64  `json:"T"`
	BuyerMaker bool   `json:"m"`
	BestMatch  bool   `json:"M"`
}

// AggTrades calls fn with every aggregate trade of symbol from id fromID on,
// paginating by id, until a trade at or after endMs (not passed to fn) or the
// latest trade; endMs <= 0 means no end. The invalid rows Binance marks with
// p="0", q="0", f=-1, l=-1 are skipped. Errors are returned as by Klines.
func (c *Client) AggTrades(ctx context.Context, symbol string, fromID, endMs int64, fn func(AggTrade) error) error {
	for {
		q := url.Values{"symbol": {symbol}, "fromId": {strconv.FormatInt(fromID, 10)}, "limit": {strconv.Itoa(maxPageRows)}}
		page, err := c.aggTradesPage(ctx, symbol, q)
		if err != nil {
			return err
		}
		for _, a := range page {
			if a.AggID < fromID {
				continue
			}
			fromID = a.AggID + 1
			if a.invalid() {
				continue
			}
			if endMs > 0 && a.Time >= endMs {
				return nil
			}
			if err := fn(a); err != nil {
				return err
			}
		}
		if len(page) < maxPageRows {
			return nil
		}
	}
}

// FirstAggTradeID returns the id of the first aggregate trade of symbol at or
// after startMs and before endMs; ok is false when there is none. It takes
// one request: since 2022-12-05 startTime and endTime may be any distance
// apart (binance-spot-api-docs rest-api.md "Compressed/Aggregate trades
// list", CHANGELOG.md).
func (c *Client) FirstAggTradeID(ctx context.Context, symbol string, startMs, endMs int64) (id int64, ok bool, err error) {
	if startMs >= endMs {
		return 0, false, nil
	}
	q := url.Values{"symbol": {symbol}, "limit": {"1"},
		"startTime": {strconv.FormatInt(startMs, 10)}, "endTime": {strconv.FormatInt(endMs-1, 10)}}
	page, err := c.aggTradesPage(ctx, symbol, q)
	if err != nil || len(page) == 0 {
		return 0, false, err
	}
	return page[0].AggID, true, nil
}

func (c *Client) aggTradesPage(ctx context.Context, symbol string, q url.Values) ([]AggTrade, error) {
	body, err := c.get(ctx, "/api/v3/aggTrades", q, weightAggTrades)
	if err != nil {
		return nil, err
	}
	var rows []restAggTrade
	if err := exactjson.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("binance /api/v3/aggTrades %s: decode: %w", symbol, err)
	}
	out := make([]AggTrade, len(rows))
	for i, r := range rows {
		p, perr := strconv.ParseFloat(r.Price, 64)
		qty, qerr := strconv.ParseFloat(r.Qty, 64)
		t, terr := NormalizeMillis(r.Time)
		if err := errors.Join(perr, qerr, terr); err != nil {
			return nil, fmt.Errorf("binance /api/v3/aggTrades %s: trade %d: %w", symbol, r.AggID, err)
		}
		out[i] = AggTrade{Symbol: symbol, Time: t, AggID: r.AggID, Price: p, Qty: qty, FirstID: r.FirstID, LastID: r.LastID,
			BuyerMaker: r.BuyerMaker}
	}
	return out, nil
}

// Depth returns the order book snapshot of symbol with limit levels per side
// (up to 5000; the weight grows with limit, see DepthWeight). Time is the
// client's clock when the answer arrived: the endpoint carries no time.
func (c *Client) Depth(ctx context.Context, symbol string, limit int) (BookSnapshot, error) {
	q := url.Values{"symbol": {symbol}, "limit": {strconv.Itoa(limit)}}
	body, err := c.get(ctx, "/api/v3/depth", q, DepthWeight(limit))
	if err != nil {
		return BookSnapshot{}, err
	}
	return parseDepth(symbol, body, c.now().UnixMilli())
}

func parseDepth(symbol string, body []byte, timeMs int64) (BookSnapshot, error) {
	var d struct {
		LastUpdateID int64       `json:"lastUpdateId"`
		Bids         [][2]string `json:"bids"`
		Asks         [][2]string `json:"asks"`
	}
	if err := exactjson.Unmarshal(body, &d); err != nil {
		return BookSnapshot{}, fmt.Errorf("binance /api/v3/depth %s: decode: %w", symbol, err)
	}
	bids, err := parseLevels(d.Bids)
	if err != nil {
		return BookSnapshot{}, fmt.Errorf("binance /api/v3/depth %s: bids: %w", symbol, err)
	}
	asks, err := parseLevels(d.Asks)
	if err != nil {
		return BookSnapshot{}, fmt.Errorf("binance /api/v3/depth %s: asks: %w", symbol, err)
	}
	return BookSnapshot{Symbol: symbol, Time: timeMs, LastUpdateID: d.LastUpdateID, Bids: bids, Asks: asks}, nil
}

func parseLevels(in [][2]string) ([]Level, error) {
	out := make([]Level, len(in))
	for i, l := range in {
		p, err := strconv.ParseFloat(l[0], 64)
		if err != nil {
			return nil, fmt.Errorf("level %d price: %w", i, err)
		}
		q, err := strconv.ParseFloat(l[1], 64)
		if err != nil {
			return nil, fmt.Errorf("level %d qty: %w", i, err)
		}
		out[i] = Level{p, q}
	}
	return out, nil
}
