//go:build integration

package e2e

import (
	"testing"

	"github.com/streamforge/streamforge/libs/bus/bustest"
)

// The integration tier: real Apache Kafka 4.x, issue #4's sizes.

func TestRealExactlyOnce(t *testing.T) { testExactlyOnce(t, bustest.Real(t, false), 1_000_000) }
func TestRealKillRestart(t *testing.T) { testKillRestart(t, bustest.Real(t, false), 1_000_000) }
func TestRealPoison(t *testing.T)      { testPoison(t, bustest.Real(t, false)) }
func TestRealStoreOutage(t *testing.T) { testStoreOutage(t, bustest.Real(t, false)) }
func TestRealStop(t *testing.T)        { testStop(t, bustest.Real(t, false)) }
func TestRealOwnRange(t *testing.T)    { testOwnRange(t, bustest.Real(t, false)) }
