// Package storeopen opens the store the environment asks for: ArangoDB when
// ARANGO_URL is set, else the embedded SQLite file at STORE_PATH.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/retry"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/libs/store/arango"
	"github.com/streamforge/streamforge/libs/store/sqlite"
)

// Option changes how Open waits.
type Option func(*options)

type options struct {
	onWait  func(err error, delay time.Duration)
	backoff retry.Backoff
}

// OnWait is told each time Open waits for an unavailable store: why, and
// for how long (a worker logs it).
func OnWait(f func(err error, delay time.Duration)) Option {
	return func(o *options) { o.onWait = f }
}

// LogWaits logs each wait for an unavailable store as a warning on log.
func LogWaits(log zerolog.Logger) Option {
	return OnWait(func(err error, delay time.Duration) {
		log.Warn().Err(err).Dur("retry_in", delay).Msg("store unavailable; waiting for it")
	})
}

// Open returns the configured store. Close it when done. A store that is
// unavailable (store.ErrUnavailable: ArangoDB not answering, the SQLite
// file locked by another process) is waited for with a capped, jittered
// backoff until ctx ends: an outage at start is waited out as one mid-run
// is, rather than spending an attempt of the step. Any other error (a bad
// URL, refused credentials, a path that cannot be created) is returned at
// once.
func Open(ctx context.Context, cfg store.Config, opts ...Option) (store.Store, error) {
	o := options{backoff: retry.Backoff{Base: 200 * time.Millisecond, Max: 5 * time.Second}}
	for _, opt := range opts {
		opt(&o)
	}
	for n := 0; ; n++ {
		st, err := open(ctx, cfg)
		if err == nil || !errors.Is(err, store.ErrUnavailable) {
			return st, err
		}
		d := o.backoff.Delay(n)
		if o.onWait != nil {
			o.onWait(err, d)
		}
		if !retry.Sleep(ctx, d) {
			return nil, fmt.Errorf("%w (waited %d times)", err, n+1)
		}
	}
}

func open(ctx context.Context, cfg store.Config) (store.Store, error) {
	if cfg.ArangoURL != "" {
		return arango.Open(ctx, cfg)
	}
	return sqlite.Open(ctx, cfg.StorePath, sqlite.WithBusyTimeout(cfg.BusyTimeout))
}
