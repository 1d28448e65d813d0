package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/streamforge/streamforge/services/queue-manager/internal/auth"
)

// Limits bound what one client (a token's subject; with AUTH_MODE=none, an
// address) may cost the API.
type Limits struct {
	Rate    float64 `envconfig:"API_RATE_LIMIT" default:"20" desc:"requests per second one client (token subject, else address) may make to /api/ on average (429 with Retry-After beyond); 0: no limit"`
	Burst   int     `envconfig:"API_RATE_BURST" default:"40" desc:"requests one client may make at once above API_RATE_LIMIT"`
	Streams int     `envconfig:"API_MAX_STREAMS" default:"8" desc:"event streams (/events) one client may hold open at once (429 beyond); 0: no limit"`
}

// maxClients bounds the clients remembered: beyond it idle ones are
// forgotten, and while none is idle a new client gets 429.
const maxClients = 10000

// client is what one caller uses now.
type client struct {
	lim     *rate.Limiter
	streams int
}

// clients keeps the callers' rate limiters and open streams.
type clients struct {
	mu sync.Mutex
	m  map[string]*client
}

// clientKey names the caller of r for the limits.
func clientKey(r *http.Request) string {
	if p, ok := auth.FromContext(r.Context()); ok && !p.Anonymous {
		return "sub:" + p.Subject
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}

// get returns the caller's entry, nil when too many callers are busy.
func (cs *clients) get(key string, l Limits, now time.Time) *client {
	if c, ok := cs.m[key]; ok {
		return c
	}
	if cs.m == nil {
		cs.m = map[string]*client{}
	}
	if len(cs.m) >= maxClients {
		for k, c := range cs.m { // forget the idle: they lose nothing
			if c.streams == 0 && (c.lim == nil || c.lim.TokensAt(now) >= float64(c.lim.Burst())) {
				delete(cs.m, k)
			}
		}
		if len(cs.m) >= maxClients {
			return nil
		}
	}
	c := &client{}
	if l.Rate > 0 {
		c.lim = rate.NewLimiter(rate.Limit(l.Rate), max(l.Burst, 1))
	}
	cs.m[key] = c
	return c
}

// rateLimit answers 429 with Retry-After to a caller over its rate.
func (a *API) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.limits.Rate <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		now := a.now()
		a.clients.mu.Lock()
		c := a.clients.get(clientKey(r), a.limits, now)
		var wait time.Duration
		if c == nil {
			wait = time.Second
		} else if res := c.lim.ReserveN(now, 1); res.DelayFrom(now) > 0 {
			wait = res.DelayFrom(now)
			res.CancelAt(now)
		}
		a.clients.mu.Unlock()
		if wait > 0 {
			tooMany(w, wait, "more than the "+strconv.FormatFloat(a.limits.Rate, 'f', -1, 64)+" requests per second a client may make")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// openStream counts an event stream of r's caller; release ends it. ok is
// false when the caller holds API_MAX_STREAMS already.
func (a *API) openStream(r *http.Request) (release func(), ok bool) {
	if a.limits.Streams <= 0 {
		return func() {}, true
	}
	key := clientKey(r)
	a.clients.mu.Lock()
	defer a.clients.mu.Unlock()
	c := a.clients.get(key, a.limits, a.now())
	if c == nil || c.streams >= a.limits.Streams {
		return nil, false
	}
	c.streams++
	return func() {
		a.clients.mu.Lock()
		defer a.clients.mu.Unlock()
		c.streams--
	}, true
}

// tooMany answers 429 with the whole seconds to wait.
func tooMany(w http.ResponseWriter, wait time.Duration, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	problem(w, http.StatusTooManyRequests, "too many requests", detail, "")
}
