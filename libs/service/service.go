// Package service runs a StreamForge service: flags and --help, typed config
// from the environment (github.com/kelseyhightower/envconfig) validated at
// start and logged once with secrets masked, JSON logs (zerolog), an HTTP
// listener (chi) with /metrics, /healthz and /readyz, and one shutdown path on
// SIGINT/SIGTERM with a deadline.
package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/kelseyhightower/envconfig"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Version is the build's version, set with
// -ldflags "-X github.com/streamforge/streamforge/libs/service.Version=v1.2.3".
var Version = "dev"

// Config is what a service's config struct must provide: embed Common.
type Config interface {
	CommonConfig() *Common
}

// Options describe a service to run.
type Options struct {
	// Name is the service name, used in logs, metrics and --help.
	Name string
	// Summary is one line for --help.
	Summary string
	// Config points to the service's config struct (embedding Common); it
	// is filled from the environment before Run is called.
	Config Config
	// Flags are the service's command-line flags (may be nil).
	Flags *flag.FlagSet
	// Args are the command-line arguments without the program name.
	Args []string
	// Stdout and Stderr default to the process's.
	Stdout, Stderr io.Writer
	// Debug forces debug logging (a --debug flag).
	Debug *bool
	// DefaultHTTPAddr replaces Common's default listener when HTTP_ADDR is
	// not set (dummy-service listens on :8000).
	DefaultHTTPAddr string
}

// Runtime is what a running service gets: its logger, metrics registry, HTTP
// router (add routes before returning from setup) and readiness switch.
type Runtime struct {
	Name     string
	Log      zerolog.Logger
	Registry *prometheus.Registry
	Router   chi.Router
	ready    atomic.Bool
	check    atomic.Pointer[func() error]
	addr     atomic.Value // net.Addr
	// metricsAddr is METRICS_ADDR's listener (see MetricsAddr).
	metricsAddr atomic.Value
}

// SetReady switches /readyz between 200 and 503.
func (rt *Runtime) SetReady(ok bool) { rt.ready.Store(ok) }

// SetReadyCheck adds a check to /readyz: while the service is ready and
// check returns an error, /readyz answers 503 with the error's text (a
// dependency the service waits out, say). check must be fast and safe for
// concurrent use.
func (rt *Runtime) SetReadyCheck(check func() error) { rt.check.Store(&check) }

// Addr is the HTTP listener's address once serving (useful with port 0).
func (rt *Runtime) Addr() net.Addr {
	a, _ := rt.addr.Load().(net.Addr)
	return a
}

// ExitError makes Main exit with Code after logging Err.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Main runs a service and returns its exit code: 0 after a clean run or
// shutdown, 2 for bad flags or configuration (one line on stderr for each
// problem, naming the variable), 1 (or an ExitError's code) when run fails.
func Main(ctx context.Context, o Options, run func(ctx context.Context, rt *Runtime) error) int {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	fs := o.Flags
	if fs == nil {
		fs = flag.NewFlagSet(o.Name, flag.ContinueOnError)
	}
	fs.SetOutput(o.Stderr)
	fs.Usage = func() { usage(o.Stdout, o, fs) }
	showVersion := VersionFlag(fs)
	if err := fs.Parse(o.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package already printed the problem
	}
	if *showVersion {
		PrintVersion(o.Stdout, o.Name)
		return 0
	}
	// Validation waits until every variable parsed: a field left at zero by
	// a value that did not parse would be reported a second time.
	err := load(o.Config)
	if err == nil {
		err = validate(o.Config)
	}
	if err != nil {
		// One line per problem: a joined error lists one on each line.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(o.Stderr, "%s: configuration: %s\n", o.Name, line)
		}
		return 2
	}
	common := o.Config.CommonConfig()
	if _, set := os.LookupEnv("HTTP_ADDR"); !set && o.DefaultHTTPAddr != "" {
		common.HTTPAddr = o.DefaultHTTPAddr
	}
	level, _ := zerolog.ParseLevel(common.LogLevel) // validated above
	if o.Debug != nil && *o.Debug {
		level = zerolog.DebugLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	log := zerolog.New(logWriter(o.Stderr)).Level(level).With().Timestamp().Str("service", o.Name).Str("version", BuildVersion()).Logger()

	rt := &Runtime{Name: o.Name, Log: log, Registry: prometheus.NewRegistry()}
	rt.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(o.Name),
	)
	rt.Router = router(rt, common.MetricsAddr == "")
	log.Info().Interface("config", Effective(o.Config)).Msg("starting")

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", common.HTTPAddr)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: HTTP_ADDR: listen on %s: %v\n", o.Name, common.HTTPAddr, err)
		return 2
	}
	rt.addr.Store(ln.Addr())
	srv := newServer(rt.Router, common)
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Msg("http listening")
	msrv, err := serveMetrics(rt, common)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: METRICS_ADDR: listen on %s: %v\n", o.Name, common.MetricsAddr, err)
		_ = srv.Close()
		return 2
	}

	runErr := run(ctx, rt)
	rt.SetReady(false)

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), common.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("http shutdown")
	}
	if msrv != nil {
		_ = msrv.Shutdown(sctx)
	}
	if err := <-srvErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error().Err(err).Msg("http server")
	}
	if runErr != nil {
		code := 1
		var ee *ExitError
		if errors.As(runErr, &ee) {
			code = ee.Code
		}
		log.Error().Err(runErr).Int("exit_code", code).Msg("stopped with error")
		fmt.Fprintf(o.Stderr, "%s: %v\n", o.Name, runErr)
		return code
	}
	log.Info().Msg("stopped")
	return 0
}

// router serves /healthz, /readyz and, when withMetrics, /metrics.
func router(rt *Runtime, withMetrics bool) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	r.Get("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !rt.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready\n")
			return
		}
		if check := rt.check.Load(); check != nil {
			if err := (*check)(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "not ready: "+err.Error()+"\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	if withMetrics {
		r.Method(http.MethodGet, "/metrics", metricsHandler(rt))
	}
	return r
}

func metricsHandler(rt *Runtime) http.Handler {
	return promhttp.HandlerFor(rt.Registry, promhttp.HandlerOpts{Registry: rt.Registry, EnableOpenMetrics: true})
}

func buildInfo(name string) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamforge_build_info", Help: "Always 1; labels name the service and its version.",
	}, []string{"service", "version"})
	g.WithLabelValues(name, BuildVersion()).Set(1)
	return g
}

func usage(w io.Writer, o Options, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s %s", o.Name, Version)
	if o.Summary != "" {
		fmt.Fprintf(w, " — %s", o.Summary)
	}
	fmt.Fprintf(w, "\n\nUsage: %s [flags]\n\nFlags:\n", o.Name)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "  -help\n    \tshow this help\n\nEnvironment:\n")
	_ = envconfig.Usagef("", o.Config, w, envconfig.DefaultTableFormat)
}
