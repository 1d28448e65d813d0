package bus_test

import (
	"strings"
	"testing"

	"github.com/streamforge/streamforge/libs/bus"
)

func TestConfigValidateNamesVariable(t *testing.T) {
	good := bus.Config{BootstrapServers: "a:9092, b:9092", SecurityProtocol: bus.Plaintext, SASLMechanism: bus.ScramSHA512, DialTimeout: 1e9}
	tests := []struct {
		name string
		edit func(*bus.Config)
		want string // the variable the error must name; "" = valid
	}{
		{"plaintext", func(*bus.Config) {}, ""},
		{"sasl ok", func(c *bus.Config) { c.SecurityProtocol, c.Username, c.Password = bus.SASLSSL, "u", "p" }, ""},
		{"sasl password file", func(c *bus.Config) { c.SecurityProtocol, c.Username, c.PasswordFile = bus.SASLPlaintext, "u", "/f" }, ""},
		{"empty servers", func(c *bus.Config) { c.BootstrapServers = " , " }, "KAFKA_BOOTSTRAP_SERVERS"},
		{"no port", func(c *bus.Config) { c.BootstrapServers = "kafka" }, "KAFKA_BOOTSTRAP_SERVERS"},
		{"bad protocol", func(c *bus.Config) { c.SecurityProtocol = "SASL_TLS" }, "KAFKA_SECURITY_PROTOCOL"},
		{"bad mechanism", func(c *bus.Config) { c.SecurityProtocol, c.SASLMechanism = bus.SASLSSL, "GSSAPI" }, "KAFKA_SASL_MECHANISM"},
		{"sasl no user", func(c *bus.Config) { c.SecurityProtocol, c.Password = bus.SASLSSL, "p" }, "KAFKA_USERNAME"},
		{"sasl no password", func(c *bus.Config) { c.SecurityProtocol, c.Username = bus.SASLSSL, "u" }, "KAFKA_PASSWORD"},
		{"cert without key", func(c *bus.Config) { c.CertFile = "/c" }, "KAFKA_KEY_FILE"},
		{"zero timeout", func(c *bus.Config) { c.DialTimeout = 0 }, "KAFKA_DIAL_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestConfigValidateReportsEveryProblem: three bad settings, three
// problems, each naming its variable.
func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := bus.Config{BootstrapServers: "kafka", SecurityProtocol: bus.SASLSSL, SASLMechanism: "GSSAPI", Username: "u", Password: "p", DialTimeout: 1e9}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate = nil")
	}
	for _, v := range []string{"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SASL_MECHANISM"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("Validate = %q, want a problem naming %s", err, v)
		}
	}
	c.DialTimeout = 0
	if err := c.Validate(); !strings.Contains(err.Error(), "KAFKA_DIAL_TIMEOUT") || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("Validate = %q, want three lines, the last naming KAFKA_DIAL_TIMEOUT", err)
	}
}
