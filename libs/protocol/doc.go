// Package protocol defines the two service topics every StreamForge component
// speaks: commands on queue-control (written only by queue-manager) and events
// on queue-events (written by every worker), together with the naming rules for
// queue ids, data topics, collections, telemetry ids and Kubernetes objects,
// and the record of a built graph that graph-builder leaves for gnn-trainer
// (GraphRecord).
//
// Field names are the contract fixed by the original design and never change;
// new fields may be added. Messages decoded from the wire keep fields this
// version does not know, and write them back when re-encoded, so an older
// service relaying a newer message loses nothing.
package protocol

// Names of the two service topics.
const (
	TopicControl = "queue-control"
	TopicEvents  = "queue-events"
)
