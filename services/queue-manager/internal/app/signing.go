package app

import (
	"crypto/rand"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
	"github.com/streamforge/streamforge/services/queue-manager/internal/flow"
)

// signing returns the engine's message signing: the mode and the secret
// every task's key derives from (MESSAGE_SIGNING_SECRET, its file, or a
// random one for this process).
func signing(cfg *Config, log zerolog.Logger) (flow.Signing, error) {
	g := flow.Signing{Mode: cfg.signing}
	if g.Mode == protocol.SigningOff {
		log.Warn().Msg("message signing is off: anyone who can write queue-control or queue-events can stop tasks and forge their reports")
		return g, nil
	}
	secret, err := protocol.LoadSigningSecret(cfg.SigningSecret, cfg.SigningFile)
	if err != nil {
		return g, err
	}
	if secret == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return g, fmt.Errorf("message signing secret: %w", err)
		}
		g.Secret = b
		ev := log.Info()
		if cfg.Launcher != "local" {
			ev = log.Warn() // Jobs outlive this process
		}
		ev.Msg("message signing secret generated for this process: workers still running after a restart are not trusted and are relaunched; set MESSAGE_SIGNING_SECRET_FILE to keep it")
		return g, nil
	}
	g.Secret = []byte(secret)
	return g, nil
}
