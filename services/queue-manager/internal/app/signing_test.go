package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/streamforge/streamforge/libs/protocol"
)

// deployPlaceholder is the value deploy/components/secrets-plain ships in the
// Secret streamforge-signing (the deploy test checks it starts with
// protocol.SigningPlaceholder): long enough to pass the length check, so only the
// placeholder check keeps it out.
const deployPlaceholder = "REPLACE-ME-with-the-output-of-openssl-rand-base64-48"

// TestSigningSecretFile: the file's secret is used, trimmed; a placeholder
// or a short secret stops queue-manager with an error naming the file and
// the problem, never a cluster signing with a value from the manifests.
func TestSigningSecretFile(t *testing.T) {
	good := strings.Repeat("k", 40)
	for _, tc := range []struct {
		name, content, wantErr string
	}{
		{name: "secret", content: good + "\n"},
		{name: "placeholder", content: deployPlaceholder + "\n", wantErr: "placeholder"},
		{name: "bare placeholder", content: "REPLACE-ME", wantErr: "placeholder"},
		{name: "short", content: "0123456789", wantErr: "at least 32 characters, got 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := &Config{Launcher: "kubernetes", SigningFile: path, signing: protocol.SigningRequired}
			var logs bytes.Buffer
			g, err := signing(cfg, zerolog.New(&logs))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if string(g.Secret) != good {
					t.Errorf("Secret = %q, want the file's %q", g.Secret, good)
				}
				if strings.Contains(logs.String(), "generated") {
					t.Errorf("a secret was generated although the file holds one: %s", logs.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "MESSAGE_SIGNING_SECRET_FILE "+path) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("signing() = %v, want an error naming MESSAGE_SIGNING_SECRET_FILE %s and %q", err, path, tc.wantErr)
			}
		})
	}
}

// TestConfigValidateRefusesPlaceholderSigningSecret: MESSAGE_SIGNING_SECRET
// set to the deploy placeholder is refused at start like a short one.
func TestConfigValidateRefusesPlaceholderSigningSecret(t *testing.T) {
	c := Config{Launcher: "kubernetes", MaxAttempts: 1, Signing: "required", SigningSecret: deployPlaceholder}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "MESSAGE_SIGNING_SECRET: still the placeholder") {
		t.Errorf("Validate() = %v, want MESSAGE_SIGNING_SECRET named as the placeholder", err)
	}
}
