package binancesim

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// exchangeInfo serves /api/v3/exchangeInfo (rest-api.md "Exchange information"): every symbol, one (symbol), a
// list (symbols=["A","B"]) or those of one status (symbolStatus=TRADING|HALT|BREAK). An unknown symbol in symbol
// or symbols is -1121; symbol and symbols together are -1106; symbolStatus cannot be combined with either (-1102).
// Every simulated symbol is TRADING.
func (s *Sim) exchangeInfo(w http.ResponseWriter, q map[string][]string, unit timeUnit) {
	only, e := s.infoSymbols(q)
	if e != nil {
		fail(w, e)
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"timezone":"UTC","serverTime":`)
	b.Write(unit.instant(nil, s.now()))
	fmt.Fprintf(&b, `,"rateLimits":[`+
		`{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":%d},`+
		`{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100},`+
		`{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":200000},`+
		`{"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000}],"exchangeFilters":[],"symbols":[`,
		s.opts.WeightLimit)
	first := true
	for _, sc := range s.market.cfg.Symbols {
		if only != nil && !only[sc.Symbol] {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeSymbolInfo(&b, sc)
	}
	b.WriteString("]}")
	writeJSON(w, b.Bytes())
}

// infoSymbols returns the symbols exchangeInfo is asked for, nil for all.
func (s *Sim) infoSymbols(q map[string][]string) (map[string]bool, *apiError) {
	one, list, status := first(q, "symbol"), first(q, "symbols"), first(q, "symbolStatus")
	switch {
	case status != "" && (one != "" || list != ""):
		return nil, &apiError{-1102, "Parameter 'symbolStatus' cannot be combined with 'symbol' or 'symbols'."}
	case one != "" && list != "":
		return nil, &apiError{-1106, "Parameter 'symbols' sent when not required."}
	case status != "":
		switch status {
		case "TRADING":
			return nil, nil
		case "HALT", "BREAK":
			return map[string]bool{}, nil
		}
		return nil, &apiError{-1100, "Illegal characters found in parameter 'symbolStatus'; legal range is 'TRADING, HALT, BREAK'."}
	case one != "":
		if _, ok := s.market.symbol(one); !ok {
			return nil, &apiError{-1121, "Invalid symbol."}
		}
		return map[string]bool{one: true}, nil
	case list != "":
		var names []string
		if err := exactjson.Unmarshal([]byte(list), &names); err != nil || len(names) == 0 {
			return nil, &apiError{-1100, `Illegal characters found in parameter 'symbols'; legal range is '^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'.`}
		}
		only := make(map[string]bool, len(names))
		for _, n := range names {
			if _, ok := s.market.symbol(n); !ok {
				return nil, &apiError{-1121, "Invalid symbol."}
			}
			only[n] = true
		}
		return only, nil
	}
	return nil, nil
}

func first(q map[string][]string, name string) string {
	if v := q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// writeSymbolInfo writes one symbol in the shape of today's spot exchangeInfo (rest-api.md "Exchange information",
// filters.md): PRICE_FILTER and LOT_SIZE follow the symbol's decimals; the other filters carry BTCUSDT's values.
func writeSymbolInfo(b *bytes.Buffer, sc SymbolConfig) {
	tick := strconv.FormatFloat(math.Pow10(-sc.PriceDecimals), 'f', 8, 64)
	step := strconv.FormatFloat(math.Pow10(-sc.QtyDecimals), 'f', 8, 64)
	fmt.Fprintf(b, `{"symbol":%q,"status":"TRADING","baseAsset":%q,"baseAssetPrecision":8,"quoteAsset":%q,`+
		`"quotePrecision":8,"quoteAssetPrecision":8,"baseCommissionPrecision":8,"quoteCommissionPrecision":8,`+
		`"orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS","STOP_LOSS_LIMIT","TAKE_PROFIT","TAKE_PROFIT_LIMIT"],`+
		`"icebergAllowed":true,"ocoAllowed":true,"otoAllowed":true,"quoteOrderQtyMarketAllowed":true,`+
		`"allowTrailingStop":true,"cancelReplaceAllowed":true,"isSpotTradingAllowed":true,"isMarginTradingAllowed":true,`+
		`"filters":[`+
		`{"filterType":"PRICE_FILTER","minPrice":%q,"maxPrice":"1000000.00000000","tickSize":%q},`+
		`{"filterType":"LOT_SIZE","minQty":%q,"maxQty":"9000.00000000","stepSize":%q},`+
		`{"filterType":"ICEBERG_PARTS","limit":10},`+
		`{"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"100.00000000","stepSize":"0.00000000"},`+
		`{"filterType":"TRAILING_DELTA","minTrailingAboveDelta":10,"maxTrailingAboveDelta":2000,"minTrailingBelowDelta":10,"maxTrailingBelowDelta":2000},`+
		`{"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"5","bidMultiplierDown":"0.2","askMultiplierUp":"5","askMultiplierDown":"0.2","avgPriceMins":5},`+
		`{"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5},`+
		`{"filterType":"MAX_NUM_ORDERS","maxNumOrders":200},`+
		`{"filterType":"MAX_NUM_ALGO_ORDERS","maxNumAlgoOrders":5}],`+
		`"permissions":[],"permissionSets":[["SPOT","MARGIN"]],"defaultSelfTradePreventionMode":"EXPIRE_MAKER",`+
		`"allowedSelfTradePreventionModes":["EXPIRE_TAKER","EXPIRE_MAKER","EXPIRE_BOTH"]}`,
		sc.Symbol, sc.BaseAsset, sc.QuoteAsset, tick, tick, step, step)
}
