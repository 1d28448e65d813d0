// Command loader-producer is StreamForge's loader-producer: the universal fast loader: any Binance data type, any number of symbols, into Kafka.
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

const name = "loader-producer"

func main() {
	var cfg loader.Config
	os.Exit(service.Main(context.Background(), service.Options{
		Name:    name,
		Summary: "the universal fast loader: any Binance data type, any number of symbols, into Kafka",
		Config:  &cfg,
		Args:    os.Args[1:],
	}, func(ctx context.Context, rt *service.Runtime) error {
		return loader.Run(ctx, rt, &cfg, loader.Options{Service: name, Kinds: loader.AllKinds})
	}))
}
