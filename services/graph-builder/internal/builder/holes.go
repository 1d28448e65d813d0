package builder

import (
	"context"
	"fmt"
	"strings"

	"github.com/streamforge/streamforge/libs/coverage"
	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/libs/store"
)

// maxHolesNamed is how many holes the refusal names.
const maxHolesNamed = 5

// checkHoles refuses a range whose coverage ledger has holes in an input:
// an hour missing, or degraded by more than a WebSocket gap REST closed
// (coverage.Hour.Hole). A graph over a hole would link the bars on either
// side as if they were neighbours, so graph-builder does not bridge it:
// the error is permanent and names the holes; loading the range again (or
// choosing another) is the way on. Hours the ledger has no entry for (data
// loaded before the ledger existed, or outside a workflow) are not holes.
func checkHoles(ctx context.Context, st store.Store, ins []input, from, to int64) error {
	var holes []coverage.Hour
	for _, in := range ins {
		hs, err := coverage.Read(ctx, st, in.symbol, in.typ, coverage.Floor(from), to)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if h.Hole() {
				holes = append(holes, h)
			}
		}
	}
	if len(holes) == 0 {
		return nil
	}
	lines := coverage.Holes(holes)
	more := ""
	if len(lines) > maxHolesNamed {
		more = fmt.Sprintf("; and %d more", len(lines)-maxHolesNamed)
		lines = lines[:maxHolesNamed]
	}
	return protocol.Permanent(fmt.Errorf("the coverage ledger has %d hours with holes in the graph's range, which a graph "+
		"would bridge: %s%s (GET /api/v1/coverage; load the range again or choose another)", len(holes), strings.Join(lines, "; "), more))
}
