package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/streamforge/streamforge/libs/protocol"
)

// targets are the generated files and regions. To add one, write a render
// function and list it here (and give a hand-written file the region's two
// marker lines).
var targets = []target{
	{Path: "platform/strimzi/kafka-users.yaml", Render: kafkaUsers},
	{Path: "platform/strimzi/README.md", Region: "kafka-access", Render: accessTable},
	{Path: "platform/strimzi/copy-kafka-secrets.sh", Region: "services", Render: copySecretsList},
	{Path: "platform/rbac/ci-deployer.yaml", Region: "kafka-user-secrets", Render: deployerSecretNames},
	{Path: "deploy/components/secrets-vault/secretproviderclass.yaml", Region: "kafka-user-objects", Render: vaultObjects},
	{Path: "deploy/components/secrets-vault/secretproviderclass.yaml", Region: "kafka-user-secrets", Render: vaultSecrets},
	{Path: ".gitlab/ci-templates/services.yml", Render: ciMatrix},
}

// ciMatrix is the list of services .gitlab/ci-templates/service-jobs.yml
// runs its lint, test, build and deploy jobs for: every service with a
// module (and an image) of its own, in alphabetical order.
func ciMatrix() string {
	var names []string
	for _, s := range protocol.Services {
		if s.OwnModule() {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(header("#"))
	b.WriteString(".services:\n  parallel:\n    matrix:\n      - SERVICE:\n")
	for _, n := range names {
		b.WriteString("          - " + n + "\n")
	}
	return b.String()
}

// kafkaSecretPrefix starts the Secret each service's Kafka credentials are
// copied to in the StreamForge namespace (the lab's JOB_SERVICE_SECRET_PREFIX).
const kafkaSecretPrefix = "streamforge-kafka-"

// kafkaUsers is one Strimzi KafkaUser per service with its ACLs.
func kafkaUsers() string {
	var b strings.Builder
	b.WriteString("# One Strimzi KafkaUser per StreamForge principal: SCRAM-SHA-512 and least-privilege\n" +
		"# simple ACLs, checked against each service's code by libs/protocol/access_test.go.\n")
	b.WriteString(header("#"))
	b.WriteString("# Describe comes with Read and Write (metadata, offsets); Create is granted where the\n" +
		"# service creates per-workflow topics (wf-...-data, wf-...-data-dlq) itself.\n")
	for i, s := range protocol.Services {
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "apiVersion: kafka.strimzi.io/v1\nkind: KafkaUser\nmetadata:\n  name: %s\n", s.KafkaUser())
		fmt.Fprintf(&b, "  labels:\n    strimzi.io/cluster: k3\n    app.kubernetes.io/name: %s\n", s.Name)
		b.WriteString("spec:\n  authentication:\n    type: scram-sha-512\n  authorization:\n    type: simple\n")
		acls := s.ACLs()
		if len(acls) == 0 {
			b.WriteString("    acls: []  # does not use Kafka yet\n")
			continue
		}
		b.WriteString("    acls:\n")
		for _, a := range acls {
			fmt.Fprintf(&b, "      - resource:\n          type: %s\n          name: %s\n          patternType: %s\n", a.Type, a.Name, a.PatternType)
			fmt.Fprintf(&b, "        operations: [%s]\n", strings.Join(a.Operations, ", "))
		}
	}
	return b.String()
}

// copySecretsList is the script's default list of services to copy.
func copySecretsList() string {
	var b strings.Builder
	b.WriteString("SERVICES=(\n")
	for _, s := range protocol.Services {
		b.WriteString("  " + s.Name + "\n")
	}
	b.WriteString(")\n")
	return b.String()
}

// deployerSecretNames are the KafkaUser Secrets the CI deployer may read in
// the Kafka namespace.
func deployerSecretNames() string {
	var b strings.Builder
	for _, s := range protocol.Services {
		b.WriteString("- " + s.KafkaUser() + "\n")
	}
	return b.String()
}

// vaultObjects are the Vault entries of each service's KafkaUser.
func vaultObjects() string {
	var b strings.Builder
	for _, s := range protocol.Services {
		for _, key := range []string{"username", "password"} {
			fmt.Fprintf(&b, "- objectName: kafka-%s-%s\n  secretPath: secret/data/streamforge/kafka-users/%s\n  secretKey: %s\n",
				s.Name, key, s.Name, key)
		}
	}
	return b.String()
}

// vaultSecrets are the Secrets the CSI driver syncs each service's KafkaUser
// into, named as the launcher's JOB_SERVICE_SECRET_PREFIX expects.
func vaultSecrets() string {
	var b strings.Builder
	for _, s := range protocol.Services {
		fmt.Fprintf(&b, "- secretName: %s%s\n  type: Opaque\n  labels:\n    app.kubernetes.io/part-of: streamforge\n  data:\n", kafkaSecretPrefix, s.Name)
		fmt.Fprintf(&b, "    - objectName: kafka-%s-username\n      key: KAFKA_USERNAME\n", s.Name)
		fmt.Fprintf(&b, "    - objectName: kafka-%s-password\n      key: KAFKA_PASSWORD\n", s.Name)
	}
	return b.String()
}

// accessTable is the README's table of who may do what on Kafka.
func accessTable() string {
	var b strings.Builder
	b.WriteString("| principal | queue-control | queue-events | `wf-` topics (data, `-dlq`) | group | Create |\n|---|---|---|---|---|---|\n")
	for _, s := range protocol.Services {
		name := s.Name
		if s.Role == protocol.Tool {
			name += " (a tool in the " + s.Module + " image)"
		}
		rights := map[string]string{}
		var creates []string
		for _, t := range s.Topics {
			var ops []string
			if t.Read {
				ops = append(ops, "read")
			}
			if t.Write {
				ops = append(ops, "write")
			}
			rights[t.Name] = strings.Join(ops, ", ")
			if t.Create {
				creates = append(creates, "`"+t.Name+"`")
			}
		}
		var groups []string
		for _, g := range s.Groups {
			if g.Prefix {
				groups = append(groups, "prefix `"+g.Name+"`")
			} else {
				groups = append(groups, "`"+g.Name+"`")
			}
		}
		create := strings.Join(creates, ", ")
		if create == "" {
			create = "no"
			if s.NoCreate != "" {
				create += ": " + s.NoCreate
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", name, dash(rights[protocol.TopicControl]),
			dash(rights[protocol.TopicEvents]), dash(rights[protocol.WorkflowPrefix]), dash(strings.Join(groups, ", ")), create)
	}
	return b.String()
}

// dash stands in for an empty table cell.
func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
