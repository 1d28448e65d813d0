package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/protocol"
)

// Symbols tells which symbols the exchange lists; *SymbolList is one.
type Symbols interface {
	// Known returns the exchange's trading symbols, or nil when they are not
	// known now (the exchange unreachable): then every symbol is accepted
	// and a bad one fails its step once, with the loader's reason.
	Known(ctx context.Context) map[string]bool
	// Where says where a person finds the symbols.
	Where() string
}

// SetSymbols makes POST refuse symbols the exchange does not list.
func (a *API) SetSymbols(s Symbols) { a.symbols = s }

// checkSymbols returns a *protocol.FieldError naming the first symbol the
// exchange does not list, when its list is known.
func (a *API) checkSymbols(ctx context.Context, symbols []string) error {
	if a.symbols == nil {
		return nil
	}
	known := a.symbols.Known(ctx)
	if known == nil {
		return nil
	}
	for i, s := range symbols {
		if known[s] {
			continue
		}
		where := a.symbols.Where()
		if len(known) <= 20 {
			names := make([]string, 0, len(known))
			for k := range known {
				names = append(names, k)
			}
			slices.Sort(names)
			where = strings.Join(names, ", ") + " (" + where + ")"
		}
		return &protocol.FieldError{Field: fmt.Sprintf("symbols[%d]", i),
			Problem: fmt.Sprintf("%s is not a trading symbol on the exchange; its symbols: %s", s, where)}
	}
	return nil
}

// SymbolList is the exchange's symbol list from /api/v3/exchangeInfo,
// fetched when first needed and kept for a TTL; a failed fetch is not
// tried again for a while, so that requests do not each wait for an
// exchange that cannot be reached.
type SymbolList struct {
	url    string
	client *binance.Client
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	known   map[string]bool
	fetched time.Time
	failed  time.Time
}

// symbolsTimeout bounds one fetch; symbolsRetry is how long a failed fetch
// is not tried again.
const (
	symbolsTimeout = 5 * time.Second
	symbolsRetry   = 30 * time.Second
)

// NewSymbolList returns the list of the exchange at url, kept for ttl; now
// is the clock (nil: time.Now).
func NewSymbolList(url string, ttl time.Duration, now func() time.Time) *SymbolList {
	if now == nil {
		now = time.Now
	}
	return &SymbolList{url: url, ttl: ttl, now: now, client: binance.NewClient(url, binance.ClientOptions{
		MaxAttempts: 1, HTTPClient: &http.Client{Timeout: symbolsTimeout},
	})}
}

// Where names the exchange's list.
func (l *SymbolList) Where() string {
	return "GET " + strings.TrimRight(l.url, "/") + "/api/v3/exchangeInfo"
}

// Known returns the trading symbols, nil when they cannot be had now.
func (l *SymbolList) Known(ctx context.Context) map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.known != nil && now.Sub(l.fetched) < l.ttl {
		return l.known
	}
	if !l.failed.IsZero() && now.Sub(l.failed) < symbolsRetry {
		return l.known // the last list, stale, or nil
	}
	ctx, cancel := context.WithTimeout(ctx, symbolsTimeout)
	defer cancel()
	info, err := l.client.ExchangeInfo(ctx)
	if err != nil {
		l.failed = now
		return l.known
	}
	known := make(map[string]bool, len(info.Symbols))
	for _, s := range info.Symbols {
		if s.Status == "TRADING" {
			known[s.Symbol] = true
		}
	}
	l.known, l.fetched, l.failed = known, now, time.Time{}
	return known
}
