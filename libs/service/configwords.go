package service

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// readable turns envconfig's errors into "VARIABLE: problem" in plain words:
// what the value should look like, with an example, rather than Go's type
// names and parser internals ("is not a valid int64: invalid syntax").
func readable(err error, t reflect.Type) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		if want := expected(t); want != "" {
			return fmt.Errorf("%s: %q is not %s", pe.KeyName, pe.Value, want)
		}
		return fmt.Errorf("%s: %q: %w", pe.KeyName, pe.Value, pe.Err)
	}
	if key, ok := strings.CutPrefix(err.Error(), "required key "); ok {
		if key, ok = strings.CutSuffix(key, " missing value"); ok {
			return fmt.Errorf("%s: is required", key)
		}
	}
	return err
}

var durationType = reflect.TypeFor[time.Duration]()

// expected says in words what a variable of type t holds, or "" for a type
// with its own decoder (whose error already says it).
func expected(t reflect.Type) string {
	if t == durationType {
		return "a duration (a number with a unit: 500ms, 30s, 5m, 1h30m)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number (e.g. 10)"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more (e.g. 10)"
	case reflect.Float32, reflect.Float64:
		return "a number (e.g. 0.5)"
	case reflect.Slice:
		if e := expected(t.Elem()); e != "" {
			return "a comma-separated list, each " + e
		}
	case reflect.Map:
		return "a comma-separated list of key:value pairs"
	}
	return ""
}
