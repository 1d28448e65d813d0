package bustest

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/protocol"
)

// scramUsers is BrokerOptions.Users as kafka.sh's KAFKA_SCRAM_USERS.
func scramUsers(users map[string]string) string {
	var out []string
	for name, pass := range users {
		out = append(out, name+"="+pass)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// SASLConfig returns client settings for the broker's SASL_PLAINTEXT
// listener as user (one of BrokerOptions.Users).
func (b *Broker) SASLConfig(user, password string) bus.Config {
	return bus.Config{BootstrapServers: b.sasl, SecurityProtocol: bus.SASLPlaintext, SASLMechanism: bus.ScramSHA512,
		Username: user, Password: password, DialTimeout: 10 * time.Second}
}

// aclOps maps the operations of protocol.ACL (Strimzi's names) to Kafka's.
var aclOps = map[string]kmsg.ACLOperation{
	"Read": kmsg.ACLOperationRead, "Write": kmsg.ACLOperationWrite, "Create": kmsg.ACLOperationCreate,
	"Describe": kmsg.ACLOperationDescribe, "Delete": kmsg.ACLOperationDelete, "Alter": kmsg.ACLOperationAlter,
}

// Allow grants user the rules acls (as protocol.Service.ACLs derives them
// for a Strimzi KafkaUser), through the super user's PLAINTEXT listener.
func (b *Broker) Allow(t testing.TB, user string, acls []protocol.ACL) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateACLsRequest()
	for _, a := range acls {
		rt, pt := kmsg.ACLResourceTypeTopic, kmsg.ACLResourcePatternTypeLiteral
		if a.Type == "group" {
			rt = kmsg.ACLResourceTypeGroup
		}
		if a.PatternType == "prefix" {
			pt = kmsg.ACLResourcePatternTypePrefixed
		}
		for _, op := range a.Operations {
			kop, ok := aclOps[op]
			if !ok {
				t.Fatalf("ACL %+v: unknown operation %s", a, op)
			}
			c := kmsg.NewCreateACLsRequestCreation()
			c.ResourceType, c.ResourceName, c.ResourcePatternType = rt, a.Name, pt
			c.Principal, c.Host, c.Operation, c.PermissionType = "User:"+user, "*", kop, kmsg.ACLPermissionTypeAllow
			req.Creations = append(req.Creations, c)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("create ACLs for %s: %v", user, err)
	}
	for i, r := range resp.Results {
		if r.ErrorCode != 0 {
			msg := ""
			if r.ErrorMessage != nil {
				msg = *r.ErrorMessage
			}
			t.Fatalf("create ACL %+v for %s: error %d %s", req.Creations[i], user, r.ErrorCode, msg)
		}
	}
}
