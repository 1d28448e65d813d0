// Package exactjson decodes the exchange's JSON payloads with object members
// matched to struct fields by their exact names, and scans JSON objects
// member by member without allocating, for the stream decoders of package
// binance and the exchange simulator.
//
// Binance's payloads carry members whose names differ only in case: an
// aggregate trade has m (the buyer is the maker) and M (the trade was the
// best price match), a depth update U and u, a kline t and T, l and L, q and
// Q, v and V. encoding/json matches a member to a field case-insensitively
// when no field has its exact name, so a struct that declares m but not M
// silently takes M's value. Every payload is therefore decoded here; a test
// keeps encoding/json's decoding out of package binance and the simulator.
package exactjson

import (
	"errors"
	"fmt"
)

// The stream payloads are decoded by a small scanner over the members of one
// JSON object instead of encoding/json: it allocates nothing, which matters
// at tens of thousands of messages per second.

// ErrNotObject is returned for a value that should be a JSON object and is
// not.
var ErrNotObject = errors.New("not a JSON object")

// NextMember returns the key (raw, without quotes) and the raw value of the
// object member that starts at data[i] (i just after '{' or ','), and the
// index after the value's trailing ',' or '}'. done is true at the closing
// '}'.
func NextMember(data []byte, i int) (key, val []byte, next int, done bool, err error) {
	i = SkipSpace(data, i)
	if i < len(data) && data[i] == '}' {
		return nil, nil, i + 1, true, nil
	}
	if i >= len(data) || data[i] != '"' {
		return nil, nil, 0, false, fmt.Errorf("offset %d: want a member name", i)
	}
	end, err := skipString(data, i)
	if err != nil {
		return nil, nil, 0, false, err
	}
	key = data[i+1 : end-1]
	i = SkipSpace(data, end)
	if i >= len(data) || data[i] != ':' {
		return nil, nil, 0, false, fmt.Errorf("offset %d: want ':' after %q", i, key)
	}
	i = SkipSpace(data, i+1)
	end, err = SkipValue(data, i)
	if err != nil {
		return nil, nil, 0, false, fmt.Errorf("member %q: %w", key, err)
	}
	val = data[i:end]
	i = SkipSpace(data, end)
	if i >= len(data) {
		return nil, nil, 0, false, fmt.Errorf("member %q: unterminated object", key)
	}
	switch data[i] {
	case ',':
		return key, val, i + 1, false, nil
	case '}':
		return key, val, i, false, nil // the next call sees '}' and reports done
	}
	return nil, nil, 0, false, fmt.Errorf("offset %d: want ',' or '}' after %q", i, key)
}

// ObjectStart returns the index after the '{' that opens data.
func ObjectStart(data []byte) (int, error) {
	i := SkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return 0, ErrNotObject
	}
	return i + 1, nil
}

// member returns the raw value of the top-level member key of the object in
// data; ok is false when the object has no such member or is malformed.
func Member(data []byte, key string) (val []byte, ok bool) {
	i, err := ObjectStart(data)
	if err != nil {
		return nil, false
	}
	for {
		k, v, next, done, err := NextMember(data, i)
		if err != nil || done {
			return nil, false
		}
		if string(k) == key {
			return v, true
		}
		i = next
	}
}

func SkipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that opens at data[i].
func skipString(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

// SkipValue returns the index after the JSON value that starts at data[i].
// Scalars are only delimited here; their syntax is checked when decoded.
func SkipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errors.New("missing value")
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := skipString(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated object or array")
	}
	j := i
scalar:
	for ; j < len(data); j++ {
		switch data[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			break scalar
		}
	}
	if j == i {
		return 0, fmt.Errorf("offset %d: unexpected %q", i, data[i])
	}
	return j, nil
}
