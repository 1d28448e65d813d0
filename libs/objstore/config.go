package objstore

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Config selects and configures the object store from the environment: S3
// (MinIO or any S3-compatible server) when MINIO_ENDPOINT is set, else the
// local directory ARTIFACT_DIR.
type Config struct {
	Endpoint    string        `envconfig:"MINIO_ENDPOINT" desc:"S3/MinIO host[:port], no scheme (e.g. minio.minio:9000); empty uses the local directory ARTIFACT_DIR"`
	AccessKey   string        `envconfig:"MINIO_ACCESS_KEY" desc:"S3 access key id"`
	SecretKey   string        `envconfig:"MINIO_SECRET_KEY" secret:"true" desc:"S3 secret access key"`
	Bucket      string        `envconfig:"MINIO_BUCKET" default:"streamforge" desc:"S3 bucket; created at start when missing"`
	UseSSL      bool          `envconfig:"MINIO_USE_SSL" default:"false" desc:"talk https to MINIO_ENDPOINT"`
	Region      string        `envconfig:"MINIO_REGION" desc:"S3 region; empty asks the server (MinIO: us-east-1)"`
	CAFile      string        `envconfig:"MINIO_CA_FILE" desc:"PEM CA bundle trusted for https, added to the system roots (a private CA)"`
	OpenTimeout time.Duration `envconfig:"MINIO_OPEN_TIMEOUT" default:"10s" desc:"how long the start-up check (reach the server, check credentials, create the bucket) may take"`
	ArtifactDir string        `envconfig:"ARTIFACT_DIR" default:"./data/artifacts" desc:"the local artifact directory (used when MINIO_ENDPOINT is empty)"`
}

// Backend names the adapter the settings select: "s3" or "local".
func (c Config) Backend() string {
	if c.Endpoint != "" {
		return "s3"
	}
	return "local"
}

// Validate checks the settings without touching the network or the disk.
// It reports every problem (errors.Join), each naming the environment
// variable at fault.
func (c Config) Validate() error {
	if c.Endpoint == "" {
		if strings.TrimSpace(c.ArtifactDir) == "" {
			return errors.New("ARTIFACT_DIR: is empty (set it, or MINIO_ENDPOINT for S3)")
		}
		return nil
	}
	errs := []error{checkEndpoint(c.Endpoint)}
	if c.AccessKey == "" {
		errs = append(errs, errors.New("MINIO_ACCESS_KEY: is required with MINIO_ENDPOINT"))
	}
	if c.SecretKey == "" {
		errs = append(errs, errors.New("MINIO_SECRET_KEY: is required with MINIO_ENDPOINT"))
	}
	errs = append(errs, checkBucket(c.Bucket))
	if c.CAFile != "" && !c.UseSSL {
		errs = append(errs, errors.New("MINIO_CA_FILE: is set but MINIO_USE_SSL is false (the CA is only used for https)"))
	}
	if c.OpenTimeout <= 0 {
		errs = append(errs, fmt.Errorf("MINIO_OPEN_TIMEOUT: must be positive, got %s", c.OpenTimeout))
	}
	return errors.Join(errs...)
}

func checkEndpoint(e string) error {
	if i := strings.Index(e, "://"); i >= 0 {
		return fmt.Errorf("MINIO_ENDPOINT: %q has a scheme: want host[:port] (set MINIO_USE_SSL=true for https)", e)
	}
	if strings.ContainsAny(e, "/?# ") {
		return fmt.Errorf("MINIO_ENDPOINT: %q is not host[:port] (no path, query or spaces)", e)
	}
	if strings.Contains(e, ":") {
		if _, port, err := net.SplitHostPort(e); err != nil || port == "" {
			return fmt.Errorf("MINIO_ENDPOINT: %q is not host[:port]", e)
		}
	}
	return nil
}

// checkBucket applies S3's bucket naming rules (which MinIO enforces too):
// 3-63 characters of lower-case letters, digits, '.' and '-', starting and
// ending with a letter or digit, no "..", not an IP address.
func checkBucket(b string) error {
	bad := func(why string) error { return fmt.Errorf("MINIO_BUCKET: %q %s", b, why) }
	if len(b) < 3 || len(b) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may only hold lower-case letters, digits, '.' and '-'")
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return bad("must start and end with a letter or digit")
	}
	if strings.Contains(b, "..") || strings.Contains(b, ".-") || strings.Contains(b, "-.") {
		return bad(`may not contain "..", ".-" or "-."`)
	}
	if net.ParseIP(b) != nil {
		return bad("may not be an IP address")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
