package exactjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Unmarshal decodes the JSON value data into v, a non-nil pointer, as
// json.Unmarshal does except that an object member fills a struct field only
// when its name equals the field's JSON name exactly. Members without such a
// field are ignored. It returns encoding/json's *json.SyntaxError for data
// that is not JSON, and otherwise errors that name the member path where
// decoding failed.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode into %T: want a non-nil pointer", v)
	}
	if !json.Valid(data) {
		var x any
		return json.Unmarshal(data, &x) // the syntax error, with its offset
	}
	return decodeExact(data, rv.Elem())
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

func decodeExact(data []byte, rv reflect.Value) error {
	if !hasObjects(rv.Type()) {
		return json.Unmarshal(data, rv.Addr().Interface())
	}
	if isNull(data) {
		rv.SetZero()
		return nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return decodeExact(data, rv.Elem())
	case reflect.Struct:
		return decodeStruct(data, rv)
	case reflect.Slice:
		if rv.IsNil() {
			rv.Set(reflect.MakeSlice(rv.Type(), 0, 0)) // [] is an empty slice, not nil
		}
		rv.SetLen(0)
		return eachElement(data, func(i int, elem []byte) error {
			rv.Set(reflect.Append(rv, reflect.New(rv.Type().Elem()).Elem()))
			return decodeExact(elem, rv.Index(i))
		})
	case reflect.Array:
		rv.SetZero()
		return eachElement(data, func(i int, elem []byte) error {
			if i >= rv.Len() {
				return nil // as encoding/json: extra elements are dropped
			}
			return decodeExact(elem, rv.Index(i))
		})
	}
	return fmt.Errorf("decode into %s: maps of objects are not supported", rv.Type())
}

func decodeStruct(data []byte, rv reflect.Value) error {
	i, err := ObjectStart(data)
	if err != nil {
		return fmt.Errorf("decode into %s: %w", rv.Type(), err)
	}
	fields := exactFields(rv.Type())
	for {
		key, val, next, done, err := NextMember(data, i)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		i = next
		if idx, ok := fields[string(key)]; ok {
			if err := decodeExact(val, rv.Field(idx)); err != nil {
				return fmt.Errorf("member %q: %w", key, err)
			}
		}
	}
}

// eachElement calls fn with the index and raw value of every element of the
// JSON array data.
func eachElement(data []byte, fn func(i int, elem []byte) error) error {
	i := SkipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return errors.New("not a JSON array")
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return nil
	}
	for n := 0; ; n++ {
		end, err := SkipValue(data, i)
		if err != nil {
			return fmt.Errorf("element %d: %w", n, err)
		}
		if err := fn(n, data[i:end]); err != nil {
			return fmt.Errorf("element %d: %w", n, err)
		}
		i = SkipSpace(data, end)
		switch {
		case i >= len(data):
			return errors.New("unterminated array")
		case data[i] == ']':
			return nil
		case data[i] != ',':
			return fmt.Errorf("offset %d: want ',' or ']'", i)
		}
		i = SkipSpace(data, i+1)
	}
}

func isNull(data []byte) bool {
	i := SkipSpace(data, 0)
	return len(data)-i >= 4 && string(data[i:i+4]) == "null"
}

var (
	fieldCache  sync.Map // reflect.Type -> map[string]int
	objectCache sync.Map // reflect.Type -> bool
)

// exactFields maps the JSON names of t's exported fields to their indexes.
func exactFields(t reflect.Type) map[string]int {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]int)
	}
	f := map[string]int{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = sf.Name
		}
		f[name] = i
	}
	fieldCache.Store(t, f)
	return f
}

// hasObjects reports whether decoding t may match object members to struct
// fields: t is, or holds, a struct that does not decode itself.
func hasObjects(t reflect.Type) bool {
	if v, ok := objectCache.Load(t); ok {
		return v.(bool)
	}
	var has bool
	switch {
	case reflect.PointerTo(t).Implements(jsonUnmarshaler):
	case t.Kind() == reflect.Struct:
		has = true
	case t.Kind() == reflect.Pointer, t.Kind() == reflect.Slice, t.Kind() == reflect.Array, t.Kind() == reflect.Map:
		has = hasObjects(t.Elem())
	}
	objectCache.Store(t, has)
	return has
}
