package protocol

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// SigningPlaceholder starts the value deploy/components/secrets-plain ships
// in the Secret streamforge-signing: a manifest anyone can read must not
// become a cluster's signing secret.
const SigningPlaceholder = "REPLACE-ME"

// MinSecretLen is the shortest signing secret task keys are derived from.
const MinSecretLen = 32

// CheckSigningSecret refuses a secret too short to derive keys from or one
// still holding the deploy placeholder.
func CheckSigningSecret(s string) error {
	if strings.HasPrefix(s, SigningPlaceholder) {
		return errors.New("still the placeholder of deploy/components/secrets-plain: generate a secret (openssl rand -base64 48) and store it in the Secret streamforge-signing, key secret (deploy/README.md)")
	}
	if len(s) < MinSecretLen {
		return fmt.Errorf("at least %d characters, got %d", MinSecretLen, len(s))
	}
	return nil
}

// LoadSigningSecret returns queue-manager's message signing secret as its
// settings give it: MESSAGE_SIGNING_SECRET (secret), else the trimmed
// content of MESSAGE_SIGNING_SECRET_FILE (file); "" when neither is set. A
// secret CheckSigningSecret refuses is an error naming the setting.
func LoadSigningSecret(secret, file string) (string, error) {
	name := "MESSAGE_SIGNING_SECRET"
	if secret == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("MESSAGE_SIGNING_SECRET_FILE: %w", err)
		}
		secret, name = strings.TrimSpace(string(b)), "MESSAGE_SIGNING_SECRET_FILE "+file
	}
	if secret == "" {
		return "", nil
	}
	if err := CheckSigningSecret(secret); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return secret, nil
}
