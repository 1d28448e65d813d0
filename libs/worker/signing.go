package worker

import (
	"errors"
	"fmt"

	"github.com/streamforge/streamforge/libs/protocol"
)

// SigningSettings are how a worker signs its events and checks the
// commands it acts on (protocol/sign.go); queue-manager sets both for the
// workers it launches. Embed them in a service's Config (Settings does),
// call Validate, and Apply them to the worker's Options.
type SigningSettings struct {
	Signing string `envconfig:"MESSAGE_SIGNING" default:"off" desc:"off, permissive or required: sign events with MESSAGE_KEY and act only on commands signed with it (permissive: unsigned ones too); set by queue-manager"`
	Key     string `envconfig:"MESSAGE_KEY" desc:"the task's signing key (hex), set by queue-manager; required when MESSAGE_SIGNING is not off"`

	mode protocol.SigningMode
	key  []byte
}

// Validate parses the settings, naming the variable at fault.
func (s *SigningSettings) Validate() error {
	var errs []error
	var err error
	mode := s.Signing
	if mode == "" {
		mode = string(protocol.SigningOff) // the default, for a Config not read from the environment
	}
	if s.mode, err = protocol.ParseSigningMode(mode); err != nil {
		errs = append(errs, fmt.Errorf("MESSAGE_SIGNING: %w", err))
	}
	switch {
	case s.Key != "":
		if s.key, err = protocol.ParseKey(s.Key); err != nil {
			errs = append(errs, fmt.Errorf("MESSAGE_KEY: %w", err))
		}
	case s.mode == protocol.SigningPermissive || s.mode == protocol.SigningRequired:
		errs = append(errs, fmt.Errorf("MESSAGE_KEY: is required with MESSAGE_SIGNING=%s", s.mode))
	}
	return errors.Join(errs...)
}

// Apply returns o with the validated settings' Signing and Key.
func (s *SigningSettings) Apply(o Options) Options {
	o.Signing, o.Key = s.mode, s.key
	return o
}
