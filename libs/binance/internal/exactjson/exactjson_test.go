package exactjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// trade declares m but not M: encoding/json fills it from M.
type trade struct {
	ID         int64  `json:"a"`
	Price      string `json:"p"`
	BuyerMaker bool   `json:"m"`
}

type book struct {
	First  int64       `json:"U"`
	Final  int64       `json:"u"`
	Bids   [][2]string `json:"b"`
	Trades []trade     `json:"trades"`
	Last   *trade      `json:"last"`
	Pair   [2]trade    `json:"pair"`
	Plain  string
	Hidden string          `json:"-"`
	Raw    json.RawMessage `json:"raw"`
}

func TestUnmarshalMatchesNamesExactly(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want trade
	}{
		{"m then M", `{"a":1,"p":"2.5","m":false,"M":true}`, trade{1, "2.5", false}},
		{"M then m", `{"a":1,"p":"2.5","M":true,"m":false}`, trade{1, "2.5", false}},
		{"M alone is another member", `{"a":1,"M":true}`, trade{ID: 1}},
		{"A and P are not a and p", `{"A":9,"P":"9","a":1,"p":"1"}`, trade{1, "1", false}},
		{"unknown members ignored", `{"x":{"m":true},"y":[1,{"a":2}],"a":3}`, trade{ID: 3}},
		{"spaces", " { \"a\" : 4 , \"m\" : true } ", trade{4, "", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got trade
			if err := Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	// The fault this package exists for, shown on encoding/json itself.
	var std trade
	if err := json.Unmarshal([]byte(`{"m":false,"M":true}`), &std); err != nil || !std.BuyerMaker {
		t.Fatalf("encoding/json no longer matches M to m (%+v, %v): the reason for this package may be gone", std, err)
	}
}

func TestUnmarshalNested(t *testing.T) {
	in := `{"U":5,"u":7,"b":[["1.0","2"]],"trades":[{"a":1,"m":true,"M":false},{"a":2,"M":true}],
		"last":{"a":3,"M":true},"pair":[{"a":4},{"a":5,"m":true},{"a":6}],"Plain":"x","plain":"y","Hidden":"h","raw":{"k":[1]}}`
	var got book
	if err := Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := book{First: 5, Final: 7, Bids: [][2]string{{"1.0", "2"}},
		Trades: []trade{{ID: 1, BuyerMaker: true}, {ID: 2}}, Last: &trade{ID: 3},
		Pair: [2]trade{{ID: 4}, {ID: 5, BuyerMaker: true}}, Plain: "x", Raw: json.RawMessage(`{"k":[1]}`)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Decoding into a used value replaces slices and clears what null says.
	if err := Unmarshal([]byte(`{"trades":[{"a":9}],"last":null}`), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Trades) != 1 || got.Trades[0].ID != 9 || got.Last != nil {
		t.Errorf("after a second decode: trades %+v last %+v", got.Trades, got.Last)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // in the error
	}{
		{"not JSON", `{"a":1,`, "unexpected end"},
		{"bad scalar in an ignored member", `{"x":tru,"a":1}`, "invalid character"},
		{"wrong type names the member", `{"U":"one"}`, `member "U"`},
		{"element of a slice", `{"trades":[{"a":1},{"a":"x"}]}`, `element 1`},
		{"not an object", `[1]`, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got book
			err := Unmarshal([]byte(tt.in), &got)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	var syn *json.SyntaxError
	if err := Unmarshal([]byte(`{`), &book{}); !errors.As(err, &syn) {
		t.Errorf("got %v, want a *json.SyntaxError", err)
	}
	if err := Unmarshal([]byte(`{}`), book{}); err == nil {
		t.Error("decoding into a non-pointer: got no error")
	}
}

// FuzzUnmarshalAgreesWithEncodingJSON checks that on a struct declaring
// every member name the payloads use (so that encoding/json, preferring an
// exact match, is right), both decoders agree whenever the input has no
// member that only case-folds onto a field.
func FuzzUnmarshalAgreesWithEncodingJSON(f *testing.F) {
	type full struct {
		Lower int64   `json:"m"`
		Upper int64   `json:"M"`
		S     string  `json:"s"`
		F     float64 `json:"f"`
		L     []full  `json:"l"`
	}
	for _, s := range []string{`{"m":1,"M":2}`, `{"s":"x","l":[{"m":3},{"M":4,"l":[]}]}`, `{"f":1e3,"z":null}`, `[]`, `{"l":null}`} {
		f.Add([]byte(s))
	}
	exact := map[string]bool{"m": true, "M": true, "s": true, "f": true, "l": true}
	f.Fuzz(func(t *testing.T, data []byte) {
		var keys map[string]any
		if json.Unmarshal(data, &keys) != nil {
			return
		}
		for k := range keys {
			if !exact[k] && exact[strings.ToLower(k)] || !exact[k] && exact[strings.ToUpper(k)] {
				return // encoding/json would fold it onto a field; this decoder must not
			}
		}
		if strings.Contains(string(data), `\`) {
			return // escaped member names are not decoded here (Binance sends none)
		}
		var want, got full
		werr := json.Unmarshal(data, &want)
		gerr := Unmarshal(data, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("encoding/json: %v, exactjson: %v", werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}
