package protocol_test

import (
	"encoding/json"
	"testing"

	"github.com/streamforge/streamforge/libs/protocol"
)

// plainEvent is the same message as protocol.Event without the
// forward-compatible codec: encoding/json on it is the baseline the
// protocol codec is compared with in docs/benchmarks.md.
type plainEvent struct {
	QueueID        string  `json:"queue_id"`
	Producer       string  `json:"producer"`
	Symbol         string  `json:"symbol,omitempty"`
	Type           string  `json:"type,omitempty"`
	Status         string  `json:"status"`
	Message        string  `json:"message,omitempty"`
	RecordsWritten int64   `json:"records_written"`
	Finished       bool    `json:"finished"`
	Timestamp      float64 `json:"timestamp"`
}

var benchEvent = protocol.Event{
	QueueID: "wf-btcusdt-api_candles_5m-20240801-a1b2c3", Producer: "arango-connector__a1b2c3", Symbol: "BTCUSDT",
	Type: "api_candles_5m", Status: protocol.StatusLoading, Message: "Saved 15000 records", RecordsWritten: 15000,
	Timestamp: 1722500125.456,
}

func BenchmarkEventEncode(b *testing.B) {
	b.Run("protocol", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := benchEvent.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=encoding_json", func(b *testing.B) {
		p := plainEvent{benchEvent.QueueID, benchEvent.Producer, benchEvent.Symbol, benchEvent.Type, string(benchEvent.Status), benchEvent.Message, benchEvent.RecordsWritten, benchEvent.Finished, benchEvent.Timestamp}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEventDecode(b *testing.B) {
	raw, _ := benchEvent.MarshalJSON()
	b.Run("protocol", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := protocol.DecodeEvent(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			var p plainEvent
			if err := json.Unmarshal(raw, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCommandDecode(b *testing.B) {
	raw := []byte(`{"command":"start","queue_id":"wf-btcusdt-api_candles_5m-20240801-a1b2c3","target":"loader-producer","symbol":"BTCUSDT","type":"api_candles_5m","time_range":"2024-08-01:2024-08-02","kafka_topic":"wf-btcusdt-api_candles_5m-20240801-a1b2c3-data","collection_name":"btcusdt_api_candles_5m_2024_08_01","telemetry_id":"loader-producer__a1b2c3","image":"registry.dmz.home/streamforge/loader-producer:v0.2.0","timestamp":1722500000.123}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := protocol.DecodeCommand(raw); err != nil {
			b.Fatal(err)
		}
	}
}
