package service

import (
	"net"
	"net/http"
	"time"
)

// newServer returns the HTTP server of a service: every request has read,
// write and idle timeouts (a handler that streams lifts its own with
// http.ResponseController), so a slow or silent client cannot hold a
// connection and its goroutine for ever.
func newServer(h http.Handler, c *Common) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, c.ReadTimeout),
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
	}
}

// serveMetrics serves /metrics on METRICS_ADDR when it is set (nil server
// otherwise): a listener Prometheus reaches without the API's tokens.
func serveMetrics(rt *Runtime, c *Common) (*http.Server, error) {
	if c.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.MetricsAddr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(rt))
	srv := newServer(mux, c)
	go func() { _ = srv.Serve(ln) }()
	rt.metricsAddr.Store(ln.Addr())
	rt.Log.Info().Str("addr", ln.Addr().String()).Msg("metrics listening")
	return srv, nil
}

// MetricsAddr is the /metrics listener's address when METRICS_ADDR is set
// (nil otherwise, and before it listens).
func (rt *Runtime) MetricsAddr() net.Addr {
	a, _ := rt.metricsAddr.Load().(net.Addr)
	return a
}
