package debugproducer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/streamforge/streamforge/services/dummy-service/internal/debugproducer"
)

func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no queue id", []string{"--command", "ping"}, nil, "--queue-id is required"},
		{"unknown command", []string{"--queue-id", "q", "--command", "explode"}, nil, `--command "explode"`},
		{"pong with stop", []string{"--queue-id", "q", "--command", "stop", "--expect-pong"}, nil, "--expect-pong goes with --command ping"},
		{"finish with ping", []string{"--queue-id", "q", "--expect-finish"}, nil, "--expect-finish goes with --command stop"},
		{"a workflow id", []string{"--queue-id", "wf-btcusdt-workflow-20240801-a1b2c3", "--command", "stop"}, nil,
			"is a workflow id, not a step's queue_id"},
		{"no brokers", []string{"--queue-id", "q"}, map[string]string{"KAFKA_BOOTSTRAP_SERVERS": ""}, "KAFKA_BOOTSTRAP_SERVERS"},
		{"bad protocol", []string{"--queue-id", "q"}, map[string]string{"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := debugproducer.Main(context.Background(), tt.args, &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr.String())
			}
			line := strings.TrimSpace(stderr.String())
			if strings.Contains(line, "\n") || !strings.Contains(line, tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", line, tt.want)
			}
		})
	}
}

func TestHelpListsKafkaVariables(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := debugproducer.Main(context.Background(), []string{"--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"--queue-id", "expect-pong", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SASL_MECHANISM", "KAFKA_PASSWORD"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--help lacks %s", want)
		}
	}
}
