package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/worker"
)

// drainer is what a run stopped by a stop command uses to drain before it
// ends: most live streams end by a stop, and their loader reports its
// ledger (the holes of the stream included) only in its interrupted event.
type drainer struct {
	cfg      *Config
	st       store.Store
	k        offsets
	m        *metrics
	log      zerolog.Logger
	ends     <-chan protocol.Event // the load run's terminal events (watchLoader)
	runErr   <-chan error          // the consumer's end
	watchErr <-chan error          // the loader watcher's failure
	loader   *protocol.Event       // the terminal event received before the stop, if any
	follow   bool                  // CONNECTOR_FOLLOW: no loader is watched
}

// errNoLoaderEnd says that the loader's terminal event did not come.
var errNoLoaderEnd = errors.New("no finished or stopped event of the loader")

// drain waits, up to CONNECTOR_STOP_DRAIN, for the load run's terminal
// event (finished, or interrupted by the same stop), then until the
// consumer has stored everything the loader wrote (caughtUp), then writes
// the loader's ledger (storeCoverage: hours stored short are degraded). It
// returns the ledger's summary for the interrupted event, nil when the
// loader reported none or the drain did not get that far (logged with what
// was not done). A signal (ctx) ends it at once, and so do a consumer that
// ends and a loader watcher that fails.
func (d *drainer) drain(ctx context.Context) *coverageResult {
	if d.cfg.StopDrain <= 0 || d.follow {
		return nil
	}
	began := time.Now()
	dctx, cancel := context.WithTimeoutCause(ctx, d.cfg.StopDrain,
		fmt.Errorf("CONNECTOR_STOP_DRAIN (%s) elapsed", d.cfg.StopDrain))
	defer cancel()
	d.log.Info().Dur("stop_drain", d.cfg.StopDrain).Bool("loader_ended", d.loader != nil).
		Msg("stop requested: storing what the loader wrote and its ledger before ending")
	cov, err := d.run(dctx)
	if err != nil {
		if cause := context.Cause(dctx); dctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		d.log.Warn().Err(err).Dur("took", time.Since(began)).
			Msg("stop: ending without draining; records the loader wrote may be left in the topic and its ledger is not written")
		return nil
	}
	d.log.Info().Dur("took", time.Since(began)).Bool("ledger", cov != nil).Msg("stop: drained")
	return cov
}

func (d *drainer) run(ctx context.Context) (*coverageResult, error) {
	for d.loader == nil {
		select {
		case ev := <-d.ends:
			d.loader = &ev
		case err := <-d.runErr:
			return nil, fmt.Errorf("consumer ended: %v", err)
		case err := <-d.watchErr:
			return nil, err
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the loader's end: %w", errNoLoaderEnd)
		}
	}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	caught := make(chan error, 1)
	go func() {
		caught <- caughtUp(cctx, d.k, d.cfg.Group, d.cfg.KafkaTopic, d.m, d.log, worker.DefaultRideOut)
	}()
	select {
	case err := <-caught:
		if err != nil {
			return nil, fmt.Errorf("wait until everything the loader wrote is stored: %w", err)
		}
	case err := <-d.runErr:
		stop()
		<-caught
		return nil, fmt.Errorf("consumer ended: %v", err)
	}
	cov, err := storeCoverage(ctx, d.st, d.cfg, d.loader.Result, d.log)
	if err != nil {
		return nil, fmt.Errorf("write the coverage ledger: %w", err)
	}
	return cov, nil
}
