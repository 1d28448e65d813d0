package binance

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestExchangeInfoFromRecording(t *testing.T) {
	raw, err := io.ReadAll(openFixture(t, "ws-recording/BINANCE.0"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n") // line 2 is the recorder's configuration
	_, rest, _ := strings.Cut(first, " -> ")
	_, body, ok := strings.Cut(rest, ": ")
	if !ok {
		t.Fatalf("BINANCE.0 is not \"<url> -> <time>: <json>\": %.80q", raw)
	}
	var info ExchangeInfo
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	// The 2021 recording predates today's 6000: the budget must come from the answer.
	if got, want := info.WeightPerMinute(), 1200; got != want {
		t.Errorf("WeightPerMinute = %d, want %d", got, want)
	}
	if err := info.Validate("NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"); err != nil {
		t.Errorf("recorded symbols rejected: %v", err)
	}
	err = info.Validate("BTCUSDT", "NOPEUSDT")
	if err == nil || !strings.Contains(err.Error(), "NOPEUSDT (unknown)") || strings.Contains(err.Error(), "BTCUSDT") {
		t.Errorf("Validate error = %v, want only NOPEUSDT named", err)
	}
}
