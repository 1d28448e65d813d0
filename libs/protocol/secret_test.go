package protocol

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadSigningSecret: the setting wins over the file, the file's secret
// is trimmed, and a placeholder, a short secret or a missing file is an
// error naming the setting and the problem.
func TestLoadSigningSecret(t *testing.T) {
	good := strings.Repeat("k", 40)
	dir := t.TempDir()
	file := func(content string) string {
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+content[:min(4, len(content))])
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodFile, placeholderFile, shortFile := file(good+"\n"), file(SigningPlaceholder+"-with-the-output-of-openssl-rand-base64-48\n"), file("0123456789")
	for _, tc := range []struct {
		name, secret, file, want, wantErr string
	}{
		{name: "neither"},
		{name: "setting", secret: good, file: shortFile, want: good},
		{name: "file", file: goodFile, want: good},
		{name: "placeholder file", file: placeholderFile, wantErr: "MESSAGE_SIGNING_SECRET_FILE " + placeholderFile + ": still the placeholder"},
		{name: "short file", file: shortFile, wantErr: "MESSAGE_SIGNING_SECRET_FILE " + shortFile + ": at least 32 characters, got 10"},
		{name: "short setting", secret: "short", wantErr: "MESSAGE_SIGNING_SECRET: at least 32 characters, got 5"},
		{name: "missing file", file: filepath.Join(dir, "none"), wantErr: "MESSAGE_SIGNING_SECRET_FILE: open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadSigningSecret(tc.secret, tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadSigningSecret = %q, %v, want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("LoadSigningSecret = %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}
