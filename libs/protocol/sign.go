package protocol

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Messages you can trust. Anyone who may write queue-control or
// queue-events could otherwise speak for queue-manager or for any worker: a
// forged stop ends a task, a forged finished makes a connector stop reading
// and queue-manager record a step as done. So every task has a key, known
// to queue-manager and to the workers of that task only, and both sides
// sign what they send (Sig: HMAC-SHA256 over the message's canonical
// encoding: json.Marshal of it without sig, whose MarshalJSON writes the
// known fields in a fixed order and the unknown ones sorted, and which
// encoding/json compacts, so that what was sent and what was received
// encode the same) and check what they act
// on.
//
// The key is per task (queue id), not per attempt, because a connector
// checks its loader's finished event across the loader's relaunches; run
// ids already tell the attempts of a task apart, and a stale run's events
// are ignored whatever their signature. queue-manager derives each task's
// key from its own secret (TaskKey), so it needs no store for keys and
// never shows them in its API; a worker gets its task's key in MESSAGE_KEY.

// SigningMode says how messages are signed and checked (MESSAGE_SIGNING).
type SigningMode string

// The signing modes.
const (
	// SigningOff neither signs nor checks.
	SigningOff SigningMode = "off"
	// SigningPermissive signs, refuses wrongly signed messages and accepts
	// (and counts) unsigned ones: for a rolling upgrade, while some
	// senders do not sign yet.
	SigningPermissive SigningMode = "permissive"
	// SigningRequired signs and accepts only correctly signed messages.
	SigningRequired SigningMode = "required"
)

// ParseSigningMode parses a MESSAGE_SIGNING value.
func ParseSigningMode(s string) (SigningMode, error) {
	switch m := SigningMode(s); m {
	case SigningOff, SigningPermissive, SigningRequired:
		return m, nil
	}
	return "", fmt.Errorf("%q is not off, permissive or required", s)
}

// SigCheck is what checking a message's signature found.
type SigCheck string

// The results of a check; they are the reason label of the metrics that
// count refused messages.
const (
	SigValid    SigCheck = "valid"
	SigUnsigned SigCheck = "unsigned"
	SigInvalid  SigCheck = "bad_signature"
)

// Accepts reports whether a message whose check found c may be acted on.
func (m SigningMode) Accepts(c SigCheck) bool {
	switch m {
	case SigningRequired:
		return c == SigValid
	case SigningPermissive:
		return c != SigInvalid
	}
	return true
}

// TaskKey derives the signing key of the task queueID from queue-manager's
// secret.
func TaskKey(secret []byte, queueID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("streamforge task key v1\x00" + queueID))
	return m.Sum(nil)
}

// ParseKey decodes a MESSAGE_KEY value (hex).
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(s)
	if err != nil || len(k) < 16 {
		return nil, fmt.Errorf("want at least 16 bytes in hex")
	}
	return k, nil
}

// Domain separators: a signed event is never a valid command.
const (
	eventDomain   = "streamforge event v1\x00"
	commandDomain = "streamforge command v1\x00"
)

func mac(key []byte, domain string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(domain))
	m.Write(body)
	return m.Sum(nil)
}

// check compares sig with the MAC of body.
func check(key []byte, domain, sig string, body []byte) SigCheck {
	if sig == "" {
		return SigUnsigned
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(key) == 0 || !hmac.Equal(got, mac(key, domain, body)) {
		return SigInvalid
	}
	return SigValid
}

// Sign sets e.Sig with key; an empty key leaves the event unsigned.
func (e *Event) Sign(key []byte) {
	e.Sig = ""
	if len(key) == 0 {
		return
	}
	b, _ := json.Marshal(e) // never fails
	e.Sig = hex.EncodeToString(mac(key, eventDomain, b))
}

// CheckSig checks e's signature with key.
func (e Event) CheckSig(key []byte) SigCheck {
	sig := e.Sig
	e.Sig = ""
	b, _ := json.Marshal(e)
	return check(key, eventDomain, sig, b)
}

// Sign sets c.Sig with key; an empty key leaves the command unsigned.
func (c *Command) Sign(key []byte) {
	c.Sig = ""
	if len(key) == 0 {
		return
	}
	b, _ := json.Marshal(c)
	c.Sig = hex.EncodeToString(mac(key, commandDomain, b))
}

// CheckSig checks c's signature with key.
func (c Command) CheckSig(key []byte) SigCheck {
	sig := c.Sig
	c.Sig = ""
	b, _ := json.Marshal(c)
	return check(key, commandDomain, sig, b)
}
