package protocol

// This file is the one list of StreamForge's programs. Everything that names
// them all is derived from it: Go code reads Services directly; the Strimzi
// KafkaUsers and their README table, copy-kafka-secrets.sh, the CI
// deployer's RBAC and the Vault SecretProviderClass are written from it by
// platform/devstack/cmd/servicelists (make generate), and make lint fails
// when one of them is stale. go.work's use list is checked against it.

// Role says how a service runs.
type Role int

const (
	// Orchestrator serves the API and launches the workers (queue-manager).
	Orchestrator Role = iota + 1
	// Worker runs one step of a workflow: queue-manager launches it as a
	// Kubernetes Job or a child process.
	Worker
	// Tool is run by a person; it is built in another service's module and
	// ships in that service's image.
	Tool
)

// KafkaUserPrefix starts the name of every service's KafkaUser (and SASL
// user): KafkaUserPrefix + Service.Name.
const KafkaUserPrefix = "streamforge-"

// Service is one StreamForge program, and the Kafka principal it logs in
// as: what it may do on Kafka (Topics, Groups) is least privilege, checked
// by access_test.go against the Kafka calls its code makes.
type Service struct {
	Name string
	Role Role
	// Module is the directory under services/ whose module builds a Tool
	// (and whose image ships it); a service with Module empty has its own
	// module, VERSION and image at services/<Name>.
	Module string
	Topics []Topic
	Groups []Group
	// NoCreate, when set, says why the service gets no Create right although
	// its code can create topics (an option left off in a cluster).
	NoCreate string
}

// Dir returns the directory under services/ that builds the service.
func (s Service) Dir() string {
	if s.Module != "" {
		return s.Module
	}
	return s.Name
}

// Main returns the path of the service's main package from the repository
// root: services/<Dir>/cmd/<Name>.
func (s Service) Main() string { return "services/" + s.Dir() + "/cmd/" + s.Name }

// OwnModule reports whether the service is a module (and an image) of its
// own rather than a tool inside another.
func (s Service) OwnModule() bool { return s.Module == "" }

// KafkaUser returns the name of the service's Strimzi KafkaUser.
func (s Service) KafkaUser() string { return KafkaUserPrefix + s.Name }

// Services lists every StreamForge program: the orchestrator, then the
// workers, then the tools.
var Services = []Service{
	{Name: "queue-manager", Role: Orchestrator,
		Topics:   []Topic{{Name: TopicControl, Write: true}, {Name: TopicEvents, Read: true}},
		Groups:   []Group{{Name: "queue-manager"}}, // EVENTS_GROUP
		NoCreate: "KAFKA_CREATE_TOPICS stays false in a cluster: Strimzi KafkaTopics own queue-control and queue-events"},
	{Name: "loader-producer", Role: Worker, Topics: loader},
	{Name: "loader-api-candles", Role: Worker, Topics: loader},
	{Name: "loader-api-trades", Role: Worker, Topics: loader},
	{Name: "loader-ws-orderbook", Role: Worker, Topics: loader},
	{Name: "arango-connector", Role: Worker, // reads data, writes <topic>-dlq, follows the loader on queue-events
		Topics: []Topic{workerCreate[0], {Name: TopicEvents, Read: true, Write: true, Create: true},
			{Name: WorkflowPrefix, Prefix: true, Read: true, Write: true, Create: true}},
		Groups: []Group{{Name: "arango-connector-" + WorkflowPrefix, Prefix: true}}}, // CONNECTOR_GROUP default
	// graph-builder and gnn-trainer read the store, not Kafka data: they only
	// listen on queue-control and report on queue-events.
	{Name: "graph-builder", Role: Worker, Topics: []Topic{{Name: TopicControl, Read: true}, {Name: TopicEvents, Write: true}}, NoCreate: serviceTopicsOnly},
	{Name: "gnn-trainer", Role: Worker, Topics: []Topic{{Name: TopicControl, Read: true}, {Name: TopicEvents, Write: true}}, NoCreate: serviceTopicsOnly},
	{Name: "dummy-service", Role: Worker, // simulated loads write the task's data topic
		Topics: []Topic{workerCreate[0], workerCreate[1], {Name: WorkflowPrefix, Prefix: true, Write: true, Create: true}}},
	{Name: "debug-producer", Role: Tool, Module: "dummy-service", // ping/stop commands from a person
		Topics: []Topic{{Name: TopicControl, Write: true}, {Name: TopicEvents, Read: true}}},
}

// ServiceNames returns the names of the services keep accepts (every one
// when keep is nil), in table order.
func ServiceNames(keep func(Service) bool) []string {
	var out []string
	for _, s := range Services {
		if keep == nil || keep(s) {
			out = append(out, s.Name)
		}
	}
	return out
}

// IsWorker accepts the workers (for ServiceNames).
func IsWorker(s Service) bool { return s.Role == Worker }

// HasModule accepts the services with a module and image of their own (for
// ServiceNames).
func HasModule(s Service) bool { return s.OwnModule() }

// LookupService returns the service named name; ok is false when there is
// none.
func LookupService(name string) (s Service, ok bool) {
	for _, s := range Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}
