package stack

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// signingFile is queue-manager's message signing secret in the data
// directory: kept across restarts, so workflows resumed by a new stack and
// debug-producer (MESSAGE_SIGNING_SECRET_FILE=data/signing.secret) sign and
// check with the same task keys.
const signingFile = "signing.secret"

// signingSecret returns the path of dir's signing secret, made (48 random
// bytes, readable by the owner only) when there is none.
func signingSecret(dir string) (string, error) {
	path := filepath.Join(dir, signingFile)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("signing secret: %w", err)
	}
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("signing secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("signing secret: %w", err)
	}
	return path, nil
}
