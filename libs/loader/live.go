package loader

import (
	"context"
	"errors"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/worker"
)

func runLive(ctx context.Context, w *worker.Worker, cfg *Config, job Job, client *binance.Client, m *metrics, log zerolog.Logger) error {
	return w.End(ctx, errors.New("live loading is not built yet"), nil)
}
