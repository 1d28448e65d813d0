package binance

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeLive: each record kind the live loaders publish decodes as
// itself, told by the member only it has, from the encoding they use.
func TestDecodeLive(t *testing.T) {
	trade := AggTrade{Symbol: "BTCUSDT", Time: 1, AggID: 7, Price: 10.5, Qty: 2, FirstID: 1, LastID: 2, BuyerMaker: true}
	snap := BookSnapshot{Symbol: "BTCUSDT", Time: 2, LastUpdateID: 9, Bids: []Level{{10, 1}}, Asks: []Level{{11, 2}}}
	diff := BookDiff{Symbol: "BTCUSDT", Time: 3, FirstUpdateID: 10, FinalUpdateID: 12, Bids: []Level{{10, 0}}, Asks: []Level{}}
	gap := Gap{Symbol: "BTCUSDT", Time: 4, From: 13, To: 20, Reason: "reconnect"}
	for _, tc := range []struct {
		name string
		in   []byte
		want LiveRecord
	}{
		{"trade", trade.AppendJSON(nil), LiveRecord{Kind: LiveTrade, Trade: trade}},
		{"snapshot", snap.AppendJSON(nil), LiveRecord{Kind: LiveSnapshot, Snapshot: snap}},
		{"diff", diff.AppendJSON(nil), LiveRecord{Kind: LiveDiff, Diff: diff}},
		{"gap", gap.AppendJSON(nil), LiveRecord{Kind: LiveGap, Gap: gap}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeLive(tc.in)
			if err != nil {
				t.Fatalf("DecodeLive(%s): %v", tc.in, err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if _, err := DecodeLive([]byte(`{"symbol":"BTCUSDT","price":1}`)); !errors.Is(err, ErrUnknownRecord) {
		t.Errorf("an unknown record: %v, want ErrUnknownRecord", err)
	}
	if _, err := DecodeLive([]byte(`{"AGG_ID":1}`)); !errors.Is(err, ErrUnknownRecord) {
		t.Errorf("a member in other case: %v, want ErrUnknownRecord (names match exactly)", err)
	}
}
