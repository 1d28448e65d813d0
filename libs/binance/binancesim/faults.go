package binancesim

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// faults holds the pending injected faults. Injected faults apply to every request (REST and archive) before weight
// accounting, in this order: dropped connection, 5xx, 429, injected ban (418), latency. A request that gets an
// injected error is not charged any weight.
type faults struct {
	drop        int
	fail5xx     int
	status5xx   int
	fail429     int
	retryAfter  time.Duration
	bannedUntil time.Time
	slow        int
	latency     time.Duration
}

// Fail429 makes the next n requests answer 429 with Retry-After set to retryAfter (rounded up to whole seconds) and
// Binance's -1003 body.
func (s *Sim) Fail429(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.fail429, s.faults.retryAfter = n, retryAfter
}

// Ban makes every REST request answer 418 with Retry-After for d from now (the injected clock), as an IP ban would.
// Archive requests are not affected, as data.binance.vision is a different host.
func (s *Sim) Ban(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.bannedUntil = s.opts.Clock().Add(d)
}

// Fail5xx makes the next n requests answer with status (500 when status is not a 5xx code).
func (s *Sim) Fail5xx(n, status int) {
	if status < 500 || status > 599 {
		status = http.StatusInternalServerError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.fail5xx, s.faults.status5xx = n, status
}

// Slow delays the next n responses by latency, using Options.Sleep; a client that gives up first sees a timeout.
func (s *Sim) Slow(n int, latency time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.slow, s.faults.latency = n, latency
}

// Drop closes the connection of the next n requests without writing a response.
func (s *Sim) Drop(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.drop = n
}

// ClearFaults cancels every pending injected fault, including an injected ban.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faults{}
}

// applyFaults consumes at most one pending fault of each kind for this request and reports whether the request
// should still be served normally.
func (s *Sim) applyFaults(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	f := &s.faults
	switch {
	case f.drop > 0:
		f.drop--
		s.stats.Dropped++
		s.mu.Unlock()
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler) // the server closes the connection without a response
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		_ = conn.Close() // the point is to drop it; a close error changes nothing for the client
		return false
	case f.fail5xx > 0:
		f.fail5xx--
		s.stats.Injected5xx++
		status := f.status5xx
		s.mu.Unlock()
		writeError(w, status, -1001, "Internal error; unable to process your request. Please try again.")
		return false
	case f.fail429 > 0:
		f.fail429--
		s.stats.Injected429++
		retry := f.retryAfter
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, -1003, "Too many requests; injected by the simulator.")
		return false
	}
	now := s.opts.Clock()
	if now.Before(f.bannedUntil) && strings.HasPrefix(r.URL.Path, "/api/") {
		until := f.bannedUntil
		s.stats.Served418++
		s.mu.Unlock()
		writeBan(w, now, until)
		return false
	}
	var latency time.Duration
	if f.slow > 0 {
		f.slow--
		s.stats.Slowed++
		latency = f.latency
	}
	s.mu.Unlock()
	if latency > 0 {
		if err := s.opts.Sleep(r.Context(), latency); err != nil {
			return false // the client is gone; nothing to answer
		}
	}
	return true
}
