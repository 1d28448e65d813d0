package service

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"
)

type pairs map[string]string

func (p *pairs) Decode(s string) error {
	*p = pairs{}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("%q is not key=value", kv)
		}
		(*p)[k] = v
	}
	return nil
}

type inner struct {
	Port int `envconfig:"PORT" default:"80"`
}

type Embedded struct {
	Name string `envconfig:"TEST_NAME" default:"x"`
}

type loadConfig struct {
	Common
	*Embedded
	Limit    int           `envconfig:"TEST_LIMIT" default:"10"`
	Wait     time.Duration `envconfig:"TEST_WAIT" default:"1s"`
	Labels   pairs         `envconfig:"TEST_LABELS" default:"a=1"`
	Untagged string
	Nested   inner  `envconfig:"TEST_NESTED"`
	Skipped  string `envconfig:"TEST_SKIPPED" ignored:"true"`
	hidden   string
}

// TestLoadMatchesEnvconfig: reading variable by variable fills a config as
// envconfig.Process does, names, defaults, decoders and nesting alike.
func TestLoadMatchesEnvconfig(t *testing.T) {
	for k, v := range map[string]string{
		"LOG_LEVEL": "debug", "TEST_LIMIT": "3", "TEST_LABELS": "b=2,c=3", "UNTAGGED": "u",
		"TEST_NESTED_PORT": "8080", "TEST_SKIPPED": "no", "TEST_NAME": "n",
	} {
		t.Setenv(k, v)
	}
	var got, want loadConfig
	if err := load(&got); err != nil {
		t.Fatal(err)
	}
	if err := envconfig.Process("", &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got.Embedded == nil || *got.Embedded != *want.Embedded {
		t.Errorf("load = %+v (%+v), want %+v (%+v)", got, got.Embedded, want, want.Embedded)
	}
	if got.Limit != 3 || got.Labels["c"] != "3" || got.Untagged != "u" || got.Nested.Port != 8080 || got.Skipped != "" || got.ShutdownTimeout != 15*time.Second {
		t.Errorf("load = %+v: variables not read as envconfig reads them", got)
	}
	_ = got.hidden
}

func TestLoadNamesEveryBadVariable(t *testing.T) {
	t.Setenv("TEST_LIMIT", "ten")
	t.Setenv("TEST_LABELS", "nokey")
	t.Setenv("TEST_NESTED_PORT", "http")
	err := load(&loadConfig{})
	if err == nil {
		t.Fatal("load = nil, want three problems")
	}
	for _, name := range []string{"TEST_LIMIT: ", "TEST_LABELS: ", "TEST_NESTED_PORT: "} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("load = %q, want it to name %s", err, name)
		}
	}
}
