package loader

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/binance"
	"github.com/streamforge/streamforge/libs/protocol"
)

// TestKindsCoverDataTypes: every data type protocol lists is a kind of
// this engine, parses to it and prints back as itself; every live one has
// a stream handler.
func TestKindsCoverDataTypes(t *testing.T) {
	if len(AllKinds) != len(protocol.DataTypes) || len(kindOf) != len(protocol.DataTypes) {
		t.Fatalf("%d kinds (%d mapped) for %d protocol data types", len(AllKinds), len(kindOf), len(protocol.DataTypes))
	}
	for _, d := range protocol.DataTypes {
		k, ok := kindOf[d.Name]
		if !ok {
			t.Errorf("%s: no kind", d.Name)
			continue
		}
		if k.Live() != d.Live || k.String() != d.Pattern() {
			t.Errorf("%s: kind %v live=%v, want %s live=%v", d.Name, k, k.Live(), d.Pattern(), d.Live)
		}
		if d.Live && !slices.Contains(liveKinds, k) {
			t.Errorf("%s is live but the live loader has no handler for it", d.Name)
		}
		for _, name := range d.Names(false) {
			got, err := ParseDataType(name)
			if err != nil || got.Kind != k || got.String() != name {
				t.Errorf("ParseDataType(%q) = %v (%v), %v", name, got, got.Kind, err)
			}
		}
	}
}

// TestTypeVariableListsDataTypes keeps TYPE's description (and so --help
// and docs/configuration.md) true to protocol.DataTypes.
func TestTypeVariableListsDataTypes(t *testing.T) {
	f, ok := reflect.TypeFor[Config]().FieldByName("Type")
	if !ok {
		t.Fatal("Config has no Type field")
	}
	if desc := f.Tag.Get("desc"); !strings.HasPrefix(desc, protocol.DataTypePatterns()+";") {
		t.Errorf("TYPE desc %q does not start with %q", desc, protocol.DataTypePatterns()+";")
	}
}

// TestLiveRejectsUnhandledKind: a live job of a kind the live loader has
// no case for ends with an error naming it; its messages were once taken
// for depth updates.
func TestLiveRejectsUnhandledKind(t *testing.T) {
	depth := []byte(`{"e":"depthUpdate","E":1722470400000,"s":"BTCUSDT","U":1,"u":2,"b":[["1.0","2.0"]],"a":[]}`)
	for _, k := range []Kind{APICandles, APITrades} {
		t.Run(k.String(), func(t *testing.T) {
			typ := DataType{Kind: k}
			if k == APICandles {
				typ.Interval, _ = binance.ParseInterval("5m")
			}
			if s, err := streamName(typ, "BTCUSDT"); !errors.Is(err, errUnhandled) {
				t.Errorf("streamName = %q, %v; want errUnhandled", s, err)
			}
			l := &live{job: Job{Type: typ, Symbols: []string{"BTCUSDT"}}, m: newMetrics(prometheus.NewRegistry()),
				log: zerolog.Nop(), lat: newLatencies(), syms: map[string]*liveSymbol{}}
			err := l.handle(binance.WSMessage{Stream: "btcusdt@depth@100ms", Data: depth})
			if !errors.Is(err, errUnhandled) || !strings.Contains(err.Error(), "TYPE: "+typ.String()) {
				t.Errorf("handle = %v, want errUnhandled naming TYPE %s", err, typ)
			}
		})
	}
	for _, typ := range []string{"ws_trades", "ws_orderbook", "ws_candles_1m"} {
		d, err := ParseDataType(typ)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := streamName(d, "BTCUSDT"); err != nil {
			t.Errorf("streamName(%s): %v", typ, err)
		}
	}
}
