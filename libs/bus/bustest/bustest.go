// Package bustest starts Kafka brokers for tests: the embedded broker, or the
// real Apache Kafka started by platform/kafka/kafka.sh when the integration
// environment (KAFKA_IT_*) is set; a broker of a test's own (Dedicated); or,
// for fault tests, a three-node cluster behind toxiproxy (StartCluster).
package bustest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

// Embedded starts an embedded broker for the test and returns its settings.
func Embedded(t testing.TB, o embedded.Options) bus.Config {
	t.Helper()
	b, err := embedded.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Config()
}

// Real returns settings for the real broker started by
// platform/kafka/kafka.sh: PLAINTEXT, or the SASL SCRAM-SHA-512 listener when
// sasl is true. The test fails when the integration environment is not set:
// integration tests run only through `make test-integration`.
func Real(t testing.TB, sasl bool) bus.Config {
	t.Helper()
	addr := os.Getenv("KAFKA_IT_BOOTSTRAP")
	if addr == "" {
		t.Fatal("KAFKA_IT_BOOTSTRAP is not set: run integration tests with `make test-integration`, which starts Kafka")
	}
	cfg := bus.Config{BootstrapServers: addr, SecurityProtocol: bus.Plaintext, SASLMechanism: bus.ScramSHA512, DialTimeout: 10 * time.Second}
	if sasl {
		cfg.BootstrapServers = os.Getenv("KAFKA_IT_SASL_BOOTSTRAP")
		cfg.SecurityProtocol = bus.SASLPlaintext
		cfg.SASLMechanism = envOr("KAFKA_IT_MECHANISM", bus.ScramSHA512)
		cfg.Username = os.Getenv("KAFKA_IT_USERNAME")
		cfg.Password = os.Getenv("KAFKA_IT_PASSWORD")
		if cfg.BootstrapServers == "" || cfg.Username == "" {
			t.Fatal("KAFKA_IT_SASL_BOOTSTRAP/KAFKA_IT_USERNAME are not set: run `make test-integration`")
		}
	}
	return cfg
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Topics creates topics on the broker behind cfg and fails the test on error.
func Topics(t testing.TB, cfg bus.Config, partitions int, names ...string) {
	t.Helper()
	a, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	specs := make([]bus.TopicSpec, len(names))
	for i, n := range names {
		specs[i] = bus.TopicSpec{Name: n, Partitions: partitions, ReplicationFactor: 1}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.EnsureTopics(ctx, specs...); err != nil {
		t.Fatal(err)
	}
}
