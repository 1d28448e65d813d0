package protocol

import "sort"

// This file is the vocabulary of what each StreamForge principal (each entry
// of Services) may do on Kafka. platform/strimzi/kafka-users.yaml (one
// Strimzi KafkaUser per service, simple ACLs) is generated from the
// services' ACLs; access_test.go checks it, and checks each entry against the
// Kafka calls the service's code really makes, so a topic added in code
// without an ACL, or an ACL the code does not need, fails the tests.

// WorkflowPrefix starts every workflow queue id (QueueID.String), hence
// every data topic <queue_id>-data and dead-letter topic <topic>-dlq.
const WorkflowPrefix = "wf-"

// Topic access rights. Describe (metadata, offsets) comes with Read and
// Write; Create lets the service create the topic (KAFKA_CREATE_TOPICS,
// Admin.EnsureTopics), which Kafka checks even when the topic exists.
type Topic struct {
	Name   string // a topic name, or a prefix when Prefix is set
	Prefix bool
	Read   bool
	Write  bool
	Create bool
}

// Group is a consumer group the service joins and commits to (a prefix when
// Prefix is set).
type Group struct {
	Name   string
	Prefix bool
}

// serviceTopicsOnly is the NoCreate reason of a worker that would only
// create the service topics.
const serviceTopicsOnly = "KAFKA_CREATE_TOPICS (default false) would only create queue-control and queue-events, which Strimzi owns"

var (
	workerCreate = []Topic{ // worker.Options.CreateTopics ensures the service topics too
		{Name: TopicControl, Read: true, Create: true},
		{Name: TopicEvents, Write: true, Create: true},
	}
	// A loader writes its data topic and reads its tail back on resume
	// (libs/loader/resume.go), creating it when missing.
	loader = []Topic{workerCreate[0], workerCreate[1], {Name: WorkflowPrefix, Prefix: true, Read: true, Write: true, Create: true}}
)

// ACL is one Strimzi simple-authorization rule (KafkaUser
// spec.authorization.acls[]): allow Operations on a resource.
type ACL struct {
	Type        string // topic or group
	Name        string
	PatternType string // literal or prefix
	Operations  []string
}

// ACLs derives the least-privilege rules of one principal, in a stable
// order: topics then groups, by name.
func (s Service) ACLs() []ACL {
	var out []ACL
	pattern := func(prefix bool) string {
		if prefix {
			return "prefix"
		}
		return "literal"
	}
	for _, t := range s.Topics {
		var ops []string
		if t.Create {
			ops = append(ops, "Create")
		}
		if t.Read || t.Write {
			ops = append(ops, "Describe")
		}
		if t.Read {
			ops = append(ops, "Read")
		}
		if t.Write {
			ops = append(ops, "Write")
		}
		out = append(out, ACL{Type: "topic", Name: t.Name, PatternType: pattern(t.Prefix), Operations: ops})
	}
	for _, g := range s.Groups {
		out = append(out, ACL{Type: "group", Name: g.Name, PatternType: pattern(g.Prefix), Operations: []string{"Read"}})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type > out[j].Type // topic before group
		}
		return out[i].Name < out[j].Name
	})
	return out
}
