// Package protocol defines the two service topics every StreamForge component
// speaks: commands on queue-control (written only by queue-manager) and events
// on queue-events (written by every worker), together with the naming rules for
// queue ids, data topics, collections, telemetry ids and Kubernetes objects,
// and the record of a built graph that graph-builder leaves for gnn-trainer
// (GraphRecord).
//
// It holds the one table of data types (DataTypes, with KlineIntervals and
// BookLevels) and
// the one table of step kinds (StepKinds). Everything else that lists them —
// the loaders' TYPE parsing, queue-manager's validation, engine and
// configuration, its OpenAPI document, the services' READMEs — derives from
// them or is checked against them by a test, so adding a data type or a step
// kind is one entry here plus the code that handles it.
//
// Naming rule of stored data (stable: stored data is found by it). Market
// data is shared between workflows and named after the first day of the
// data, never the day a workflow was created: CollectionName with DataDay,
// <symbol>_<type>_<yyyy_mm_dd> (time range 2024-08-01:2024-09-01 of BTCUSDT 5m
// candles is btcusdt_api_candles_5m_2024_08_01). Every reader takes exactly
// its symbols and range from such a collection. Derived artefacts belong to
// one workflow and carry its queue-id suffix: the graph is GraphName,
// <symbol>_graph_<yyyy_mm_dd>_<suffix>, and the model is stored under the
// train step's queue id.
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
