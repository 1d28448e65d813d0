package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
	"github.com/streamforge/streamforge/libs/bus/bustest"
	"github.com/streamforge/streamforge/libs/bus/embedded"
)

func plain(t *testing.T) bus.Config { return bustest.Embedded(t, embedded.Options{}) }

func TestEmbeddedWorkflowFinishes(t *testing.T)       { testWorkflowFinishes(t, plain(t)) }
func TestEmbeddedKilledWorkerRelaunched(t *testing.T) { testKilledWorkerRelaunched(t, plain(t)) }
func TestEmbeddedStop(t *testing.T)                   { testStop(t, plain(t)) }
func TestEmbeddedRestart(t *testing.T)                { testRestart(t, plain(t)) }
func TestEmbeddedOneEngine(t *testing.T)              { testOneEngine(t, plain(t)) }
func TestEmbeddedKafkaOutage(t *testing.T)            { testKafkaOutage(t) }
