//go:build integration

package scenario

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/platform/devstack/internal/stack"
)

// TestRealScenario1OwnUsers runs Scenario 1 (a week) on a real broker with
// KRaft's StandardAuthorizer, every service logged in as its own
// SCRAM-SHA-512 user with exactly the ACLs of the access table
// (libs/protocol/access.go, what the Strimzi KafkaUsers are generated
// from): queue-manager as streamforge-queue-manager, each worker as its
// service's user (LOCAL_SERVICE_ENV_DIR), and the workflow finishes.
func TestRealScenario1OwnUsers(t *testing.T) {
	users := map[string]string{}
	for _, s := range protocol.Services {
		users[s.KafkaUser()] = s.Name + "-secret"
	}
	b := bustest.Dedicated(t, bustest.BrokerOptions{Authorizer: true, Users: users})
	bustest.Topics(t, b.Config(), 3, protocol.TopicControl, protocol.TopicEvents)
	dir := t.TempDir()
	for _, s := range protocol.Services {
		b.Allow(t, s.KafkaUser(), s.ACLs())
		// A worker creates its data topics when its user may (the loaders,
		// the connector's dead-letter topic), never queue-control or
		// queue-events, which exist as Strimzi's KafkaTopics would.
		create := false
		for _, tp := range s.Topics {
			create = create || tp.Prefix && tp.Create
		}
		env := "KAFKA_USERNAME=" + s.KafkaUser() + "\nKAFKA_PASSWORD=" + users[s.KafkaUser()] + "\n"
		if create {
			env += "KAFKA_CREATE_TOPICS=true\n"
		} else {
			env += "KAFKA_CREATE_TOPICS=false\n"
		}
		if err := os.WriteFile(filepath.Join(dir, s.Name+".env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	qm, _ := protocol.LookupService("queue-manager")
	sasl := b.SASLConfig(qm.KafkaUser(), users[qm.KafkaUser()])
	testScenario1(t, stack.Options{Kafka: sasl.BootstrapServers, ExchangeAddr: "127.0.0.1:0", Env: []string{
		"KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM=SCRAM-SHA-512",
		"KAFKA_USERNAME=" + qm.KafkaUser(), "KAFKA_PASSWORD=" + users[qm.KafkaUser()], "KAFKA_CREATE_TOPICS=false",
		"EVENTS_GROUP=" + qm.Groups[0].Name, "LOCAL_SERVICE_ENV_DIR=" + dir,
	}}, "2026-10-01:2026-10-08")
}
