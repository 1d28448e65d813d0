//go:build integration

package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus/bustest"
)

func TestRealWorkflowFinishes(t *testing.T) { testWorkflowFinishes(t, bustest.Real(t, false)) }
func TestRealKilledWorkerRelaunched(t *testing.T) {
	testKilledWorkerRelaunched(t, bustest.Real(t, false))
}
func TestRealStop(t *testing.T)           { testStop(t, bustest.Real(t, false)) }
func TestRealRestart(t *testing.T)        { testRestart(t, bustest.Real(t, false)) }
func TestRealOneEngine(t *testing.T)      { testOneEngine(t, bustest.Real(t, false)) }
func TestRealForgedMessages(t *testing.T) { testForgedMessages(t, bustest.Real(t, false)) }
