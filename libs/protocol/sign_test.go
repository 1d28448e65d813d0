package protocol

import (
	"encoding/json"
	"testing"
)

// TestSignatures: a signed message checks valid after a round trip through
// JSON (unknown fields and results included); changing any field, using
// another task's key, or an event's signature on a command makes it
// invalid; no signature is unsigned. The modes accept what they say.
func TestSignatures(t *testing.T) {
	secret := []byte("queue-manager's secret, 32 bytes")
	key, other := TaskKey(secret, "wf-btcusdt-api_trades-20240801-a1b2c3"), TaskKey(secret, "wf-btcusdt-api_trades-20240801-ffffff")
	ev := Event{QueueID: "wf-btcusdt-api_trades-20240801-a1b2c3", Producer: "loader-producer__a1b2c3", Status: StatusFinished,
		Finished: true, RecordsWritten: 42, Timestamp: 1722470400.123, RunID: "r.1", Result: json.RawMessage(`{"a": [1, 2]}`),
		Extra: Extra{"future": json.RawMessage(`{"x":"é"}`)}}
	ev.Sign(key)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.CheckSig(key); c != SigValid {
		t.Errorf("signed event after a round trip: %s, want valid", c)
	}
	if c := got.CheckSig(other); c != SigInvalid {
		t.Errorf("another task's key: %s, want %s", c, SigInvalid)
	}
	tampered := got
	tampered.RecordsWritten++
	if c := tampered.CheckSig(key); c != SigInvalid {
		t.Errorf("tampered event: %s, want %s", c, SigInvalid)
	}
	unsigned := got
	unsigned.Sig = ""
	if c := unsigned.CheckSig(key); c != SigUnsigned {
		t.Errorf("unsigned event: %s, want %s", c, SigUnsigned)
	}

	cmd := Command{Command: CommandStop, QueueID: ev.QueueID, Target: "loader-producer__a1b2c3", Timestamp: 1722470400.5, RunID: "r.1"}
	cmd.Sign(key)
	b, _ = json.Marshal(cmd)
	gotCmd, err := DecodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	if c := gotCmd.CheckSig(key); c != SigValid {
		t.Errorf("signed command: %s, want valid", c)
	}
	gotCmd.RunID = "r.2"
	if c := gotCmd.CheckSig(key); c != SigInvalid {
		t.Errorf("command with another run: %s, want %s", c, SigInvalid)
	}
	forged := Command{Command: CommandStop, QueueID: ev.QueueID, Timestamp: 1722470400.5, Sig: got.Sig}
	if c := forged.CheckSig(key); c != SigInvalid {
		t.Errorf("an event's signature on a command: %s, want %s", c, SigInvalid)
	}

	for _, tt := range []struct {
		m                        SigningMode
		valid, unsigned, invalid bool
	}{
		{SigningOff, true, true, true},
		{SigningPermissive, true, true, false},
		{SigningRequired, true, false, false},
	} {
		if tt.m.Accepts(SigValid) != tt.valid || tt.m.Accepts(SigUnsigned) != tt.unsigned || tt.m.Accepts(SigInvalid) != tt.invalid {
			t.Errorf("%s accepts valid/unsigned/invalid = %v/%v/%v, want %v/%v/%v", tt.m, tt.m.Accepts(SigValid),
				tt.m.Accepts(SigUnsigned), tt.m.Accepts(SigInvalid), tt.valid, tt.unsigned, tt.invalid)
		}
	}
	if _, err := ParseSigningMode("on"); err == nil {
		t.Error("ParseSigningMode accepted on")
	}
}
