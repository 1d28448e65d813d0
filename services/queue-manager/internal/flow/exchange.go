package flow

import "github.com/streamforge/streamforge/libs/protocol"

// exchangeSlot counts, among the running steps, the history loaders: they call the exchange's REST API, whose
// request weight Binance counts per IP, so on a cluster with one egress address they share one budget.
// Options.ExchangeLoaders caps them; live streams (WebSocket, a depth snapshot now and then) are not counted, so a
// stream that runs for days never holds a history load back.
const exchangeSlot = "\x00exchange"

// usesExchangeBudget reports whether s is a history load step.
func usesExchangeBudget(s *Step) bool {
	if s.Kind != protocol.StepLoad {
		return false
	}
	dt, _, err := protocol.LookupDataType(s.Type)
	return err == nil && !dt.Live
}

// exchangeFull reports whether s must wait for a history loader to end before it may start.
func (e *Engine) exchangeFull(s *Step, running map[string]int) bool {
	return e.o.ExchangeLoaders > 0 && usesExchangeBudget(s) && running[exchangeSlot] >= e.o.ExchangeLoaders
}
