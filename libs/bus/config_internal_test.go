package bus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigReadsFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{BootstrapServers: "a:1", SecurityProtocol: SSL, CAFile: notPEM, DialTimeout: 1e9}
	if _, err := c.dialer(); err == nil || !strings.Contains(err.Error(), "KAFKA_CA_FILE") {
		t.Errorf("dialer with a non-PEM CA = %v, want an error naming KAFKA_CA_FILE", err)
	}
	c = Config{BootstrapServers: "a:1", SecurityProtocol: SASLPlaintext, SASLMechanism: ScramSHA512, Username: "u", PasswordFile: filepath.Join(dir, "missing"), DialTimeout: 1e9}
	if _, err := c.transport(); err == nil || !strings.Contains(err.Error(), "KAFKA_PASSWORD_FILE") {
		t.Errorf("transport with a missing password file = %v, want an error naming KAFKA_PASSWORD_FILE", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.PasswordFile = filepath.Join(dir, "pw")
	tr, err := c.transport()
	if err != nil {
		t.Fatalf("transport: %v", err)
	}
	if tr.SASL == nil || tr.SASL.Name() != ScramSHA512 {
		t.Errorf("transport SASL = %v, want %s", tr.SASL, ScramSHA512)
	}
}
