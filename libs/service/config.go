package service

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/streamforge/streamforge/libs/redact"
)

// Common is the configuration every service shares. Embed it in a service's
// config struct.
type Common struct {
	HTTPAddr        string        `envconfig:"HTTP_ADDR" default:":8080" desc:"listener for /metrics, /healthz, /readyz (and the API of queue-manager)"`
	MetricsAddr     string        `envconfig:"METRICS_ADDR" desc:"a listener of its own for /metrics (empty: /metrics is on HTTP_ADDR)"`
	ReadTimeout     time.Duration `envconfig:"HTTP_READ_TIMEOUT" default:"30s" desc:"longest a request (headers and body) may take to arrive"`
	WriteTimeout    time.Duration `envconfig:"HTTP_WRITE_TIMEOUT" default:"60s" desc:"longest an answer may take to send (event streams excepted)"`
	IdleTimeout     time.Duration `envconfig:"HTTP_IDLE_TIMEOUT" default:"120s" desc:"how long an idle keep-alive connection stays open"`
	LogLevel        string        `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"15s" desc:"how long a shutdown may take before the process exits anyway"`
}

// CommonConfig gives the runtime the shared part of a service's config.
func (c *Common) CommonConfig() *Common { return c }

// Validate checks the shared settings and reports every problem, each
// naming its variable.
func (c *Common) Validate() error {
	var errs []error
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT: must be positive, got %s", c.ShutdownTimeout))
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"HTTP_READ_TIMEOUT", c.ReadTimeout}, {"HTTP_WRITE_TIMEOUT", c.WriteTimeout}, {"HTTP_IDLE_TIMEOUT", c.IdleTimeout}} {
		if t.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", t.name, t.d))
		}
	}
	return errors.Join(errs...)
}

type validator interface{ Validate() error }

// validate calls Validate on every embedded struct that has one, then on the
// config itself, so a service composing bus.Config, protocol.Task and Common
// gets all their checks without repeating them. It reports every problem at
// once (errors.Join), each once even when two checks find it.
func validate(cfg any) error {
	var errs []error
	// one adds a problem unless an earlier check reported it already (the
	// same message, or one the new message only elaborates on).
	one := func(err error) {
		for _, e := range errs {
			if strings.HasPrefix(err.Error(), e.Error()) {
				return
			}
		}
		errs = append(errs, err)
	}
	var add func(err error)
	add = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
		} else if err != nil {
			one(err)
		}
	}
	v := reflect.ValueOf(cfg)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.Anonymous || !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if fv.CanAddr() {
				fv = fv.Addr()
			}
			if val, ok := fv.Interface().(validator); ok {
				add(val.Validate())
			}
		}
	}
	if val, ok := cfg.(validator); ok {
		add(val.Validate())
	}
	return errors.Join(errs...)
}

// load fills cfg (a pointer to a struct) from the environment as
// envconfig.Process does, but reads each variable on its own so that every
// variable that is missing or does not parse is reported, not only the
// first. Each error names the variable.
func load(cfg any) error {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return envconfig.ErrInvalidSpecification
	}
	var errs []error
	loadStruct(v.Elem(), &errs)
	return errors.Join(errs...)
}

func loadStruct(v reflect.Value, errs *[]error) {
	t := v.Type()
	for i := 0; i < v.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if ignored, _ := strconv.ParseBool(f.Tag.Get("ignored")); !fv.CanSet() || ignored {
			continue
		}
		if f.Anonymous { // an embedded struct's variables are the outer struct's
			sv := fv
			if sv.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				if sv.IsNil() {
					sv.Set(reflect.New(f.Type.Elem()))
				}
				sv = sv.Elem()
			}
			if sv.Kind() == reflect.Struct && !decodes(sv) {
				loadStruct(sv, errs)
				continue
			}
		}
		// A struct of this one field, name and tags and all, gives envconfig
		// exactly the field to process, with the same variable, default and
		// decoder.
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
		one.Elem().Field(0).Set(fv)
		if err := envconfig.Process("", one.Interface()); err != nil {
			*errs = append(*errs, readable(err, f.Type))
			continue
		}
		fv.Set(one.Elem().Field(0))
	}
}

// decodes reports whether envconfig reads the struct v from one variable.
func decodes(v reflect.Value) bool {
	p := v.Addr().Interface()
	switch p.(type) {
	case envconfig.Decoder, envconfig.Setter, encoding.TextUnmarshaler, encoding.BinaryUnmarshaler:
		return true
	}
	return false
}

// Effective returns the configuration as environment variable names and
// values, with secrets (fields tagged secret:"true", or whose variable names
// a password, secret, token or key) and the credentials inside URLs masked. It is what a service logs at
// start.
func Effective(cfg any) map[string]string {
	out := map[string]string{}
	effective(reflect.ValueOf(cfg), out)
	return out
}

func effective(v reflect.Value, out map[string]string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() || f.Tag.Get("ignored") == "true" {
			continue
		}
		name := f.Tag.Get("envconfig")
		if name == "" {
			if f.Anonymous || f.Type.Kind() == reflect.Struct {
				effective(v.Field(i), out)
			}
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		if val != "" && isSecret(f, name) {
			val = "*****"
		}
		val = redact.URLs(val) // http://user:pass@host: the password

		out[name] = val
	}
}

func isSecret(f reflect.StructField, name string) bool {
	if f.Tag.Get("secret") == "true" {
		return true
	}
	n := strings.ToUpper(name)
	if strings.HasSuffix(n, "_FILE") {
		return false // a path, not the secret itself
	}
	for _, s := range []string{"PASSWORD", "SECRET", "TOKEN", "_KEY"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
