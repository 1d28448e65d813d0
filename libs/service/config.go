package service

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Common is the configuration every service shares. Embed it in a service's
// config struct.
type Common struct {
	HTTPAddr        string        `envconfig:"HTTP_ADDR" default:":8080" desc:"listener for /metrics, /healthz, /readyz (and the API of queue-manager)"`
	LogLevel        string        `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"15s" desc:"how long a shutdown may take before the process exits anyway"`
}

// CommonConfig gives the runtime the shared part of a service's config.
func (c *Common) CommonConfig() *Common { return c }

// Validate checks the shared settings; errors name the variable.
func (c *Common) Validate() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("SHUTDOWN_TIMEOUT: must be positive, got %s", c.ShutdownTimeout)
	}
	return nil
}

type validator interface{ Validate() error }

// validate calls Validate on every embedded struct that has one, then on the
// config itself, so a service composing bus.Config, protocol.Task and Common
// gets all their checks without repeating them.
func validate(cfg any) error {
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
				if err := val.Validate(); err != nil {
					return err
				}
			}
		}
	}
	if val, ok := cfg.(validator); ok {
		return val.Validate()
	}
	return nil
}

// Effective returns the configuration as environment variable names and
// values, with secrets (fields tagged secret:"true", or whose variable names
// a password, secret, token or key) masked. It is what a service logs at
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
