package store

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxKeyLen is ArangoDB's limit on _key, in bytes.
const maxKeyLen = 254

// validKeyByte reports whether c may appear in a _key (ArangoDB's traditional
// key rules, which the embedded store applies too, so data moves between
// them unchanged).
func validKeyByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '_', '-', ':', '.', '@', '(', ')', '+', ',', '=', ';', '$', '!', '*', '\'', '%':
		return true
	}
	return false
}

// ValidateKey checks a _key against ArangoDB's rules.
func ValidateKey(k string) string {
	if k == "" {
		return "_key is empty"
	}
	if len(k) > maxKeyLen {
		return "_key is longer than 254 bytes"
	}
	for i := 0; i < len(k); i++ {
		if !validKeyByte(k[i]) {
			return "_key " + strconv.Quote(k) + " has a character ArangoDB does not allow"
		}
	}
	return ""
}

// Meta is what the store reads from a document before writing it.
type Meta struct {
	Key      string
	Symbol   string
	Time     int64
	HasTime  bool
	From, To string
}

// Inspect checks that doc is a JSON object with a valid _key (and, for an
// edge, _from and _to) and returns its indexed fields. Adapters call it for
// every document, so every adapter rejects the same documents for the same
// reasons. The returned *DocError has Index i.
//
// It is on the hot path of every write: the document is validated with
// json.Valid and its top-level members are then scanned without decoding
// the rest, which is several times faster than unmarshalling it.
func Inspect(i int, doc json.RawMessage, edge bool) (Meta, *DocError) {
	d := bytes.TrimSpace(doc)
	if len(d) == 0 || d[0] != '{' {
		return Meta{}, &DocError{Index: i, Reason: "not a JSON object"}
	}
	if !json.Valid(d) {
		var v any
		err := json.Unmarshal(d, &v) // only to say where it breaks
		return Meta{}, &DocError{Index: i, Reason: "not valid JSON: " + errText(err)}
	}
	var key, from, to, symbol, tm []byte
	for name, val := range members(d) {
		switch string(name) {
		case FieldKey:
			key = val
		case FieldFrom:
			from = val
		case FieldTo:
			to = val
		case FieldSymbol:
			symbol = val
		case FieldTime:
			tm = val
		}
	}
	var m Meta
	var ok bool
	if key == nil {
		return Meta{}, &DocError{Index: i, Reason: "no _key"}
	}
	if m.Key, ok = jsonString(key); !ok {
		return Meta{}, &DocError{Index: i, Reason: "_key is not a string"}
	}
	if r := ValidateKey(m.Key); r != "" {
		return Meta{}, &DocError{Index: i, Key: m.Key, Reason: r}
	}
	if symbol != nil && !isNull(symbol) {
		if m.Symbol, ok = jsonString(symbol); !ok {
			return Meta{}, &DocError{Index: i, Key: m.Key, Reason: "symbol is not a string"}
		}
	}
	if tm != nil && !isNull(tm) {
		t, err := strconv.ParseFloat(string(tm), 64)
		if err != nil || t != float64(int64(t)) {
			return Meta{}, &DocError{Index: i, Key: m.Key, Reason: "time is not a whole number of epoch milliseconds"}
		}
		m.Time, m.HasTime = int64(t), true
	}
	if edge {
		if from != nil {
			if m.From, ok = jsonString(from); !ok {
				return Meta{}, &DocError{Index: i, Key: m.Key, Reason: "_from is not a string"}
			}
		}
		if to != nil {
			if m.To, ok = jsonString(to); !ok {
				return Meta{}, &DocError{Index: i, Key: m.Key, Reason: "_to is not a string"}
			}
		}
		if m.From == "" || m.To == "" {
			return Meta{}, &DocError{Index: i, Key: m.Key, Reason: "an edge needs _from and _to"}
		}
	}
	return m, nil
}

func errText(err error) string {
	if err == nil {
		return "unknown syntax error"
	}
	return err.Error()
}

func isNull(v []byte) bool { return string(v) == "null" }

// jsonString decodes a JSON string value; ok is false for any other type.
func jsonString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if in := v[1 : len(v)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// members yields the decoded names and raw values of the top-level members
// of obj, which must be a valid JSON object (json.Valid). A name with
// escapes is decoded; later duplicates come after earlier ones, so the last
// one wins, as with encoding/json.
func members(obj []byte) func(yield func(name, val []byte) bool) {
	return func(yield func(name, val []byte) bool) {
		p := skipSpace(obj, 1)
		for p < len(obj) && obj[p] != '}' {
			end := skipString(obj, p)
			name := obj[p+1 : end-1]
			if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
				if s, ok := jsonString(obj[p:end]); ok {
					name = []byte(s)
				}
			}
			p = skipSpace(obj, end)
			p = skipSpace(obj, p+1) // the ':'
			vend := skipValue(obj, p)
			if !yield(name, obj[p:vend]) {
				return
			}
			p = skipSpace(obj, vend)
			if p < len(obj) && obj[p] == ',' {
				p = skipSpace(obj, p+1)
			}
		}
	}
}

func skipSpace(b []byte, p int) int {
	for p < len(b) && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r') {
		p++
	}
	return p
}

// skipString returns the position just after the string starting at p.
func skipString(b []byte, p int) int {
	for q := p + 1; q < len(b); q++ {
		switch b[q] {
		case '\\':
			q++
		case '"':
			return q + 1
		}
	}
	return len(b)
}

// skipValue returns the position just after the value starting at p.
func skipValue(b []byte, p int) int {
	switch b[p] {
	case '"':
		return skipString(b, p)
	case '{', '[':
		depth := 0
		for q := p; q < len(b); q++ {
			switch b[q] {
			case '"':
				q = skipString(b, q) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return q + 1
				}
			}
		}
		return len(b)
	default: // number, true, false, null
		q := p
		for q < len(b) && b[q] != ',' && b[q] != '}' && b[q] != ']' && b[q] != ' ' && b[q] != '\t' && b[q] != '\n' && b[q] != '\r' {
			q++
		}
		return q
	}
}

// Config selects and configures the store from the environment: ArangoDB
// when ARANGO_URL is set, else the embedded SQLite file at STORE_PATH.
type Config struct {
	ArangoURL      string        `envconfig:"ARANGO_URL" desc:"ArangoDB endpoint(s), comma-separated; empty uses the embedded store"`
	ArangoDB       string        `envconfig:"ARANGO_DB" default:"streamforge" desc:"ArangoDB database"`
	ArangoUser     string        `envconfig:"ARANGO_USER" default:"root" desc:"ArangoDB user"`
	ArangoPassword string        `envconfig:"ARANGO_PASSWORD" secret:"true" desc:"ArangoDB password"`
	ArangoCAFile   string        `envconfig:"ARANGO_CA_FILE" desc:"PEM CA bundle for https endpoints"`
	StorePath      string        `envconfig:"STORE_PATH" default:"./data/streamforge.db" desc:"the embedded SQLite file (used when ARANGO_URL is empty)"`
	BusyTimeout    time.Duration `envconfig:"STORE_BUSY_TIMEOUT" default:"5s" desc:"embedded store: how long a write waits for another process's lock before the store counts as unavailable"`
}
