package s3

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/objstore"
)

func testConfig(endpoint string) objstore.Config {
	return objstore.Config{
		Endpoint: endpoint, AccessKey: "ak", SecretKey: "sk", Bucket: "streamforge-test",
		OpenTimeout: 5 * time.Second,
	}
}

// TestOpenUnreachable: nothing listens on the port; Open fails within
// about a second (openRetries), naming MINIO_ENDPOINT.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // a port that was just free: connections are refused

	start := time.Now()
	_, err = Open(t.Context(), testConfig(addr))
	took := time.Since(start)
	if err == nil {
		t.Fatal("Open of an unreachable endpoint succeeded")
	}
	if !strings.Contains(err.Error(), "MINIO_ENDPOINT") || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error %q does not say MINIO_ENDPOINT is unreachable", err)
	}
	if took > 3*time.Second {
		t.Errorf("Open took %s to fail, want about a second", took)
	}
}

// TestOpenTimeout: the server accepts connections and never answers; Open
// gives up after MINIO_OPEN_TIMEOUT.
func TestOpenTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	cfg := testConfig(strings.TrimPrefix(srv.URL, "http://"))
	cfg.OpenTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := Open(t.Context(), cfg)
	took := time.Since(start)
	if err == nil {
		t.Fatal("Open of a silent server succeeded")
	}
	if !strings.Contains(err.Error(), "MINIO_OPEN_TIMEOUT") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not report the MINIO_OPEN_TIMEOUT deadline", err)
	}
	if took > 2*time.Second {
		t.Errorf("Open took %s, want about %s", took, cfg.OpenTimeout)
	}
}

// TestOpenAccessDenied: a server that answers 403 with no body (as to a
// HEAD request) gets an error naming the variables to check.
func TestOpenAccessDenied(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	_, err := Open(t.Context(), testConfig(strings.TrimPrefix(srv.URL, "http://")))
	if err == nil {
		t.Fatal("Open succeeded against a server that denies everything")
	}
	for _, v := range []string{"MINIO_ACCESS_KEY", "MINIO_BUCKET"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name %s", err, v)
		}
	}
}

func TestOpenSettings(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  func(c *objstore.Config)
		opts []Option
		want string
	}{
		{"no endpoint", func(c *objstore.Config) { c.Endpoint = "" }, nil, "MINIO_ENDPOINT: is empty"},
		{"invalid config", func(c *objstore.Config) { c.Bucket = "Bad_Bucket" }, nil, "MINIO_BUCKET"},
		{"missing CA file", func(c *objstore.Config) { c.UseSSL, c.CAFile = true, filepath.Join(dir, "nope.pem") }, nil, "MINIO_CA_FILE"},
		{"CA file without PEM", func(c *objstore.Config) { c.UseSSL, c.CAFile = true, notPEM }, nil, "holds no PEM certificate"},
		{"part size too small", nil, []Option{WithPartSize(1 << 20)}, "below S3's minimum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("127.0.0.1:9")
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			_, err := Open(t.Context(), cfg, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLocation(t *testing.T) {
	s := &Store{bucket: "models"}
	if got, want := s.Location("gnn/v1/weights.bin"), "s3://models/gnn/v1/weights.bin"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}
