package objstore

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count object-store operations and bytes per backend. Create them
// once per registry with NewMetrics and wrap stores with Instrument.
type Metrics struct {
	ops      *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the object-store metrics with reg; a nil reg keeps
// them unregistered. Registering twice with the same registry reuses the
// first.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_objstore_operations_total",
			Help: "Object-store calls by backend, operation and result (ok, not_found, error).",
		}, []string{"backend", "op", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamforge_objstore_bytes_total",
			Help: "Object bytes written by successful puts (direction=write) and read from gets (direction=read), by backend.",
		}, []string{"backend", "direction"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamforge_objstore_operation_duration_seconds",
			Help:    "Time for one call (for get: until the object is open), by backend and operation.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"backend", "op"}),
	}
	if reg == nil {
		return m
	}
	m.ops = register(reg, m.ops)
	m.bytes = register(reg, m.bytes)
	m.duration = register(reg, m.duration)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: two different metrics with one name
	}
	return c
}

// Instrument returns s counting its calls in m under the label
// backend="<backend>" (Config.Backend gives it). A nil m returns s as it is.
func Instrument(s Store, backend string, m *Metrics) Store {
	if m == nil {
		return s
	}
	return &instrumented{Store: s, backend: backend, m: m}
}

type instrumented struct {
	Store
	backend string
	m       *Metrics
}

func (i *instrumented) observe(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, ErrNotFound):
		result = "not_found"
	case err != nil:
		result = "error"
	}
	i.m.ops.WithLabelValues(i.backend, op, result).Inc()
	i.m.duration.WithLabelValues(i.backend, op).Observe(time.Since(start).Seconds())
}

func (i *instrumented) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	start := time.Now()
	if size >= 0 {
		// r goes through untouched: minio-go uses io.ReaderAt for parallel
		// parts and io.Seeker to resend a part, which a wrapper would hide.
		err := i.Store.Put(ctx, key, r, size, contentType)
		i.observe("put", start, err)
		if err == nil {
			i.m.bytes.WithLabelValues(i.backend, "write").Add(float64(size))
		}
		return err
	}
	cr := &countingReader{r: r}
	err := i.Store.Put(ctx, key, cr, size, contentType)
	i.observe("put", start, err)
	if err == nil {
		i.m.bytes.WithLabelValues(i.backend, "write").Add(float64(cr.n.Load()))
	}
	return err
}

func (i *instrumented) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := i.Store.Get(ctx, key)
	i.observe("get", start, err)
	if err != nil {
		return nil, err
	}
	return &countingReadCloser{ReadCloser: rc, c: i.m.bytes.WithLabelValues(i.backend, "read")}, nil
}

func (i *instrumented) Stat(ctx context.Context, key string) (Object, error) {
	start := time.Now()
	o, err := i.Store.Stat(ctx, key)
	i.observe("stat", start, err)
	return o, err
}

func (i *instrumented) List(ctx context.Context, prefix string) ([]Object, error) {
	start := time.Now()
	objs, err := i.Store.List(ctx, prefix)
	i.observe("list", start, err)
	return objs, err
}

func (i *instrumented) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := i.Store.Delete(ctx, key)
	i.observe("delete", start, err)
	return err
}

// countingReader counts what Put reads; atomic because an S3 multipart
// upload may read from another goroutine.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingReadCloser struct {
	io.ReadCloser
	c prometheus.Counter
}

func (c *countingReadCloser) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if n > 0 {
		c.c.Add(float64(n))
	}
	return n, err
}
