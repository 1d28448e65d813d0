// Package stack brings up StreamForge's local stack on the embedded
// defaults: the in-process Kafka broker (or an external one), the exchange
// simulator (or Binance itself), and queue-manager with the local launcher,
// the SQLite store and the local artifact directory under one data
// directory. The binaries are the production ones, configured by
// environment only.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
	"github.com/streamforge/streamforge/libs/bus/embedded"
	"github.com/streamforge/streamforge/libs/protocol"
)

// Options say where everything goes. The zero value of a field takes the
// default documented on it.
type Options struct {
	// BinDir holds the service binaries (make build): queue-manager and
	// every worker it launches.
	BinDir string
	// DataDir holds kafka/ (the embedded broker's log, so data survives a
	// restart), streamforge.db (the store), artifacts/ (models) and logs/.
	DataDir string
	// Kafka is an external broker's bootstrap servers; empty runs the
	// embedded broker on KafkaPort (0: a free port).
	Kafka     string
	KafkaPort int
	// APIAddr is queue-manager's listener (default 127.0.0.1:8080; port 0
	// picks a free one).
	APIAddr string
	// Live points every loader at Binance's real endpoints instead of the
	// simulator.
	Live bool
	// ExchangeAddr is the simulator's listener (default 127.0.0.1:0).
	ExchangeAddr string
	// Seed is the simulated market's seed (default 1).
	Seed uint64
	// TradeRate is BTCUSDT's mean aggregate trades per second in the
	// simulator (0: the simulator's 2; the others scale with it).
	TradeRate float64
	// WSTradeRate, when positive, makes the simulator's every aggTrade
	// stream carry synthetic trades at this rate per second instead of the
	// market's (binancesim.WSOptions.Rate), for load tests.
	WSTradeRate float64
	// Env is added to queue-manager's environment, which its workers
	// inherit.
	Env []string
	// Log receives queue-manager's and its workers' JSON logs (default: the
	// file logs/stack.log in DataDir).
	Log io.Writer
}

// Stack is a running local stack.
type Stack struct {
	// API is queue-manager's base URL, e.g. http://127.0.0.1:8080.
	API string
	// Kafka is the broker's bootstrap address.
	Kafka string
	// Exchange is the simulator's URL; empty when Live.
	Exchange    string
	StorePath   string
	ArtifactDir string
	LogPath     string
	// SigningFile holds queue-manager's message signing secret (see
	// signingFile).
	SigningFile string

	broker  *embedded.Broker
	market  *binancesim.Market
	exch    *binancesim.Sim
	sim     *http.Server
	qm      *exec.Cmd
	qmDone  chan struct{}
	qmStart func() error // starts queue-manager with the stack's settings
	logFile *os.File
	lock    *os.File // the data directory's, held until Close
	log     *jsonLines
}

// Binaries returns the service binaries the stack runs: the orchestrator
// (queue-manager) and the service of every step kind, from the services
// and step-kind tables in libs/protocol.
func Binaries() []string {
	out := protocol.ServiceNames(func(s protocol.Service) bool { return s.Role == protocol.Orchestrator })
	for _, k := range protocol.StepKinds {
		out = append(out, k.Service)
	}
	return out
}

// Up starts the stack and returns when queue-manager is ready. Close it.
func Up(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.DataDir == "" {
		o.DataDir = "data"
	}
	if o.BinDir == "" {
		o.BinDir = "bin"
	}
	if o.APIAddr == "" {
		o.APIAddr = "127.0.0.1:8080"
	}
	if o.ExchangeAddr == "" {
		o.ExchangeAddr = "127.0.0.1:0"
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if strings.HasSuffix(o.APIAddr, ":0") {
		return nil, errors.New("APIAddr: give queue-manager a fixed port (the stack must know where it listens)")
	}
	bin, err := filepath.Abs(o.BinDir)
	if err != nil {
		return nil, err
	}
	for _, name := range Binaries() {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run `make build` first (or pass --bin-dir)", name, o.BinDir)
		}
	}
	data, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Stack{StorePath: filepath.Join(data, storeFile), ArtifactDir: filepath.Join(data, artifactDir),
		LogPath: filepath.Join(data, logDir, "stack.log")}
	for _, d := range []string{data, s.ArtifactDir, filepath.Dir(s.LogPath)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	if s.lock, err = lockDir(data); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	s.Kafka = o.Kafka
	if s.Kafka == "" {
		b, err := embedded.Start(embedded.Options{Port: o.KafkaPort, DataDir: filepath.Join(data, kafkaDir),
			Topics: []string{protocol.TopicControl, protocol.TopicEvents}})
		if err != nil {
			return nil, fmt.Errorf("embedded Kafka: %w", err)
		}
		s.broker, s.Kafka = b, b.Addr()
	}

	if s.SigningFile, err = signingSecret(data); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "MESSAGE_SIGNING_SECRET_FILE="+s.SigningFile,
		"KAFKA_BOOTSTRAP_SERVERS="+s.Kafka, "KAFKA_CREATE_TOPICS=true",
		"LAUNCHER=local", "LOCAL_BIN_DIR="+bin, "HTTP_ADDR="+o.APIAddr,
		"STORE_PATH="+s.StorePath, "ARTIFACT_DIR="+s.ArtifactDir, "MINIO_ENDPOINT=", "STEP_LOG_DIR="+filepath.Join(data, "logs", "steps"))
	if !o.Live {
		if err := s.startExchange(o); err != nil {
			return nil, err
		}
		env = append(env, "BINANCE_REST_URL="+s.Exchange, "BINANCE_ARCHIVE_URL="+s.Exchange,
			"BINANCE_WS_URL=ws"+strings.TrimPrefix(s.Exchange, "http"))
	}
	env = append(env, o.Env...)

	logw := o.Log
	if logw == nil {
		if s.logFile, err = os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return nil, err
		}
		logw = s.logFile
	}
	// One format: every line of queue-manager and its workers a JSON object.
	s.log = newJSONLines(logw)
	s.qmStart = func() error {
		s.qm = exec.Command(filepath.Join(bin, "queue-manager"))
		s.qm.Env = env
		s.qm.Stderr = s.log
		s.qm.Stdout = s.log
		// Its own process group: a terminal's Ctrl-C signals the whole
		// foreground group, and queue-manager must outlive devstack's stop
		// through its API; devstack ends it (Close) when that is done. Its
		// local launcher puts each worker in a group of its own too.
		s.qm.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
		s.qm.WaitDelay = 5 * time.Second // a worker holding the log pipe does not hold up Close
		if err := s.qm.Start(); err != nil {
			return fmt.Errorf("start queue-manager: %w", err)
		}
		done := make(chan struct{})
		s.qmDone = done
		go func(c *exec.Cmd) { _ = c.Wait(); close(done) }(s.qm)
		return nil
	}
	if err := s.qmStart(); err != nil {
		return nil, err
	}
	s.API = "http://" + o.APIAddr
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stack) startExchange(o Options) error {
	mc := binancesim.DefaultMarketConfig(o.Seed)
	if o.TradeRate > 0 {
		f := o.TradeRate / mc.Symbols[0].AggTradesPerSecond
		for i := range mc.Symbols {
			mc.Symbols[i].AggTradesPerSecond *= f
		}
	}
	sim := binancesim.New(binancesim.Options{Market: mc, WS: binancesim.WSOptions{Rate: o.WSTradeRate}})
	s.market, s.exch = sim.Market(), sim
	ln, err := net.Listen("tcp", o.ExchangeAddr)
	if err != nil {
		return fmt.Errorf("exchange simulator: %w", err)
	}
	s.sim = &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.sim.Serve(ln) }()
	s.Exchange = "http://" + ln.Addr().String()
	return nil
}

// ConsolePath is where queue-manager serves its web console.
const ConsolePath = "/ui/"

// Console returns the web console's URL.
func (s *Stack) Console() string { return s.API + ConsolePath }

// MarketPage returns the URL of the console's market page of symbol.
func (s *Stack) MarketPage(symbol string) string { return s.Console() + "#/market/" + symbol }

// Market is the simulated market the loaders read (nil when Live): what a
// test compares the store with.
func (s *Stack) Market() *binancesim.Market { return s.market }

// Simulator returns the simulator (nil when Live), for tests that inject
// its faults (429s, bans, latency).
func (s *Stack) Simulator() *binancesim.Sim { return s.exch }

// waitReady polls queue-manager's /readyz.
func (s *Stack) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.API+"/readyz", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.qmDone:
			return fmt.Errorf("queue-manager exited at start (%s): see %s", s.qm.ProcessState, s.LogPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("queue-manager not ready on %s after %s: see %s", s.API, limit, s.LogPath)
		}
	}
}

// LogTail returns the last n bytes of the stack's log ("" when it cannot
// be read): what a failed test shows.
func (s *Stack) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return ""
	}
	return string(b[max(0, len(b)-n):])
}

// Close stops queue-manager (SIGTERM, then SIGKILL after 20 s), the
// simulator and the broker.
func (s *Stack) Close() {
	if s.qm != nil && s.qm.Process != nil {
		_ = s.qm.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.qmDone:
		case <-time.After(20 * time.Second):
			_ = s.qm.Process.Kill()
			<-s.qmDone
		}
	}
	if s.sim != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.sim.Shutdown(ctx)
		cancel()
	}
	if s.broker != nil {
		s.broker.Close()
	}
	if s.log != nil {
		_ = s.log.Flush()
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
	if s.lock != nil {
		_ = s.lock.Close()
	}
}
