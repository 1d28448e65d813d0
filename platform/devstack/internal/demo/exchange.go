package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/streamforge/streamforge/libs/binance/binancesim"
)

// Exchange runs the exchange simulator (Binance-compatible REST and archive
// endpoints and WebSocket streams, deterministic from a seed) until ctx
// ends. Point the loaders at it with BINANCE_REST_URL, BINANCE_ARCHIVE_URL
// and BINANCE_WS_URL.
func Exchange(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack exchange", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address")
	seed := fs.Uint64("seed", 1, "market seed: the same seed serves the same market")
	weight := fs.Int("weight-limit", 6000, "REQUEST_WEIGHT budget per client per minute")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	mc := binancesim.DefaultMarketConfig(*seed)
	if _, err := binancesim.NewMarket(mc); err != nil {
		fmt.Fprintf(stderr, "devstack: --seed: %v\n", err)
		return 2
	}
	sim := binancesim.New(binancesim.Options{Market: mc, WeightLimit: *weight})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: --addr: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	var symbols []string
	for _, sc := range sim.Market().Symbols() {
		symbols = append(symbols, sc.Symbol)
	}
	fmt.Fprintf(stdout, "exchange simulator on %s (seed %d, symbols %s)\nexport BINANCE_REST_URL=%s BINANCE_ARCHIVE_URL=%s BINANCE_WS_URL=%s\nCtrl-C stops it.\n",
		url, *seed, strings.Join(symbols, " "), url, url, "ws"+strings.TrimPrefix(url, "http"))
	select {
	case <-ctx.Done():
	case err := <-errc:
		fmt.Fprintf(stderr, "devstack: exchange: %v\n", err)
		return 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "devstack: exchange shutdown: %v\n", err)
	}
	return 0
}
