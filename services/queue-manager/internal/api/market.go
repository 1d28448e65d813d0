package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
	"github.com/streamforge/streamforge/services/queue-manager/internal/market"
)

// Market streams a symbol's live market frames; *market.Feed is one.
type Market interface {
	Stream(ctx context.Context, symbol string, send func(market.Frame) error) error
}

// SetMarket serves GET /api/v1/market/{symbol}/stream from m (nil: 404).
func (a *API) SetMarket(m Market) { a.market = m }

// LiveStreams returns what streams symbol now: the first running workflow
// (by id) with a running or pending live load step of it, and those steps'
// data topics. It is the market feed's Finder.
func (a *API) LiveStreams(ctx context.Context, symbol string) (market.Live, error) {
	wfs, err := a.recs.List(ctx, store.RecordQuery{Symbol: symbol, Status: []string{flow.Running, flow.Pending}, Limit: 50})
	if err != nil {
		return market.Live{}, err
	}
	for _, wf := range wfs {
		if live, err := a.eng.Get(ctx, wf.ID); err == nil {
			wf = live
		}
		l := market.Live{Workflow: wf.ID, Topics: map[string]market.Stream{}}
		for _, s := range wf.Steps {
			st, ok := market.StreamOf(s.Type)
			if !ok || s.Kind != flow.KindLoad || s.Symbol != symbol || flow.Terminal(s.State) || s.State == flow.Stopping {
				continue
			}
			topic := s.Topic
			if topic == "" {
				topic = protocol.DataTopic(s.QueueID)
			}
			l.Topics[topic] = st
		}
		if len(l.Topics) > 0 {
			return l, nil
		}
	}
	return market.Live{}, nil
}

// marketStream serves a symbol's live market as Server-Sent Events:
// `market` frames (market.Frame), a few a second, while the client stays.
func (a *API) marketStream(w http.ResponseWriter, r *http.Request) {
	if a.market == nil {
		problem(w, http.StatusNotFound, "not found", "this queue-manager serves no market streams", "")
		return
	}
	symbol := chi.URLParam(r, "symbol")
	if err := protocol.ValidateSymbol(symbol); err != nil {
		problem(w, http.StatusBadRequest, "invalid request", "symbol: "+err.Error(), "symbol")
		return
	}
	flusher, release, ok := a.beginStream(w, r)
	if !ok {
		return
	}
	defer release()
	streamHeader(w)
	flusher.Flush()
	_ = a.market.Stream(r.Context(), symbol, func(f market.Frame) error {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: market\ndata: %s\n\n", b); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	})
}
