package objstore_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kelseyhightower/envconfig"

	"github.com/streamforge/streamforge/libs/objstore"
)

func TestConfigDefaults(t *testing.T) {
	for _, v := range []string{"MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_BUCKET", "MINIO_USE_SSL",
		"MINIO_REGION", "MINIO_CA_FILE", "MINIO_OPEN_TIMEOUT", "ARTIFACT_DIR"} {
		t.Setenv(v, "") // restored when the test ends
		os.Unsetenv(v)
	}
	var got objstore.Config
	if err := envconfig.Process("", &got); err != nil {
		t.Fatal(err)
	}
	want := objstore.Config{Bucket: "streamforge", OpenTimeout: 10 * time.Second, ArtifactDir: "./data/artifacts"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil || got.Backend() != "local" {
		t.Errorf("defaults: Validate() = %v, Backend() = %q; want nil, local", err, got.Backend())
	}

	t.Setenv("MINIO_ENDPOINT", "minio.minio:9000")
	t.Setenv("MINIO_USE_SSL", "true")
	if err := envconfig.Process("", &got); err != nil {
		t.Fatal(err)
	}
	if !got.UseSSL || got.Backend() != "s3" {
		t.Errorf("MINIO_USE_SSL=true, MINIO_ENDPOINT set: UseSSL %t, Backend %q", got.UseSSL, got.Backend())
	}
}

func TestConfigValidate(t *testing.T) {
	s3 := func(mod func(c *objstore.Config)) objstore.Config {
		c := objstore.Config{Endpoint: "minio:9000", AccessKey: "ak", SecretKey: "sk", Bucket: "models", OpenTimeout: time.Second}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	tests := []struct {
		name string
		cfg  objstore.Config
		want string // "" for valid; else the start of the message
	}{
		{"local", objstore.Config{ArtifactDir: "/data"}, ""},
		{"local without dir", objstore.Config{}, "ARTIFACT_DIR: is empty"},
		{"s3", s3(nil), ""},
		{"s3 host only", s3(func(c *objstore.Config) { c.Endpoint = "s3.amazonaws.com" }), ""},
		{"s3 ipv6", s3(func(c *objstore.Config) { c.Endpoint = "[::1]:9000" }), ""},
		{"s3 https with CA", s3(func(c *objstore.Config) { c.UseSSL, c.CAFile = true, "/ca.crt" }), ""},
		{"scheme", s3(func(c *objstore.Config) { c.Endpoint = "http://minio:9000" }), "MINIO_ENDPOINT: \"http://minio:9000\" has a scheme"},
		{"path", s3(func(c *objstore.Config) { c.Endpoint = "minio:9000/bucket" }), "MINIO_ENDPOINT:"},
		{"bad port", s3(func(c *objstore.Config) { c.Endpoint = "minio:" }), "MINIO_ENDPOINT:"},
		{"no access key", s3(func(c *objstore.Config) { c.AccessKey = "" }), "MINIO_ACCESS_KEY: is required"},
		{"no secret key", s3(func(c *objstore.Config) { c.SecretKey = "" }), "MINIO_SECRET_KEY: is required"},
		{"no bucket", s3(func(c *objstore.Config) { c.Bucket = "" }), "MINIO_BUCKET:"},
		{"upper-case bucket", s3(func(c *objstore.Config) { c.Bucket = "Models" }), "MINIO_BUCKET:"},
		{"bucket with underscore", s3(func(c *objstore.Config) { c.Bucket = "my_models" }), "MINIO_BUCKET:"},
		{"bucket ends with dash", s3(func(c *objstore.Config) { c.Bucket = "models-" }), "MINIO_BUCKET:"},
		{"bucket is an IP", s3(func(c *objstore.Config) { c.Bucket = "10.0.0.1" }), "MINIO_BUCKET:"},
		{"CA without TLS", s3(func(c *objstore.Config) { c.CAFile = "/ca.crt" }), "MINIO_CA_FILE:"},
		{"zero timeout", s3(func(c *objstore.Config) { c.OpenTimeout = 0 }), "MINIO_OPEN_TIMEOUT:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error starting %q", err, tt.want)
			}
		})
	}
}
