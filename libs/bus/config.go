// Package bus is StreamForge's Kafka layer: connection settings from the
// environment (the way a Strimzi KafkaUser secret and cluster CA are
// consumed), an idempotent, pipelining producer that surfaces every delivery
// error (github.com/twmb/franz-go), and, on github.com/segmentio/kafka-go, a
// consumer-group reader that commits an offset only after its handler
// succeeded, topic creation and a fast connectivity check.
package bus

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kgo"
	kplain "github.com/twmb/franz-go/pkg/sasl/plain"
	kscram "github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security protocols, named as in Kafka's security.protocol.
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
)

// SASL mechanisms. SCRAM-SHA-512 is what Strimzi's KafkaUser uses.
const (
	ScramSHA512 = "SCRAM-SHA-512"
	ScramSHA256 = "SCRAM-SHA-256"
	Plain       = "PLAIN"
)

// Config holds the Kafka connection settings shared by every service. Field
// tags give the environment variable names.
type Config struct {
	BootstrapServers string        `envconfig:"KAFKA_BOOTSTRAP_SERVERS" required:"true" desc:"comma-separated host:port list of Kafka brokers"`
	SecurityProtocol string        `envconfig:"KAFKA_SECURITY_PROTOCOL" default:"PLAINTEXT" desc:"PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"`
	SASLMechanism    string        `envconfig:"KAFKA_SASL_MECHANISM" default:"SCRAM-SHA-512" desc:"SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (SASL protocols only)"`
	Username         string        `envconfig:"KAFKA_USERNAME" desc:"SASL user (the KafkaUser name)"`
	Password         string        `envconfig:"KAFKA_PASSWORD" secret:"true" desc:"SASL password (the KafkaUser secret's password key)"`
	PasswordFile     string        `envconfig:"KAFKA_PASSWORD_FILE" desc:"file holding the SASL password, used when KAFKA_PASSWORD is empty (secret volume, Vault CSI)"`
	CAFile           string        `envconfig:"KAFKA_CA_FILE" desc:"PEM CA bundle for TLS (the cluster CA's ca.crt); system roots when empty"`
	CertFile         string        `envconfig:"KAFKA_CERT_FILE" desc:"PEM client certificate for mutual TLS (a TLS KafkaUser's user.crt)"`
	KeyFile          string        `envconfig:"KAFKA_KEY_FILE" desc:"PEM client key for mutual TLS (user.key)"`
	ClientID         string        `envconfig:"KAFKA_CLIENT_ID" desc:"client id sent to the brokers (default: the service name)"`
	DialTimeout      time.Duration `envconfig:"KAFKA_DIAL_TIMEOUT" default:"10s" desc:"connect and authenticate timeout"`

	silence time.Duration // MaxSilence unless set (tests)
}

// Brokers returns the bootstrap servers as a list.
func (c Config) Brokers() []string {
	var out []string
	for _, b := range strings.Split(c.BootstrapServers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

func (c Config) usesSASL() bool {
	return c.SecurityProtocol == SASLPlaintext || c.SecurityProtocol == SASLSSL
}

func (c Config) usesTLS() bool { return c.SecurityProtocol == SSL || c.SecurityProtocol == SASLSSL }

// Validate checks the settings without touching the network. Errors name the
// environment variable at fault.
func (c Config) Validate() error {
	var errs []error
	brokers := c.Brokers()
	if len(brokers) == 0 {
		errs = append(errs, errors.New("KAFKA_BOOTSTRAP_SERVERS: is empty (want host:port[,host:port...])"))
	}
	for _, b := range brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("KAFKA_BOOTSTRAP_SERVERS: %q is not host:port", b))
		}
	}
	switch c.SecurityProtocol {
	case Plaintext, SSL, SASLPlaintext, SASLSSL:
	default:
		errs = append(errs, fmt.Errorf("KAFKA_SECURITY_PROTOCOL: %q is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL", c.SecurityProtocol))
	}
	if c.usesSASL() {
		switch c.SASLMechanism {
		case ScramSHA512, ScramSHA256, Plain:
		default:
			errs = append(errs, fmt.Errorf("KAFKA_SASL_MECHANISM: %q is not one of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN", c.SASLMechanism))
		}
		if c.Username == "" {
			errs = append(errs, fmt.Errorf("KAFKA_USERNAME: is required with KAFKA_SECURITY_PROTOCOL=%s", c.SecurityProtocol))
		}
		if c.Password == "" && c.PasswordFile == "" {
			errs = append(errs, fmt.Errorf("KAFKA_PASSWORD: is required with KAFKA_SECURITY_PROTOCOL=%s (or set KAFKA_PASSWORD_FILE)", c.SecurityProtocol))
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, errors.New("KAFKA_CERT_FILE and KAFKA_KEY_FILE: set both or neither"))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, fmt.Errorf("KAFKA_DIAL_TIMEOUT: must be positive, got %s", c.DialTimeout))
	}
	return errors.Join(errs...)
}

// password returns the SASL password, from KAFKA_PASSWORD_FILE when
// KAFKA_PASSWORD is empty.
func (c Config) password() (string, error) {
	if c.Password != "" {
		return c.Password, nil
	}
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("KAFKA_PASSWORD_FILE: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// security builds the kafka-go SASL mechanism and the TLS config the
// settings ask for; either may be nil. It reads the password, CA and client
// certificate files.
func (c Config) security() (sasl.Mechanism, *tls.Config, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	var mech sasl.Mechanism
	if c.usesSASL() {
		pass, err := c.password()
		if err != nil {
			return nil, nil, err
		}
		switch c.SASLMechanism {
		case ScramSHA512:
			mech, err = scram.Mechanism(scram.SHA512, c.Username, pass)
		case ScramSHA256:
			mech, err = scram.Mechanism(scram.SHA256, c.Username, pass)
		case Plain:
			mech = plain.Mechanism{Username: c.Username, Password: pass}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("KAFKA_SASL_MECHANISM: %w", err)
		}
	}
	tc, err := c.tlsConfig()
	return mech, tc, err
}

// tlsConfig is the TLS configuration of an SSL protocol (nil otherwise).
func (c Config) tlsConfig() (*tls.Config, error) {
	if !c.usesTLS() {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("KAFKA_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("KAFKA_CA_FILE: %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("KAFKA_CERT_FILE/KAFKA_KEY_FILE: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// clientOpts returns franz-go client options with these settings (used by
// the producer).
func (c Config) clientOpts() ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers()...), kgo.DialTimeout(c.DialTimeout)}
	if c.ClientID != "" {
		opts = append(opts, kgo.ClientID(c.ClientID))
	}
	if c.usesSASL() {
		pass, err := c.password()
		if err != nil {
			return nil, err
		}
		switch c.SASLMechanism {
		case ScramSHA512:
			opts = append(opts, kgo.SASL(kscram.Auth{User: c.Username, Pass: pass}.AsSha512Mechanism()))
		case ScramSHA256:
			opts = append(opts, kgo.SASL(kscram.Auth{User: c.Username, Pass: pass}.AsSha256Mechanism()))
		case Plain:
			opts = append(opts, kgo.SASL(kplain.Auth{User: c.Username, Pass: pass}.AsMechanism()))
		}
	}
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

// dialer returns a kafka-go dialer with these settings (used by readers).
func (c Config) dialer() (*kafka.Dialer, error) {
	mech, tc, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{
		ClientID:      c.ClientID,
		Timeout:       c.DialTimeout,
		DialFunc:      boundedDial(cmp.Or(c.silence, MaxSilence)),
		SASLMechanism: mech,
		TLS:           tc,
	}, nil
}

// transport returns a kafka-go transport with these settings (used by
// admin requests).
func (c Config) transport() (*kafka.Transport, error) {
	mech, tc, err := c.security()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{
		ClientID:    c.ClientID,
		DialTimeout: c.DialTimeout,
		SASL:        mech,
		TLS:         tc,
		// A partition's new leader is learnt within this after a broker
		// died (requests to the old one fail meanwhile and are retried).
		MetadataTTL: 10 * time.Second,
	}, nil
}
