package protocol

// GraphsCollection is the store collection holding one record per named
// graph: graph-builder writes it (key: the graph's name) when the graph is
// built, gnn-trainer reads it to find the graph's collections, features and
// provenance, and people read it to see how a graph was made.
const GraphsCollection = "graphs"

// GraphRecord is the body of a graph's record in GraphsCollection.
type GraphRecord struct {
	Name             string         `json:"name"`
	VertexCollection string         `json:"vertex_collection"`
	EdgeCollection   string         `json:"edge_collection"`
	Kind             string         `json:"kind"` // visibility, horizontal_visibility or correlation
	Method           string         `json:"method,omitempty"`
	QueueID          string         `json:"queue_id"`
	Symbols          []string       `json:"symbols"`
	Interval         string         `json:"interval"`
	TimeRange        string         `json:"time_range,omitempty"`
	Inputs           []string       `json:"inputs"`   // the collections read
	Features         []string       `json:"features"` // the names of each vertex's features, in order
	Nodes            int            `json:"nodes"`
	Edges            int            `json:"edges"`
	Labelled         int            `json:"labelled"`
	Snapshots        int            `json:"snapshots,omitempty"`
	FirstTime        int64          `json:"first_time"` // epoch ms of the first and last vertex
	LastTime         int64          `json:"last_time"`
	Degree           GraphDegree    `json:"degree"`
	Trades           int64          `json:"trades_folded,omitempty"`
	Params           map[string]any `json:"params"`
}

// GraphDegree is a graph's degree distribution.
type GraphDegree struct {
	Min      int     `json:"min"`
	Max      int     `json:"max"`
	Mean     float64 `json:"mean"`
	Median   float64 `json:"median"`
	Isolated int     `json:"isolated"`
}
