package loader

import (
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
)

// logRetry tells that a request to the exchange failed and will be tried
// again: the cause, the attempt and the wait, one warning per retry.
func logRetry(log zerolog.Logger, restURL string, r binance.RetryInfo) {
	log.Warn().Str("url", restURL+r.Endpoint).Int("attempt", r.Attempt).Int("status", r.Status).
		Dur("next_wait", r.Wait).Err(r.Err).Msg("exchange request failed, retrying")
}

// exchangeError names what failed when the symbols could not be checked:
// the exchange that did not answer (BINANCE_REST_URL) when no answer came,
// else the symbols (SYMBOL) the exchange refused.
func exchangeError(restURL string, err error) error {
	if apiErr, ok := errors.AsType[*binance.APIError](err); ok && apiErr.Status == 0 {
		return fmt.Errorf("BINANCE_REST_URL: the exchange at %s cannot be reached (offline? the simulator is `devstack exchange`): %w", restURL, err)
	}
	return fmt.Errorf("SYMBOL: %w", err)
}
