package binance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// RateLimit is one entry of exchangeInfo's rateLimits.
type RateLimit struct {
	Type        string `json:"rateLimitType"` // REQUEST_WEIGHT, ORDERS, RAW_REQUESTS
	Interval    string `json:"interval"`      // SECOND, MINUTE, DAY
	IntervalNum int    `json:"intervalNum"`
	Limit       int    `json:"limit"`
}

// SymbolInfo is the part of an exchangeInfo symbol the loaders need.
type SymbolInfo struct {
	Symbol     string `json:"symbol"`
	Status     string `json:"status"` // TRADING, BREAK, ...
	BaseAsset  string `json:"baseAsset"`
	QuoteAsset string `json:"quoteAsset"`
}

// ExchangeInfo is the decoded /api/v3/exchangeInfo answer.
type ExchangeInfo struct {
	ServerTime int64        `json:"serverTime"`
	RateLimits []RateLimit  `json:"rateLimits"`
	Symbols    []SymbolInfo `json:"symbols"`
}

// WeightPerMinute returns the REQUEST_WEIGHT limit per one minute, or 0 when
// the answer has none.
func (e *ExchangeInfo) WeightPerMinute() int {
	for _, r := range e.RateLimits {
		if r.Type == "REQUEST_WEIGHT" && r.Interval == "MINUTE" && r.IntervalNum == 1 {
			return r.Limit
		}
	}
	return 0
}

// Validate returns an error naming every symbol in symbols that the exchange
// does not list or does not trade.
func (e *ExchangeInfo) Validate(symbols ...string) error {
	known := make(map[string]string, len(e.Symbols))
	for _, s := range e.Symbols {
		known[s.Symbol] = s.Status
	}
	var bad []string
	for _, s := range symbols {
		switch status, ok := known[s]; {
		case !ok:
			bad = append(bad, s+" (unknown)")
		case status != "TRADING":
			bad = append(bad, s+" (status "+status+")")
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("invalid symbols: %s", strings.Join(bad, ", "))
	}
	return nil
}

// ExchangeInfo fetches /api/v3/exchangeInfo, for the given symbols only when
// any are named, and sets the client's weight budget to its REQUEST_WEIGHT
// per-minute limit. Binance answers an unknown symbol with HTTP 400 (code
// -1121), returned as an *APIError.
func (c *Client) ExchangeInfo(ctx context.Context, symbols ...string) (*ExchangeInfo, error) {
	q := url.Values{}
	if len(symbols) > 0 {
		b, err := json.Marshal(symbols)
		if err != nil {
			return nil, fmt.Errorf("binance /api/v3/exchangeInfo: %w", err)
		}
		q.Set("symbols", string(b))
	}
	body, err := c.get(ctx, "/api/v3/exchangeInfo", q, weightExchangeInfo)
	if err != nil {
		return nil, err
	}
	var info ExchangeInfo
	if err := exactjson.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("binance /api/v3/exchangeInfo: decode: %w", err)
	}
	c.lim.SetBudget(info.WeightPerMinute())
	return &info, nil
}
