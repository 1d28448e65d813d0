package binance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/streamforge/streamforge/libs/binance/internal/exactjson"
)

// These tests guard the class of fault behind the maker side of REST trades:
// Binance's payloads have members whose names differ only in case (m and M,
// U and u, t and T, ...), and encoding/json matches names case-insensitively.

// TestPayloadsDecodedExactly is a linter rule: outside internal/exactjson, no
// file of this package or of the simulator decodes JSON with encoding/json.
func TestPayloadsDecodedExactly(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == filepath.Join("internal", "exactjson") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		name := ""
		for _, imp := range f.Imports {
			if imp.Path.Value == `"encoding/json"` {
				name = "json"
				if imp.Name != nil {
					name = imp.Name.Name
				}
			}
		}
		if name == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == name && (sel.Sel.Name == "Unmarshal" || sel.Sel.Name == "NewDecoder") {
				t.Errorf("%s: %s.%s matches member names case-insensitively; decode exchange payloads with exactjson.Unmarshal",
					fset.Position(sel.Pos()), name, sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// recordedStream returns the data of every recorded stream message whose
// stream name contains name (e.g. "@aggTrade").
func recordedStream(t testing.TB, name string) [][]byte {
	t.Helper()
	var out [][]byte
	lines(t, filepath.Join(fixturesDir(t), "ws-recording", "BINANCE.ws.1.0"), func(_ int, line string) {
		_, msg, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasPrefix(msg, "{") {
			return
		}
		stream, data, ok := splitEnvelope([]byte(msg))
		if ok && strings.Contains(string(stream), name) {
			out = append(out, data)
		}
	})
	if len(out) == 0 {
		t.Fatalf("no recorded %s messages", name)
	}
	return out
}

// recordedREST returns the recorded REST answers whose URL contains path.
func recordedREST(t *testing.T, file, path string) [][]byte {
	t.Helper()
	var out [][]byte
	lines(t, filepath.Join(fixturesDir(t), "ws-recording", file), func(_ int, line string) {
		url, rest, ok := strings.Cut(line, " -> ")
		if !ok || !strings.Contains(url, path) {
			return
		}
		if _, body, ok := strings.Cut(rest, ": "); ok {
			out = append(out, []byte(body))
		}
	})
	if len(out) == 0 {
		t.Fatalf("no recorded %s answers", path)
	}
	return out
}

// restAggTradesPage builds an /api/v3/aggTrades answer from recorded
// aggTrade stream messages: its objects have the same members (a, p, q, f,
// l, T, m, M), in the same order, without the event's e, E and s.
func restAggTradesPage(t *testing.T, events [][]byte) []byte {
	t.Helper()
	page := []byte{'['}
	for n, ev := range events {
		if n > 0 {
			page = append(page, ',')
		}
		page = append(page, '{')
		i, err := exactjson.ObjectStart(ev)
		if err != nil {
			t.Fatal(err)
		}
		first, sawM := true, false
		for {
			k, v, next, done, err := exactjson.NextMember(ev, i)
			if err != nil {
				t.Fatal(err)
			}
			if done {
				break
			}
			i = next
			switch string(k) {
			case "e", "E", "s":
				continue
			case "M":
				sawM = true
			}
			if !first {
				page = append(page, ',')
			}
			first = false
			page = append(append(append(append(page, '"'), k...), `":`...), v...)
		}
		if !sawM {
			t.Fatalf("recorded aggTrade without M: %s", ev)
		}
		page = append(page, '}')
	}
	return append(page, ']')
}

// serve answers every request with status and body.
func serve(t *testing.T, status int, body []byte) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return NewClient(srv.URL, ClientOptions{MaxAttempts: 1})
}

// payloadType is one kind of payload the client decodes.
type payloadType struct {
	name    string
	samples func(t *testing.T) [][]byte
	// decode runs the client's own decoding of body.
	decode func(t *testing.T, body []byte) (any, error)
	// check compares what decode gave with the payload read with exact
	// member names, independently of the client.
	check func(t *testing.T, body []byte, got any)
}

func payloadTypes() []payloadType {
	aggTradeEvents := func(t *testing.T) [][]byte {
		ev := recordedStream(t, "nknusdt@aggTrade") // one symbol: ids ascend
		return [][]byte{restAggTradesPage(t, ev[:min(len(ev), 1000)])}
	}
	return []payloadType{
		{
			name: "rest aggTrades", samples: aggTradeEvents,
			decode: func(t *testing.T, body []byte) (any, error) {
				var got []AggTrade
				err := serve(t, 200, body).AggTrades(context.Background(), "NKNUSDT", 0, 0, func(a AggTrade) error {
					got = append(got, a)
					return nil
				})
				return got, err
			},
			check: func(t *testing.T, body []byte, got any) {
				var want []map[string]any
				mustDecode(t, body, &want)
				checkAggTrades(t, want, got.([]AggTrade))
			},
		},
		{
			name: "ws aggTrade", samples: func(t *testing.T) [][]byte { return recordedStream(t, "@aggTrade") },
			decode: func(_ *testing.T, body []byte) (any, error) {
				a, err := ParseAggTradeEvent(body)
				return []AggTrade{a}, err
			},
			check: func(t *testing.T, body []byte, got any) {
				var want map[string]any
				mustDecode(t, body, &want)
				checkAggTrades(t, []map[string]any{want}, got.([]AggTrade))
			},
		},
		{
			name: "ws kline", samples: func(t *testing.T) [][]byte { return recordedStream(t, "@kline") },
			decode: func(_ *testing.T, body []byte) (any, error) {
				c, closed, err := ParseKlineEvent(body)
				return struct {
					C      Candle
					Closed bool
				}{c, closed}, err
			},
			check: func(t *testing.T, body []byte, got any) {
				var ev struct{ K map[string]any }
				mustDecode(t, body, &ev)
				k := ev.K
				g := reflect.ValueOf(got)
				c, closed := g.Field(0).Interface().(Candle), g.Field(1).Bool()
				eq(t, "t", c.OpenTime, num(t, k["t"]))
				eq(t, "T", c.CloseTime, num(t, k["T"]))
				eq(t, "l", c.Low, dec(t, k["l"]))
				eq(t, "v", c.Volume, dec(t, k["v"]))
				eq(t, "V", c.TakerBuyBase, dec(t, k["V"]))
				eq(t, "q", c.QuoteVolume, dec(t, k["q"]))
				eq(t, "Q", c.TakerBuyQuote, dec(t, k["Q"]))
				eq(t, "x", closed, k["x"].(bool))
			},
		},
		{
			name: "ws depthUpdate", samples: func(t *testing.T) [][]byte { return recordedStream(t, "@depth") },
			decode: func(_ *testing.T, body []byte) (any, error) { return ParseDepthUpdate(body) },
			check: func(t *testing.T, body []byte, got any) {
				var want map[string]any
				mustDecode(t, body, &want)
				d := got.(BookDiff)
				eq(t, "U", d.FirstUpdateID, num(t, want["U"]))
				eq(t, "u", d.FinalUpdateID, num(t, want["u"]))
				eq(t, "b", len(d.Bids), len(want["b"].([]any)))
				eq(t, "a", len(d.Asks), len(want["a"].([]any)))
			},
		},
		{
			name: "rest depth", samples: func(t *testing.T) [][]byte { return recordedREST(t, "BINANCE.http.0.0", "/api/v3/depth") },
			decode: func(t *testing.T, body []byte) (any, error) {
				s, err := serve(t, 200, body).Depth(context.Background(), "NKNUSDT", 1000)
				s.Time = 0 // the client's clock
				return s, err
			},
			check: func(t *testing.T, body []byte, got any) {
				var want map[string]any
				mustDecode(t, body, &want)
				s := got.(BookSnapshot)
				eq(t, "lastUpdateId", s.LastUpdateID, num(t, want["lastUpdateId"]))
				eq(t, "bids", len(s.Bids), len(want["bids"].([]any)))
				eq(t, "asks", len(s.Asks), len(want["asks"].([]any)))
			},
		},
		{
			name: "rest exchangeInfo", samples: func(t *testing.T) [][]byte { return recordedREST(t, "BINANCE.0", "/api/v3/exchangeInfo") },
			decode: func(t *testing.T, body []byte) (any, error) {
				return serve(t, 200, body).ExchangeInfo(context.Background())
			},
			check: func(t *testing.T, body []byte, got any) {
				var want struct {
					ServerTime float64          `json:"serverTime"`
					RateLimits []map[string]any `json:"rateLimits"`
					Symbols    []map[string]any `json:"symbols"`
				}
				mustDecode(t, body, &want)
				info := got.(*ExchangeInfo)
				eq(t, "serverTime", info.ServerTime, int64(want.ServerTime))
				eq(t, "symbols", len(info.Symbols), len(want.Symbols))
				for i, s := range want.Symbols {
					eq(t, "symbols.symbol", info.Symbols[i].Symbol, s["symbol"].(string))
					eq(t, "symbols.status", info.Symbols[i].Status, s["status"].(string))
				}
				eq(t, "rateLimits", len(info.RateLimits), len(want.RateLimits))
			},
		},
		{
			name: "rest error", samples: func(*testing.T) [][]byte { return [][]byte{[]byte(`{"code":-1121,"msg":"Invalid symbol."}`)} },
			decode: func(t *testing.T, body []byte) (any, error) {
				_, err := serve(t, 400, body).ExchangeInfo(context.Background(), "NOPE")
				apiErr, ok := err.(*APIError)
				if !ok {
					return nil, err
				}
				return [2]any{apiErr.Code, apiErr.Msg}, nil
			},
			check: func(t *testing.T, _ []byte, got any) {
				eq(t, "code", got.([2]any)[0].(int), -1121)
				eq(t, "msg", got.([2]any)[1].(string), "Invalid symbol.")
			},
		},
	}
}

func checkAggTrades(t *testing.T, want []map[string]any, got []AggTrade) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d trades, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		eq(t, "a", g.AggID, num(t, w["a"]))
		eq(t, "f", g.FirstID, num(t, w["f"]))
		eq(t, "l", g.LastID, num(t, w["l"]))
		eq(t, "T", g.Time, num(t, w["T"]))
		eq(t, "p", g.Price, dec(t, w["p"]))
		eq(t, "q", g.Qty, dec(t, w["q"]))
		if g.BuyerMaker != w["m"].(bool) {
			t.Fatalf("trade %d: buyer_maker %v, want m=%v (M=%v)", g.AggID, g.BuyerMaker, w["m"], w["M"])
		}
	}
}

// TestRecordedPayloadsDecodeExactly decodes every payload type the client
// reads from recorded real answers and checks each field against the member
// of that exact name; then it adds to every object a member whose name is
// another member's with its case flipped, with a conflicting value, before
// and after the original members: the result must not change.
func TestRecordedPayloadsDecodeExactly(t *testing.T) {
	for _, pt := range payloadTypes() {
		t.Run(pt.name, func(t *testing.T) {
			samples := pt.samples(t)
			for i, body := range samples[:min(len(samples), 200)] {
				got, err := pt.decode(t, body)
				if err != nil {
					t.Fatalf("sample %d: %v", i, err)
				}
				pt.check(t, body, got)
				for _, first := range []bool{true, false} {
					twin := withCaseTwins(t, body, first)
					again, err := pt.decode(t, twin)
					if err != nil {
						t.Fatalf("sample %d with case twins: %v\n%.300s", i, err, twin)
					}
					if !reflect.DeepEqual(again, got) {
						t.Fatalf("sample %d: a member differing only in case changed the result:\n got %.300s\nwant %.300s\n%.300s",
							i, fmt.Sprintf("%+v", again), fmt.Sprintf("%+v", got), twin)
					}
				}
			}
		})
	}
}

// withCaseTwins returns body with, in every object, a member named like
// each existing member with its case flipped (where no such member exists)
// and a value of the same JSON type that differs.
func withCaseTwins(t *testing.T, body []byte, first bool) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	writeTwins(t, &b, v, first)
	return b.Bytes()
}

func writeTwins(t *testing.T, b *bytes.Buffer, v any, first bool) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var twins []string
		for _, k := range keys {
			if tw := flipCase(k); tw != k {
				if _, taken := x[tw]; !taken {
					twins = append(twins, k)
				}
			}
		}
		b.WriteByte('{')
		n := 0
		member := func(k string, val any, twin bool) {
			if n++; n > 1 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if twin {
				val = conflicting(val)
			}
			writeTwins(t, b, val, first)
		}
		if first {
			for _, k := range twins {
				member(flipCase(k), x[k], true)
			}
		}
		for _, k := range keys {
			member(k, x[k], false)
		}
		if !first {
			for _, k := range twins {
				member(flipCase(k), x[k], true)
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTwins(t, b, e, first)
		}
		b.WriteByte(']')
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(raw)
	}
}

func flipCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// conflicting returns a value of v's JSON type that differs from it.
func conflicting(v any) any {
	switch x := v.(type) {
	case bool:
		return !x
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return json.Number(strconv.FormatInt(n+7, 10))
		}
		return json.Number("9" + x.String())
	case string:
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return "9" + x
		}
		return x + "X"
	case []any:
		return []any{}
	case map[string]any:
		return map[string]any{}
	}
	return v
}

func mustDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatal(err)
	}
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v is not a number", v)
	}
	return int64(f)
}

func dec(t *testing.T, v any) float64 {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v is not a decimal string", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// BenchmarkDecodeDepthUpdate decodes a recorded depth update into
// ParseDepthUpdate's struct with exactjson.Unmarshal and, as the baseline of
// the same run, with encoding/json.
func BenchmarkDecodeDepthUpdate(b *testing.B) {
	var msg []byte
	for _, m := range recordedStream(b, "@depth") {
		if len(m) > len(msg) && len(m) < 4096 {
			msg = m
		}
	}
	for _, dec := range []struct {
		name   string
		decode func([]byte, any) error
	}{{"exactjson", exactjson.Unmarshal}, {"baseline=encoding-json", json.Unmarshal}} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				var ev depthUpdate
				if err := dec.decode(msg, &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
