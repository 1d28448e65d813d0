package app

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"

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
	secret := cfg.SigningSecret
	if secret == "" && cfg.SigningFile != "" {
		b, err := os.ReadFile(cfg.SigningFile)
		if err != nil {
			return g, fmt.Errorf("MESSAGE_SIGNING_SECRET_FILE: %w", err)
		}
		secret = strings.TrimSpace(string(b))
		if err := checkSigningSecret(secret); err != nil {
			return g, fmt.Errorf("MESSAGE_SIGNING_SECRET_FILE %s: %w", cfg.SigningFile, err)
		}
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

// signingPlaceholder starts the value deploy/components/secrets-plain ships
// in the Secret streamforge-signing: a manifest anyone can read must not
// become a cluster's signing secret.
const signingPlaceholder = "REPLACE-ME"

// checkSigningSecret refuses a secret too short to derive keys from or one
// still holding the deploy placeholder.
func checkSigningSecret(s string) error {
	if strings.HasPrefix(s, signingPlaceholder) {
		return errors.New("still the placeholder of deploy/components/secrets-plain: generate a secret (openssl rand -base64 48) and store it in the Secret streamforge-signing, key secret (deploy/README.md)")
	}
	if len(s) < 32 {
		return fmt.Errorf("at least 32 characters, got %d", len(s))
	}
	return nil
}
