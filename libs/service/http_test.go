package service_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/streamforge/streamforge/libs/service"
	"github.com/streamforge/streamforge/libs/testkit"
)

// A URL setting's password never reaches the log.
func TestEffectiveMasksCredentialsInURLs(t *testing.T) {
	cfg := struct {
		service.Common
		URL string `envconfig:"TEST_URL"`
	}{URL: "http://root:hunter2@arango-0:8529,http://root:hunter2@arango-1:8529"}
	got := service.Effective(&cfg)["TEST_URL"]
	if want := "http://root:*****@arango-0:8529,http://root:*****@arango-1:8529"; got != want {
		t.Errorf("TEST_URL: got %q, want %q", got, want)
	}
}

// With METRICS_ADDR, /metrics has a listener of its own and is gone from
// HTTP_ADDR's (where an API may ask for tokens).
func TestMetricsOnTheirOwnListener(t *testing.T) {
	t.Setenv("HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("METRICS_ADDR", "127.0.0.1:0")
	t.Setenv("TEST_BROKERS", "k:9092")
	var stderr testkit.Buffer
	var cfg testConfig
	code := service.Main(context.Background(), service.Options{Name: "svc", Config: &cfg, Stderr: &stderr, Stdout: io.Discard},
		func(ctx context.Context, rt *service.Runtime) error {
			if rt.MetricsAddr() == nil {
				t.Fatal("MetricsAddr: nil with METRICS_ADDR set")
			}
			if c, body := get(t, "http://"+rt.MetricsAddr().String()+"/metrics"); c != 200 || !strings.Contains(body, "streamforge_build_info") {
				t.Errorf("METRICS_ADDR /metrics: %d", c)
			}
			if c, _ := get(t, "http://"+rt.Addr().String()+"/metrics"); c != 404 {
				t.Errorf("HTTP_ADDR /metrics: %d, want 404", c)
			}
			if c, _ := get(t, "http://"+rt.Addr().String()+"/healthz"); c != 200 {
				t.Errorf("HTTP_ADDR /healthz: %d", c)
			}
			return nil
		})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// A client that announces a body and then sends nothing is cut off after
// HTTP_READ_TIMEOUT instead of holding a connection for ever.
func TestSilentClientIsCutOff(t *testing.T) {
	t.Setenv("HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("HTTP_READ_TIMEOUT", "100ms")
	t.Setenv("TEST_BROKERS", "k:9092")
	var stderr testkit.Buffer
	var cfg testConfig
	code := service.Main(context.Background(), service.Options{Name: "svc", Config: &cfg, Stderr: &stderr, Stdout: io.Discard},
		func(ctx context.Context, rt *service.Runtime) error {
			conn, err := net.Dial("tcp", rt.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The headers, then silence instead of the body.
			if _, err := io.WriteString(conn, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // the test's own bound, far above the server's
			_, err = io.ReadAll(conn)                                  // returns once the server closes
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("the server kept a silent connection open: %v", err)
			}
			return nil
		})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestTimeoutsMustBePositive(t *testing.T) {
	c := service.Common{LogLevel: "info", ShutdownTimeout: time.Second, ReadTimeout: 0, WriteTimeout: time.Second, IdleTimeout: -time.Second}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "HTTP_READ_TIMEOUT") || !strings.Contains(err.Error(), "HTTP_IDLE_TIMEOUT") {
		t.Errorf("Validate: %v, want HTTP_READ_TIMEOUT and HTTP_IDLE_TIMEOUT named", err)
	}
}
