package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// inspectRef is the straightforward implementation of Inspect (decode with
// encoding/json), kept as the reference the fast scanner must agree with.
func inspectRef(i int, doc json.RawMessage, edge bool) (Meta, *DocError) {
	d := bytes.TrimSpace(doc)
	if len(d) == 0 || d[0] != '{' {
		return Meta{}, &DocError{Index: i, Reason: "not a JSON object"}
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(d, &f); err != nil {
		return Meta{}, &DocError{Index: i, Reason: "not valid JSON"}
	}
	var m Meta
	raw, ok := f[FieldKey]
	if !ok {
		return Meta{}, &DocError{Index: i, Reason: "no _key"}
	}
	if err := json.Unmarshal(raw, &m.Key); err != nil || raw[0] != '"' {
		return Meta{}, &DocError{Index: i, Reason: "_key is not a string"}
	}
	if r := ValidateKey(m.Key); r != "" {
		return Meta{}, &DocError{Index: i, Reason: r}
	}
	if raw, ok := f[FieldSymbol]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &m.Symbol); err != nil || raw[0] != '"' {
			return Meta{}, &DocError{Index: i, Reason: "symbol"}
		}
	}
	if raw, ok := f[FieldTime]; ok && string(raw) != "null" {
		var t float64
		if err := json.Unmarshal(raw, &t); err != nil || t != float64(int64(t)) {
			return Meta{}, &DocError{Index: i, Reason: "time"}
		}
		m.Time, m.HasTime = int64(t), true
	}
	if edge {
		for _, k := range []string{FieldFrom, FieldTo} {
			raw, ok := f[k]
			var s string
			if !ok || json.Unmarshal(raw, &s) != nil || raw[0] != '"' || s == "" {
				return Meta{}, &DocError{Index: i, Reason: "edge"}
			}
			if k == FieldFrom {
				m.From = s
			} else {
				m.To = s
			}
		}
	}
	return m, nil
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		edge   bool
		want   Meta
		reason string // a substring of the rejection; "" = accepted
	}{
		{"candle", `{"_key":"BTCUSDT_1m_1","symbol":"BTCUSDT","time":1722470400000,"open":1.5}`, false, Meta{Key: "BTCUSDT_1m_1", Symbol: "BTCUSDT", Time: 1722470400000, HasTime: true}, ""},
		{"spaces and nesting", " {\n \"x\" : {\"_key\":\"inner\",\"a\":[1,{\"b\":\"}\"}]} , \"_key\" : \"k\\u0041\" } ", false, Meta{Key: "kA"}, ""},
		{"escaped member name", `{"\u005fkey":"k1","time":5e2}`, false, Meta{Key: "k1", Time: 500, HasTime: true}, ""},
		{"last duplicate wins", `{"_key":"a","_key":"b"}`, false, Meta{Key: "b"}, ""},
		{"null symbol and time", `{"_key":"a","symbol":null,"time":null}`, false, Meta{Key: "a"}, ""},
		{"edge", `{"_key":"e","_from":"v/1","_to":"v/2"}`, true, Meta{Key: "e", From: "v/1", To: "v/2"}, ""},
		{"array", `[1]`, false, Meta{}, "not a JSON object"},
		{"empty", ``, false, Meta{}, "not a JSON object"},
		{"broken", `{"_key":"a",}`, false, Meta{}, "not valid JSON"},
		{"trailing garbage", `{"_key":"a"} x`, false, Meta{}, "not valid JSON"},
		{"no key", `{"symbol":"X"}`, false, Meta{}, "no _key"},
		{"nested key only", `{"a":{"_key":"x"}}`, false, Meta{}, "no _key"},
		{"numeric key", `{"_key":7}`, false, Meta{}, "_key is not a string"},
		{"bad key char", `{"_key":"a b"}`, false, Meta{}, "character"},
		{"slash in key", `{"_key":"a/b"}`, false, Meta{}, "character"},
		{"time string", `{"_key":"a","time":"soon"}`, false, Meta{}, "time"},
		{"time fraction", `{"_key":"a","time":1.5}`, false, Meta{}, "time"},
		{"symbol number", `{"_key":"a","symbol":1}`, false, Meta{}, "symbol"},
		{"edge without to", `{"_key":"e","_from":"v/1"}`, true, Meta{}, "_from and _to"},
		{"edge numeric from", `{"_key":"e","_from":1,"_to":"v/2"}`, true, Meta{}, "_from is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, derr := Inspect(3, json.RawMessage(tt.doc), tt.edge)
			if tt.reason == "" {
				if derr != nil {
					t.Fatalf("rejected: %v", derr)
				}
				if got != tt.want {
					t.Errorf("Inspect = %+v, want %+v", got, tt.want)
				}
				return
			}
			if derr == nil || !strings.Contains(derr.Reason, tt.reason) || derr.Index != 3 {
				t.Errorf("Inspect = %+v, %v; want a rejection at index 3 mentioning %q", got, derr, tt.reason)
			}
		})
	}
}

// foldedName reports whether doc has a top-level name that matches one of
// the store's fields only without regard to case: encoding/json's
// case-insensitive matching differs there, on purpose.
func foldedName(doc []byte) bool {
	var f map[string]json.RawMessage
	if json.Unmarshal(doc, &f) != nil {
		return false
	}
	for k := range f {
		for _, n := range []string{FieldKey, FieldFrom, FieldTo, FieldSymbol, FieldTime} {
			if k != n && strings.EqualFold(k, n) {
				return true
			}
		}
	}
	return false
}

func FuzzInspectMatchesReference(f *testing.F) {
	for _, s := range []string{
		`{"_key":"BTCUSDT_1m_1","symbol":"BTCUSDT","time":1722470400000,"open":1.5}`,
		`{"_key":"e","_from":"v/1","_to":"v/2","w":[1,{"a":"\""}]}`,
		`{"x":{"_key":"in"},"_key":"o\u0041","time":-5}`,
		`{"_key":"a","time":1e3,"symbol":null}`,
		`{"_key":"a",}`, `[]`, `{}`, `{"_key":7}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, doc []byte, edge bool) {
		if foldedName(doc) {
			t.Skip()
		}
		got, gerr := Inspect(0, doc, edge)
		want, werr := inspectRef(0, doc, edge)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("Inspect(%q) error %v, reference %v", doc, gerr, werr)
		}
		if gerr == nil && got != want {
			t.Fatalf("Inspect(%q) = %+v, reference %+v", doc, got, want)
		}
	})
}

func BenchmarkInspect(b *testing.B) {
	doc := json.RawMessage(`{"_key":"BTCUSDT_1m_1722470400000","symbol":"BTCUSDT","interval":"1m","time":1722470400000,"open":64150.01,"high":64201.5,"low":64100.02,"close":64190.4,"volume":12.34567,"quote_volume":792345.12,"trades":1234}`)
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := Inspect(0, doc, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=decode", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := inspectRef(0, doc, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
