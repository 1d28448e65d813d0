// Command loader-ws-orderbook is StreamForge's loader-ws-orderbook: a live Binance order book (WebSocket diffs + REST snapshots, the book ticker or partial book snapshots) into Kafka.
//
// It runs one task given by the environment (QUEUE_ID, SYMBOL, TYPE,
// TIME_RANGE, KAFKA_TOPIC, TELEMETRY_ID) or by the start command it waits
// for on queue-control, reports its life on queue-events and exits: 0 when
// finished or stopped, non-zero with an error event when the task is
// invalid or cannot be completed. See the service README.
package main

import (
	"context"
	"os"

	"github.com/streamforge/streamforge/libs/loader"
	"github.com/streamforge/streamforge/libs/service"
)

const name = "loader-ws-orderbook"

func main() {
	var cfg loader.Config
	os.Exit(service.Main(context.Background(), service.Options{
		Name:    name,
		Summary: "a live Binance order book (WebSocket diffs + REST snapshots, the book ticker or partial book snapshots) into Kafka",
		Config:  &cfg,
		Args:    os.Args[1:],
	}, func(ctx context.Context, rt *service.Runtime) error {
		return loader.Run(ctx, rt, &cfg, loader.Options{Service: name, Kinds: []loader.Kind{loader.WSOrderbook, loader.WSBookTicker, loader.WSDepth}})
	}))
}
