package app

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/service"
)

// TestConfigValidateReportsEveryProblem: every bad variable is named, and
// STEP_LIMITS is parsed into numbers at start, not when the engine starts.
func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := Config{Launcher: "docker", Limits: "load=8,store=many", Services: "loud=x", Deadlines: "train=forever", MaxAttempts: 0,
		ExchangeLoaders: -1}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want four problems")
	}
	for _, want := range []string{"LAUNCHER: ", "STEP_SERVICES: ", `STEP_LIMITS: store="many" is not a whole number`, "STEP_MAX_ATTEMPTS: ", "EXCHANGE_LOADERS: "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, want it to name %s", err, want)
		}
	}
}

func TestConfigValidateParsesStepSettings(t *testing.T) {
	c := Config{Common: service.Common{HTTPAddr: "127.0.0.1:8080"}, Launcher: "local", Limits: "load=8,train=1", Services: "load=loader-producer", Args: "load=--a --b",
		Deadlines: "load=90m,graph=0", MaxAttempts: 3, ExchangeLoaders: 4, Signing: "required"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o := engineOptions(&c)
	if got, want := o.Limits, map[string]int{"load": 8, "train": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Limits = %v, want %v", got, want)
	}
	if o.ExchangeLoaders != 4 {
		t.Errorf("ExchangeLoaders = %d, want 4", o.ExchangeLoaders)
	}
	if got, want := o.Args, map[string][]string{"load": {"--a", "--b"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Args = %v, want %v", got, want)
	}
	if got, want := o.Services, map[string]string{"load": "loader-producer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Services = %v, want %v", got, want)
	}
	// Kinds STEP_DEADLINES does not name keep the step-kind table's.
	want := map[string]time.Duration{"load": 90 * time.Minute, "store": 6 * time.Hour, "graph": 0, "train": 12 * time.Hour}
	if got := o.Deadlines; !reflect.DeepEqual(got, want) {
		t.Errorf("Deadlines = %v, want %v", got, want)
	}
}
