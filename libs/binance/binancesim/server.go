package binancesim

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Sim. Zero fields take the documented defaults.
type Options struct {
	// Market configures the generated market; the zero value is DefaultMarketConfig(0).
	Market MarketConfig
	// Clock returns the simulator's "now": no trade or candle after it exists, archives of periods not fully before
	// it are 404, and weight windows follow it. Default time.Now.
	Clock func() time.Time
	// WeightLimit is the REQUEST_WEIGHT budget per client IP per clock minute. Default 6000, as on Binance.
	WeightLimit int
	// BanAfter429 is how many 429s one IP may receive within one weight window; the next over-budget request gets a
	// 418 and bans the IP for BanDuration. Default 10.
	BanAfter429 int
	// BanDuration is the length of an automatic IP ban. Default 2 minutes (Binance's first step).
	BanDuration time.Duration
	// Replay lists recorded archive CSV files served byte for byte inside the monthly kline zips.
	Replay []ReplayFile
	// Sleep waits d or until ctx is done; it implements injected latency. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// WS configures the WebSocket streams (/stream, /ws).
	WS WSOptions
}

// Stats is the simulator's own accounting, for tests to assert on.
type Stats struct {
	MaxWeightUsed int // highest X-MBX-USED-WEIGHT-1M reached by any IP in any window, rejected requests included
	Served429     int // 429 responses for exceeding the weight budget
	Served418     int // 418 responses for a ban (automatic or injected)
	Injected429   int // 429 responses from fault injection
	Injected5xx   int
	Slowed        int            // responses delayed by injected latency
	Dropped       int            // connections closed without a response
	Requests      map[string]int // requests by path ("/api/v3/klines", "archive", ...)
	// EarlyRetries counts REST requests from an IP that arrived before the Retry-After of a 429 or 418 the simulator
	// had sent it was over: a client that obeys Binance's rules never makes one.
	EarlyRetries int
	WS           WSStats // the WebSocket side
}

type ipState struct {
	window      int64 // start of the current minute window, epoch ms
	used        int
	served429   int
	bannedUntil time.Time
}

// Sim is a Binance-compatible REST and archive server. Create it with New; it is safe for concurrent use.
type Sim struct {
	market *Market
	opts   Options
	mu     sync.Mutex
	ips    map[string]*ipState
	stats  Stats
	faults faults
	arch   archiveCache
	retry  retryState
	ws     *wsHub
}

// New returns a simulator. It panics if opts.Market is invalid (see NewMarket), like a test helper would; use
// NewMarket first to get the error.
func New(opts Options) *Sim {
	m, err := NewMarket(opts.Market)
	if err != nil {
		panic(fmt.Sprintf("binancesim: %v", err))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.WeightLimit <= 0 {
		opts.WeightLimit = 6000
	}
	if opts.BanAfter429 <= 0 {
		opts.BanAfter429 = 10
	}
	if opts.BanDuration <= 0 {
		opts.BanDuration = 2 * time.Minute
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	s := &Sim{market: m, opts: opts, ips: make(map[string]*ipState), stats: Stats{Requests: map[string]int{}}}
	s.retry.notBefore = map[string]time.Time{}
	s.ws = newWSHub(s)
	return s
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Market returns the market the simulator serves, so tests can compute the exact expected data.
func (s *Sim) Market() *Market { return s.market }

// Stats returns a copy of the simulator's accounting.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = make(map[string]int, len(s.stats.Requests))
	for k, v := range s.stats.Requests {
		st.Requests[k] = v
	}
	st.WS = s.ws.statsCopy()
	return st
}

// Start serves the simulator on 127.0.0.1 on a free port and returns its base URL and a function that stops it.
func (s *Sim) Start() (baseURL string, close func()) {
	srv := httptest.NewServer(s.Handler())
	return srv.URL, func() {
		s.ws.closeAll() // hijacked WebSocket connections outlive srv.Close
		srv.Close()
	}
}

// Handler returns the HTTP handler: /api/v3/{ping,time,exchangeInfo,klines,uiKlines,aggTrades,trades,depth,avgPrice,
// ticker/price,ticker/bookTicker,ticker/24hr}, /data/spot/... and the
// WebSocket streams /stream and /ws/<stream>.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// weights are the REQUEST_WEIGHT costs documented for the spot API.
var weights = map[string]int{
	"/api/v3/ping": 1, "/api/v3/time": 1, "/api/v3/exchangeInfo": 20, "/api/v3/klines": 2, "/api/v3/aggTrades": 4,
	"/api/v3/uiKlines": 2, "/api/v3/trades": 25, "/api/v3/avgPrice": 2,
	// By the number of symbols asked for: see tickerWeight.
	"/api/v3/ticker/price": 0, "/api/v3/ticker/bookTicker": 0, "/api/v3/ticker/24hr": 0,
}

func depthWeight(limit int) int {
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

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == "/stream" || path == "/ws" || strings.HasPrefix(path, "/ws/") {
		s.serveWS(w, r)
		return
	}
	endpoint := path
	if strings.HasPrefix(path, "/data/") {
		endpoint = "archive"
	} else if _, known := weights[path]; !known && path != "/api/v3/depth" {
		endpoint = "other" // arbitrary paths must not grow the map
	}
	s.mu.Lock()
	s.stats.Requests[endpoint]++
	s.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, -1000, "Only GET is supported.")
		return
	}
	if endpoint != "archive" {
		w = s.watchRetryAfter(w, clientIP(r))
		// Every REST response carries the caller's current usage, injected faults included; charge updates it.
		w.Header().Set("X-MBX-USED-WEIGHT-1M", strconv.Itoa(s.usedWeight(clientIP(r))))
	}
	if !s.applyFaults(w, r) {
		return
	}
	if endpoint == "archive" {
		s.serveArchive(w, r)
		return
	}
	weight, ok := weights[path]
	switch path {
	case "/api/v3/depth":
		weight, ok = depthWeight(atoiOr(r.URL.Query().Get("limit"), 100)), true
	case "/api/v3/ticker/price", "/api/v3/ticker/bookTicker", "/api/v3/ticker/24hr":
		weight = tickerWeight(path, r.URL.Query())
	}
	if !ok {
		writeError(w, http.StatusNotFound, -1000, "Unknown endpoint.")
		return
	}
	if !s.charge(w, clientIP(r), weight) {
		return
	}
	q := r.URL.Query()
	unit, e := parseTimeUnit(r)
	if e == nil {
		e = checkParams(path, q)
	}
	if e != nil {
		fail(w, e)
		return
	}
	switch path {
	case "/api/v3/ping":
		writeJSON(w, []byte("{}"))
	case "/api/v3/time":
		writeJSON(w, append(unit.instant([]byte(`{"serverTime":`), s.now()), '}'))
	case "/api/v3/exchangeInfo":
		s.exchangeInfo(w, q, unit)
	case "/api/v3/klines", "/api/v3/uiKlines":
		s.klines(w, q, unit)
	case "/api/v3/trades":
		s.recentTrades(w, q, unit)
	case "/api/v3/avgPrice":
		s.avgPrice(w, q, unit)
	case "/api/v3/ticker/price", "/api/v3/ticker/bookTicker", "/api/v3/ticker/24hr":
		s.tickers(w, path, q, unit)
	case "/api/v3/aggTrades":
		s.aggTrades(w, q, unit)
	case "/api/v3/depth":
		s.depth(w, q)
	}
}

func (s *Sim) now() int64 { return s.opts.Clock().UnixMilli() }

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// usedWeight returns the weight ip has used in the current window.
func (s *Sim) usedWeight(ip string) int {
	window := s.opts.Clock().Truncate(time.Minute).UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.ips[ip]; st != nil && st.window == window {
		return st.used
	}
	return 0
}

// charge adds weight to the caller's minute window and writes the X-MBX-USED-WEIGHT-1M header. Rejected requests
// count too (as on Binance). Over the budget it writes a 429 with Retry-After up to the window's end; after
// BanAfter429 such 429s in one window the IP is banned for BanDuration and gets 418s. It reports whether the request
// may proceed.
func (s *Sim) charge(w http.ResponseWriter, ip string, weight int) bool {
	now := s.opts.Clock()
	window := now.Truncate(time.Minute)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ips[ip]
	if st == nil {
		st = &ipState{}
		s.ips[ip] = st
	}
	if now.Before(st.bannedUntil) {
		s.stats.Served418++
		writeBan(w, now, st.bannedUntil)
		return false
	}
	if st.window != window.UnixMilli() {
		st.window, st.used, st.served429 = window.UnixMilli(), 0, 0
	}
	st.used += weight
	s.stats.MaxWeightUsed = max(s.stats.MaxWeightUsed, st.used)
	w.Header().Set("X-MBX-USED-WEIGHT-1M", strconv.Itoa(st.used))
	if st.used <= s.opts.WeightLimit {
		return true
	}
	if st.served429 >= s.opts.BanAfter429 {
		st.bannedUntil = now.Add(s.opts.BanDuration)
		s.stats.Served418++
		writeBan(w, now, st.bannedUntil)
		return false
	}
	st.served429++
	s.stats.Served429++
	retry := window.Add(time.Minute).Sub(now)
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	writeError(w, http.StatusTooManyRequests, -1003,
		fmt.Sprintf("Too much request weight used; current limit is %d request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.", s.opts.WeightLimit))
	return false
}

func writeBan(w http.ResponseWriter, now, until time.Time) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(until.Sub(now).Seconds()))))
	writeError(w, http.StatusTeapot, -1003, fmt.Sprintf(
		"Way too much request weight used; IP banned until %d. Please use WebSocket Streams for live updates to avoid bans.",
		until.UnixMilli()))
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(body) // a client that went away is not the server's error
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"code":%d,"msg":%q}`, code, msg)
}

func atoiOr(v string, def int) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

// watchRetryAfter counts a request that arrives before the Retry-After sent to its IP is over, and returns a writer
// that remembers the Retry-After of a 429 or 418 it sends. It has a lock of its own: responses are written while
// s.mu is held.
func (s *Sim) watchRetryAfter(w http.ResponseWriter, ip string) http.ResponseWriter {
	s.retry.mu.Lock()
	early := s.opts.Clock().Before(s.retry.notBefore[ip])
	s.retry.mu.Unlock()
	if early {
		s.mu.Lock()
		s.stats.EarlyRetries++
		s.mu.Unlock()
	}
	return &retryWatch{ResponseWriter: w, s: s, ip: ip}
}

// retryState is when each IP may ask again, from the last Retry-After sent to it.
type retryState struct {
	mu        sync.Mutex
	notBefore map[string]time.Time
}

type retryWatch struct {
	http.ResponseWriter
	s  *Sim
	ip string
}

func (rw *retryWatch) WriteHeader(code int) {
	if code == http.StatusTooManyRequests || code == http.StatusTeapot {
		if secs, err := strconv.Atoi(rw.Header().Get("Retry-After")); err == nil {
			r := &rw.s.retry
			r.mu.Lock()
			if until := rw.s.opts.Clock().Add(time.Duration(secs) * time.Second); until.After(r.notBefore[rw.ip]) {
				r.notBefore[rw.ip] = until
			}
			r.mu.Unlock()
		}
	}
	rw.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (the Drop fault).
func (rw *retryWatch) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// Hijack passes the connection through for the Drop fault.
func (rw *retryWatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rw.ResponseWriter).Hijack()
}
