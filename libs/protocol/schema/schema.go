// Package schema embeds the JSON Schemas (draft 2020-12) of the queue-control
// command and the queue-events event, for tools outside Go and for tests.
package schema

import _ "embed"

// Command is the JSON Schema of a queue-control message.
//
//go:embed command.schema.json
var Command []byte

// Event is the JSON Schema of a queue-events message.
//
//go:embed event.schema.json
var Event []byte
