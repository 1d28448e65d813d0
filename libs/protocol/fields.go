package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError reports a field that is missing, has the wrong JSON type or
// holds a value outside its domain: a field of a protocol message, or of a
// request to queue-manager's API (where it becomes a problem+json body's
// field and detail). Field is the JSON name of the field (a path such as
// symbols[0] in a request).
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %s", e.Field, e.Problem) }

// Detail is the problem as "<field>: <problem>", for a person reading an API
// error.
func (e *FieldError) Detail() string { return e.Field + ": " + e.Problem }

// Extra holds the fields of a decoded message that this version does not know.
// They are written back unchanged when the message is encoded again.
type Extra map[string]json.RawMessage

// decodeKnown is the fast path of a message decoder: one pass of
// encoding/json into dst, which must have no place for unknown fields. It
// reports unknown=true when the message has a field dst does not know; the
// caller then takes the slower path that keeps such fields.
func decodeKnown(data []byte, dst any) (unknown bool, err error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return false, fmt.Errorf("message is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		if dec.More() {
			return false, fmt.Errorf("message has data after the JSON object")
		}
		return false, nil
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return true, nil
	case errors.As(err, &te):
		return false, &FieldError{Field: te.Field, Problem: "want " + kindName(te.Type.Kind().String()) + ", got " + te.Value}
	default:
		return false, fmt.Errorf("message is not valid JSON: %w", err)
	}
}

func kindName(k string) string {
	switch {
	case k == "string":
		return "a string"
	case k == "bool":
		return "a boolean"
	case strings.HasPrefix(k, "int"):
		return "a whole number"
	default:
		return "a number"
	}
}

// decodeObject splits a JSON object into its members. It returns a
// *FieldError-free syntax error when data is not a JSON object.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("message is not a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("message is not valid JSON: %w", err)
	}
	return m, nil
}

// field decodes one member into dst, naming the field on a type mismatch.
func field(name string, raw json.RawMessage, dst any) error {
	if bytes.Equal(raw, []byte("null")) {
		return nil // null means absent
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return &FieldError{Field: name, Problem: "want " + jsonKind(dst) + ", got " + rawKind(raw)}
	}
	return nil
}

func jsonKind(dst any) string {
	switch dst.(type) {
	case *string:
		return "a string"
	case *bool:
		return "a boolean"
	case *float64, *int64:
		return "a number"
	default:
		return fmt.Sprintf("%T", dst)
	}
}

func rawKind(raw json.RawMessage) string {
	switch c := bytes.TrimSpace(raw); {
	case len(c) == 0:
		return "nothing"
	case c[0] == '"':
		return "a string"
	case c[0] == '{':
		return "an object"
	case c[0] == '[':
		return "an array"
	case c[0] == 't' || c[0] == 'f':
		return "a boolean"
	default:
		return "a number " + string(c)
	}
}

// objectWriter appends JSON object members in a fixed order.
type objectWriter struct {
	buf   []byte
	first bool
}

func newObjectWriter(size int) *objectWriter {
	w := &objectWriter{buf: make([]byte, 0, size), first: true}
	w.buf = append(w.buf, '{')
	return w
}

func (w *objectWriter) key(k string) {
	if !w.first {
		w.buf = append(w.buf, ',')
	}
	w.first = false
	w.buf = appendString(w.buf, k)
	w.buf = append(w.buf, ':')
}

func (w *objectWriter) str(k, v string) {
	w.key(k)
	w.buf = appendString(w.buf, v)
}

func (w *objectWriter) strOmit(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *objectWriter) floatOmit(k string, v float64) {
	if v != 0 {
		w.key(k)
		w.buf = strconv.AppendFloat(w.buf, v, 'f', -1, 64)
	}
}

func (w *objectWriter) raw(k string, v []byte) {
	w.key(k)
	w.buf = append(w.buf, v...)
}

func (w *objectWriter) extra(e Extra) {
	if len(e) == 0 {
		return
	}
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.raw(k, e[k])
	}
}

func (w *objectWriter) bytes() []byte { return append(w.buf, '}') }

// appendString appends s as a JSON string. Plain ASCII (the common case for
// ids, symbols and statuses) is copied directly; anything else goes through
// encoding/json so escaping rules stay exactly the standard library's.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}
